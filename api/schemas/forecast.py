"""Schemas of ``POST /v1/forecast``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from api.schemas.common import (
    NO_NUL_PATTERN,
    TIMESTAMP_HELP,
    LaxTimestamp,
    Schema,
    timestamps_in_range,
)
from api.schemas.datasets import (
    UNIQUE_ID_HELP,
    CovariateCell,
    CovariateLabel,
    FiniteFloat,
    UniqueId,
)
from api.schemas.models import MAX_HORIZON, Name
from forecaster import ForecastConfig
from models.names import REFERENCE_PATTERN_TEXT
from models.settings import MAX_WAIT_SECONDS

MODEL_REF_PATTERN = REFERENCE_PATTERN_TEXT
Quantile = Annotated[float, Field(gt=0.0, lt=1.0)]


ColumnName = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]
CovariateColumns = dict[ColumnName, list[CovariateCell]]


class SeriesIn(Schema):
    """One series' history: timestamps and values of equal length, oldest first; with a model
    trained on covariates, their values too."""

    unique_id: UniqueId = Field(description=UNIQUE_ID_HELP)
    # The range is checked once per list (timestamps_in_range), not by a call per timestamp.
    ds: Annotated[list[LaxTimestamp], AfterValidator(timestamps_in_range)] = Field(
        min_length=1, description=TIMESTAMP_HELP
    )
    y: list[FiniteFloat] = Field(min_length=1, description="Values, one per timestamp.")
    covariates: CovariateColumns | None = Field(
        default=None,
        max_length=100,
        description="Covariates over the history: column -> one value per ds (the model's "
        "future-known and past-only columns; numbers, or labels for categorical ones).",
    )
    future: CovariateColumns | None = Field(
        default=None,
        max_length=100,
        description="Future-known covariates over the horizon: column -> one value per "
        "horizon step (the steps after the last ds, on the model's frequency).",
    )
    static: dict[ColumnName, bool | FiniteFloat | CovariateLabel] | None = Field(
        default=None, max_length=100, description="Static covariates: column -> the series' value."
    )

    @model_validator(mode="after")
    def _same_length(self) -> SeriesIn:
        if len(self.ds) != len(self.y):
            raise ValueError(f"ds has {len(self.ds)} values but y has {len(self.y)}")
        for name, values in (self.covariates or {}).items():
            if len(values) != len(self.ds):
                raise ValueError(_count_reason(self, name, len(values)))
        return self

    @property
    def has_covariates(self) -> bool:
        """Whether the series carries any covariate."""
        return bool(self.covariates or self.future or self.static)


def _count_reason(series: SeriesIn, name: str, count: int) -> str:
    """Too few or too many history values of a covariate, naming the first bad timestamp."""
    first = series.ds[min(count, len(series.ds) - 1)].isoformat()
    what = f"no value at {first}" if count < len(series.ds) else f"a value beyond {first}"
    return (
        f"series {series.unique_id!r}, column {name!r}: {count} values for {len(series.ds)} "
        f"timestamps ({what}); give one per ds"
    )


class ForecastRequest(Schema):
    """Forecast with a stored model (``model``) or train on the posted series (no ``model``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "demand@production",
                    "horizon": 24,
                    "dataset": "demand",
                    "unique_ids": ["store-1"],
                },
                {
                    "model": "demand@1",
                    "horizon": 2,
                    "series": [
                        {
                            "unique_id": "new-store",
                            "ds": ["2026-03-01T00:00:00Z", "2026-03-01T01:00:00Z"],
                            "y": [93.1, 95.4],
                        }
                    ],
                },
                {
                    "model": "promo-demand@production",
                    "horizon": 2,
                    "series": [
                        {
                            "unique_id": "store-9",
                            "ds": ["2026-03-01T00:00:00Z", "2026-03-01T01:00:00Z"],
                            "y": [93.1, 95.4],
                            "covariates": {"promo": [0, 0], "price": [2.5, 2.5]},
                            "future": {"promo": [1, 0], "price": [1.99, 2.5]},
                            "static": {"region": "north"},
                        }
                    ],
                },
                {
                    "model": "promo-demand@production",
                    "horizon": 2,
                    "dataset": "demand",
                    "unique_ids": ["store-1"],
                    "future": {"store-1": {"promo": [1, 1], "price": [1.99, 1.99]}},
                },
            ]
        }
    )

    model: str | None = Field(
        default=None,
        pattern=MODEL_REF_PATTERN,
        description='"name" (latest version), "name@3" (a version) or "name@production" (alias).',
    )
    horizon: int = Field(ge=1, le=MAX_HORIZON, description="Steps ahead to forecast.")
    series: list[SeriesIn] | None = Field(
        default=None, min_length=1, max_length=100_000, description="Posted history."
    )
    dataset: Name | None = Field(default=None, description="Forecast from a stored dataset.")
    future: dict[UniqueId, CovariateColumns] | None = Field(
        default=None,
        max_length=100_000,
        description="With dataset alone: future-known covariates per series (unique_id -> "
        "column -> one value per horizon step), used instead of the dataset's future rows.",
    )
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
    freq: str | None = Field(
        default=None, min_length=1, max_length=32, description="Pandas offset alias; inferred."
    )
    config: ForecastConfig | None = Field(
        default=None, description="Hyperparameters when training on the posted series."
    )
    # --- without a model (instant forecasts): deadline, waiting for the job, keeping the net ---
    deadline_s: float | None = Field(
        default=None,
        gt=0,
        le=MAX_WAIT_SECONDS,
        description=(
            "Without a model: answer by then; when the network is not ready the baseline answers "
            "(200, fallback reason deadline). Default: the server's forecast_deadline_seconds; "
            "above its forecast_wait_seconds a 422."
        ),
    )
    wait_seconds: float | None = Field(
        default=None,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description=(
            "Without a model: wait this long for the job instead of a deadline, then 202 with "
            "the job's URL (above the server's forecast_wait_seconds a 422)."
        ),
    )
    save_as: Name | None = Field(
        default=None,
        description="Without a model: register the network trained for this request as a "
        "version of this model, so the next forecast with it is instant.",
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
        self._check_instant_fields()
        if self.series is not None and len({s.unique_id for s in self.series}) != len(self.series):
            raise ValueError("series unique_id values must be distinct")
        if self.future is not None and (self.dataset is None or self.series is not None):
            raise ValueError("future applies to a dataset forecast; a posted series has its own")
        return self

    def _check_instant_fields(self) -> None:
        if self.model is not None and (self.deadline_s is not None or self.save_as is not None):
            raise ValueError("deadline_s and save_as apply only without a model")
        if self.deadline_s is not None and self.wait_seconds is not None:
            raise ValueError(
                "give either deadline_s (baseline when late) or wait_seconds, not both"
            )


def _check_scored_against(body: ForecastRequest) -> None:
    """Posted series with a dataset: a stored-model forecast scored against that dataset."""
    assert body.series is not None
    if body.model is None:
        raise ValueError("give either series or dataset, not both, when training (no model)")
    if body.unique_ids is not None and len(body.unique_ids) != len(body.series):
        raise ValueError("unique_ids must name one dataset series per posted series")


class ModelRef(Schema):
    """The model version that produced a forecast (with its artifact digest when stored)."""

    name: str = Field(description="Model name.")
    version: int = Field(description="Version number.")
    artifact_sha256: str | None = Field(
        default=None, description="sha256 of the stored artifact that forecast."
    )


class SeriesForecast(Schema):
    """Forecasts of one series: timestamps, point forecast (mean) and quantiles."""

    unique_id: str = Field(description=UNIQUE_ID_HELP)
    ds: list[str] = Field(description="Forecast timestamps (ISO 8601, UTC).")
    mean: list[float] = Field(description="Point forecast (the median), one per timestamp.")
    quantiles: dict[str, list[float]] = Field(
        description='Quantile level ("0.1") -> values, one per timestamp.'
    )


class Fallback(Schema):
    """Why a baseline answered instead of the network."""

    method: Literal["seasonal_naive", "naive"] = Field(description="The baseline that answered.")
    reason: Literal["lost_to_baseline", "deadline"] = Field(
        description="lost_to_baseline: the network lost on the held-out window; deadline: "
        "the network was not ready in time."
    )


class ForecastOut(Schema):
    """The forecast answer. Without a model (a direct 200, a job's result or a fallback, all the
    same shape): ``method``, ``fallback`` when a baseline replaced the network, ``held_out``
    (the network's and the baseline's scores on each series' last horizon, held out of
    training) and ``model`` when ``save_as`` kept the network."""

    model: ModelRef | None = Field(default=None, description="The version that forecast.")
    job_id: int | None = Field(
        default=None, description="Without a model: the job that trained on the series."
    )
    method: Literal["network", "seasonal_naive", "naive"] | None = Field(
        default=None,
        description="Without a model: what produced the forecast (the network or a baseline).",
    )
    fallback: Fallback | None = Field(
        default=None, description="Without a model: why a baseline replaced the network."
    )
    held_out: dict[str, Any] | None = Field(
        default=None,
        description="Without a model: the network and the baseline scored on the held-out window.",
    )
    forecast_id: str | None = Field(default=None, description="Id in the forecast log.")
    input_sha256: str | None = Field(
        default=None, description="sha256 of the history the network used and the request."
    )
    created_at: datetime | None = Field(
        default=None, description="When the forecast was made (UTC)."
    )
    forecasts: list[SeriesForecast] = Field(description="One entry per series.")
