"""Schemas of ``POST /v1/forecast``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from api.schemas.common import TIMESTAMP_HELP, Schema, Timestamp
from api.schemas.datasets import FiniteFloat, UniqueId
from api.schemas.models import MAX_HORIZON, Name
from forecaster import ForecastConfig
from models.names import REFERENCE_PATTERN_TEXT

MODEL_REF_PATTERN = REFERENCE_PATTERN_TEXT
Quantile = Annotated[float, Field(gt=0.0, lt=1.0)]


class SeriesIn(Schema):
    """One series' history: timestamps and values of equal length, oldest first."""

    unique_id: UniqueId
    ds: list[Timestamp] = Field(min_length=1, description=TIMESTAMP_HELP)
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
    unique_ids: list[UniqueId] | None = Field(default=None, min_length=1, max_length=100_000)
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
            raise ValueError("give either series or dataset, not both")
        if self.model is None and self.series is None:
            raise ValueError("without a model, post the series to train on")
        if self.model is not None and self.config is not None:
            raise ValueError("config applies only when training on the posted series (no model)")
        if self.series is not None and len({s.unique_id for s in self.series}) != len(self.series):
            raise ValueError("series unique_id values must be distinct")
        return self


class ModelRef(Schema):
    """The model version that produced a forecast."""

    name: str
    version: int


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
    forecasts: list[SeriesForecast]
