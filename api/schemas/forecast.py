"""Schemas of ``POST /v1/forecast``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator

from api.schemas.common import Schema
from api.schemas.datasets import FiniteFloat, UniqueId
from api.schemas.models import MAX_HORIZON, Name
from forecaster import ForecastConfig

MODEL_REF_PATTERN = (
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}(@([0-9]{1,9}|[A-Za-z][A-Za-z0-9_-]{0,63}))?$"
)
Quantile = Annotated[float, Field(gt=0.0, lt=1.0)]


class SeriesIn(Schema):
    """One series' history: timestamps and values of equal length, oldest first."""

    unique_id: UniqueId
    ds: list[datetime] = Field(min_length=1, description="ISO 8601 timestamps (UTC if no offset).")
    y: list[FiniteFloat] = Field(min_length=1)

    @model_validator(mode="after")
    def _same_length(self) -> SeriesIn:
        if len(self.ds) != len(self.y):
            raise ValueError(f"ds has {len(self.ds)} values but y has {len(self.y)}")
        return self


class ForecastRequest(Schema):
    """Forecast with a stored model (``model``) or train on the posted series (no ``model``)."""

    model: str | None = Field(
        default=None,
        pattern=MODEL_REF_PATTERN,
        description='"name" (latest version), "name@3" (a version) or "name@production" (alias).',
    )
    horizon: int = Field(ge=1, le=MAX_HORIZON)
    series: list[SeriesIn] | None = Field(default=None, min_length=1, max_length=100_000)
    dataset: Name | None = Field(default=None, description="Forecast from a stored dataset.")
    unique_ids: list[UniqueId] | None = Field(
        default=None,
        min_length=1,
        max_length=100_000,
        description=(
            "With dataset alone: the series to forecast. With posted series and dataset: the "
            "dataset series each posted series is scored against, in order."
        ),
    )
    quantiles: list[Quantile] | None = Field(
        default=None, min_length=1, max_length=20, description="Quantiles to return."
    )
    freq: str | None = Field(default=None, min_length=1, max_length=32)
    config: ForecastConfig | None = Field(
        default=None, description="Hyperparameters when training on the posted series."
    )
    wait_seconds: float | None = Field(
        default=None, ge=0, le=3600, description="Without a model: how long to wait for the job."
    )

    @model_validator(mode="after")
    def _one_source(self) -> ForecastRequest:
        if self.series is None and self.dataset is None:
            raise ValueError("give the history: either series or dataset")
        if self.series is not None and self.dataset is not None:
            _check_scored_against(self)
        if self.model is None and self.series is None:
            raise ValueError("without a model, post the series to train on")
        if self.model is not None and self.config is not None:
            raise ValueError("config applies only when training on the posted series (no model)")
        if self.series is not None and len({s.unique_id for s in self.series}) != len(self.series):
            raise ValueError("series unique_id values must be distinct")
        return self


def _check_scored_against(body: ForecastRequest) -> None:
    """Posted series with a dataset: a stored-model forecast scored against that dataset."""
    assert body.series is not None
    if body.model is None:
        raise ValueError("give either series or dataset, not both, when training (no model)")
    if body.unique_ids is not None and len(body.unique_ids) != len(body.series):
        raise ValueError("unique_ids must name one dataset series per posted series")


class ModelRef(Schema):
    """The model version that produced a forecast (with its artifact digest when stored)."""

    name: str
    version: int
    artifact_sha256: str | None = None


class SeriesForecast(Schema):
    """Forecasts of one series: timestamps, point forecast (mean) and quantiles."""

    unique_id: str
    ds: list[str]
    mean: list[float]
    quantiles: dict[str, list[float]]


class ForecastOut(Schema):
    """The forecast answer."""

    model: ModelRef | None = None
    job_id: int | None = None
    forecast_id: str | None = Field(default=None, description="Id in the forecast log.")
    input_sha256: str | None = Field(
        default=None, description="sha256 of the history the network used and the request."
    )
    created_at: datetime | None = None
    forecasts: list[SeriesForecast]
