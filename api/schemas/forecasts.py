"""Schemas of the forecast log (``/v1/forecasts``) and of live accuracy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from api.schemas.common import Schema
from api.schemas.forecast import SeriesForecast


class LoggedModel(Schema):
    """The version that produced a forecast, with its artifact's digest."""

    name: str
    version: int
    artifact_sha256: str


class ForecastSummary(Schema):
    """A logged forecast without its values."""

    forecast_id: str
    model: LoggedModel
    input_sha256: str = Field(description="sha256 of the history the network used and the request.")
    created_at: datetime
    horizon: int
    dataset: str | None
    series: int
    request: dict[str, Any]


class LoggedForecastOut(ForecastSummary):
    """A logged forecast with its answer (every quantile the model produced)."""

    forecasts: list[SeriesForecast]


class ReplayOut(Schema):
    """A logged forecast recomputed from its logged input with its logged artifact."""

    forecast_id: str
    model: LoggedModel
    identical: bool = Field(description="Bitwise equal to the logged answer.")
    max_abs_diff: float = Field(description="Largest absolute difference from the logged answer.")
    forecasts: list[SeriesForecast]


class Figures(Schema):
    """Point and interval accuracy: MASE, sMAPE (percent) and coverage of central intervals."""

    mase: float | None
    smape: float | None
    coverage: dict[str, float | None]


class DayFigures(Figures):
    """The figures of the actuals of one UTC day."""

    day: str
    points: int


class AccuracyOut(Schema):
    """Live accuracy of a version beside its backtest, and the drift flag."""

    model: str
    version: int
    points: int
    live: Figures
    backtest: Figures
    drift: bool
    by_day: list[DayFigures]
