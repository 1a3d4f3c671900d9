"""Schemas of the forecast log (``/v1/forecasts``) and of live accuracy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from api.schemas.common import Schema
from api.schemas.forecast import SeriesForecast


class LoggedModel(Schema):
    """The version that produced a forecast, with its artifact's digest."""

    name: str = Field(description="Model name.")
    version: int = Field(description="Version number.")
    artifact_sha256: str = Field(description="sha256 of the artifact that forecast.")


class ForecastSummary(Schema):
    """A logged forecast without its values."""

    forecast_id: str = Field(description="The forecast's id (UUID).")
    model: LoggedModel = Field(description="The version that forecast.")
    input_sha256: str = Field(description="sha256 of the history the network used and the request.")
    created_at: datetime = Field(description="When the forecast was made (UTC).")
    horizon: int = Field(description="Steps forecast.")
    dataset: str | None = Field(description="The dataset forecast from or scored against.")
    series: int = Field(description="Series forecast.")
    request: dict[str, Any] = Field(description="The request, without the posted history.")


class LoggedForecastOut(ForecastSummary):
    """A logged forecast with its answer (every quantile the model produced)."""

    forecasts: list[SeriesForecast] = Field(description="The logged answer, one per series.")


class ReplayOut(Schema):
    """A logged forecast recomputed from its logged input with its logged artifact."""

    forecast_id: str = Field(description="The replayed forecast's id.")
    model: LoggedModel = Field(description="The logged version, replayed.")
    identical: bool = Field(description="Bitwise equal to the logged answer.")
    max_abs_diff: float = Field(description="Largest absolute difference from the logged answer.")
    forecasts: list[SeriesForecast] = Field(description="The recomputed answer.")


class Figures(Schema):
    """Point and interval accuracy: MASE, sMAPE (percent) and coverage of central intervals."""

    mase: float | None = Field(description="MASE, scaled as M4 does (null: no points).")
    smape: float | None = Field(description="sMAPE in percent.")
    coverage: dict[str, float | None] = Field(description="Share inside each central interval.")


class DayFigures(Figures):
    """The figures of the actuals of one UTC day."""

    day: str = Field(description="The UTC day of the actuals (YYYY-MM-DD).")
    points: int = Field(description="Points scored that day.")


class AccuracyOut(Schema):
    """Live accuracy of a version beside its backtest, and the drift flag."""

    model: str = Field(description="Model name.")
    version: int = Field(description="The version scored.")
    points: int = Field(description="Forecast points that now have actuals.")
    live: Figures = Field(description="Live accuracy against the actuals.")
    backtest: Figures = Field(description="The version's held-out backtest: the expectation.")
    drift: bool = Field(
        description="Live MASE over the last FORECASTER_DRIFT_WINDOW forecasts exceeds the "
        "backtest MASE by FORECASTER_DRIFT_RATIO."
    )
    by_day: list[DayFigures] = Field(description="The live figures per UTC day.")
