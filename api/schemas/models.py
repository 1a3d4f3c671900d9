"""Schemas of registered models, their versions, aliases and training requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator

from api.schemas.common import NO_NUL_PATTERN, Schema
from forecaster import ForecastConfig
from forecaster.covariates import CovariateSpec
from models.job_specs import (
    MAX_HORIZON,
    CovariateColumns,
    Name,
    PromoteSpec,
    Tags,
    TrainJobSpec,
)

MAX_BACKTEST_WINDOWS = 20

__all__ = ["MAX_HORIZON", "Name", "PromoteSpec", "TrainSpec"]


ColumnName = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]


class CovariatesIn(Schema):
    """Which columns of the dataset the model reads besides ``y``, and how. A column named
    here must be in the dataset; the spec itself is checked by the core (no column twice,
    ``categorical`` only among the others)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "future": ["promo", "price"],
                    "past": ["temperature"],
                    "static": ["region"],
                    "categorical": ["region"],
                }
            ]
        }
    )

    future: list[ColumnName] = Field(
        default_factory=list,
        max_length=100,
        description="Future-known columns (price, promotion, a weather forecast): known over "
        "the history and the horizon; a forecast takes the horizon's values from the dataset's "
        "future rows or from the request.",
    )
    past: list[ColumnName] = Field(
        default_factory=list,
        max_length=100,
        description="Past-only columns: observed up to the forecast origin.",
    )
    static: list[ColumnName] = Field(
        default_factory=list,
        max_length=100,
        description="Columns constant within each series (store, region, category).",
    )
    categorical: list[ColumnName] = Field(
        default_factory=list,
        max_length=100,
        description="Which of the columns above hold categories (learned embeddings); the "
        "others are numeric. A column of text must be listed here.",
    )

    @model_validator(mode="after")
    def _core_checks(self) -> CovariatesIn:
        self.to_core()  # a ValueError names the problem (a 422 at body.covariates)
        return self

    def to_core(self) -> CovariateSpec:
        """The core's spec."""
        return CovariateSpec(**self.model_dump())

    def to_job(self) -> CovariateColumns:
        """The job spec's copy."""
        return CovariateColumns(**self.model_dump())


class TrainSpec(Schema):
    """The body of ``POST /v1/models/{model}/train`` (and a schedule's ``train``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dataset": "demand",
                    "horizon": 24,
                    "config": {"epochs": 15, "ensemble": 1},
                    "promote": {"alias": "production", "policy": "if_better", "metric": "mase"},
                },
                {
                    "dataset": "demand",
                    "horizon": 14,
                    "covariates": {
                        "future": ["promo", "price"],
                        "static": ["region"],
                        "categorical": ["region"],
                    },
                    "config": {
                        "holidays": {"country": "DE", "subdiv": "BY", "timezone": "Europe/Berlin"}
                    },
                },
            ]
        }
    )

    dataset: Name = Field(description="The dataset to train on.")
    horizon: int = Field(ge=1, le=MAX_HORIZON, description="Steps ahead the model forecasts.")
    freq: str | None = Field(
        default=None, min_length=1, max_length=32, description="Pandas offset alias; inferred."
    )
    unique_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, min_length=1, max_length=100_000, description="Train on these series only."
    )
    config: ForecastConfig | None = Field(
        default=None, description="Hyperparameters of the core (defaults where left out)."
    )
    covariates: CovariatesIn | None = Field(
        default=None,
        description="Dataset columns the model reads besides y: future-known, past-only and "
        "static ones (none: the target and calendar alone, as before).",
    )
    promote: PromoteSpec | None = Field(
        default=None, description="Move an alias to the new version (by a policy)."
    )
    description: str | None = Field(
        default=None, max_length=2000, description="Free text kept with the version."
    )
    tags: Tags | None = Field(
        default=None, max_length=50, description="Key-value labels kept with the version."
    )

    def to_job_spec(self) -> TrainJobSpec:
        """The job's typed spec (only the config fields the caller set)."""
        config = self.config.model_dump(mode="json", exclude_unset=True) if self.config else None
        own = set(TrainJobSpec.model_fields) - {"config", "covariates"}
        return TrainJobSpec(
            **{name: getattr(self, name) for name in own},
            config=config,
            covariates=self.covariates.to_job() if self.covariates else None,
        )


class ModelOut(Schema):
    """A registered model."""

    name: str = Field(description="Model name.")
    description: str | None = Field(default=None, description="Free text.")
    created_at: datetime | None = Field(default=None, description="When it was registered.")
    latest_version: int | None = Field(default=None, description="Newest ready version.")
    aliases: dict[str, int] = Field(default_factory=dict, description="Alias -> version number.")


class MetricsOut(Schema):
    """Accuracy over a block of held-out points (null where undefined, e.g. MASE of a flat
    series): MAE, RMSE, sMAPE, MASE and the pinball loss averaged over the quantiles (both
    scaled by each series' in-sample seasonal naive error), MSIS of the widest interval and the
    empirical coverage of every central interval ("0.8", "0.95")."""

    mae: float | None = Field(default=None, description="Mean absolute error.")
    rmse: float | None = Field(default=None, description="Root mean squared error.")
    smape: float | None = Field(default=None, description="Symmetric MAPE, in percent (M4).")
    mase: float | None = Field(
        default=None, description="MAE scaled by the in-sample seasonal naive MAE."
    )
    pinball: float | None = Field(
        default=None, description="Pinball loss averaged over the quantiles, scaled as MASE."
    )
    msis: float | None = Field(default=None, description="Mean scaled interval score (M4).")
    coverage: dict[str, float | None] = Field(
        default_factory=dict, description="Share of actuals inside each central interval."
    )


class BaselinesOut(Schema):
    """The same metrics for the baselines, on the identical windows."""

    seasonal_naive: MetricsOut = Field(description="Seasonal naive on the same points.")
    naive: MetricsOut = Field(description="Naive (last value) on the same points.")


class SkillOut(Schema):
    """1 - MASE / MASE(seasonal naive): above 0 beats the baseline."""

    mase: float | None = Field(default=None, description="1 - MASE / MASE(seasonal naive).")


class BacktestWindowOut(Schema):
    """One rolling origin: the last timestamp before it and its metrics."""

    cutoff: datetime = Field(description="The last timestamp before the window (UTC).")
    points_from_end: int = Field(description="Points the window holds back from each series' end.")
    metrics: MetricsOut = Field(description="The version's accuracy on this window.")
    baselines: BaselinesOut = Field(description="The baselines on this window.")
    skill: SkillOut = Field(description="Skill against seasonal naive on this window.")


class BacktestOut(Schema):
    """A held-out backtest: windows no training target or early stopping touched."""

    windows: list[BacktestWindowOut] = Field(description="Each rolling origin, oldest first.")
    metrics: MetricsOut = Field(description="Accuracy over every window.")
    by_step: dict[str, list[float | None]] = Field(description="Each metric by horizon step.")
    baselines: BaselinesOut = Field(description="The baselines over every window.")
    skill: SkillOut = Field(description="Skill against seasonal naive over every window.")
    steps: int | None = Field(default=None, description="Horizon steps scored per window.")
    series: int | None = Field(default=None, description="Series scored.")


class BacktestIn(Schema):
    """The body of ``POST /v1/models/{model}/versions/{version}/backtest``."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"dataset": "demand", "n_windows": 2}]}
    )

    dataset: Name = Field(description="The dataset whose newest points score the version.")
    n_windows: int = Field(
        default=2,
        ge=1,
        le=MAX_BACKTEST_WINDOWS,
        description="Rolling origins of one horizon each, after the training cut-off.",
    )


class BacktestRunOut(BacktestOut):
    """A stored version scored on a dataset's windows after its training cut-off."""

    model: str = Field(description="Model name.")
    version: int = Field(description="Version number.")
    dataset: str = Field(description="The dataset scored.")
    training_cutoff: datetime = Field(description="The last point the version trained on.")


class VersionOut(Schema):
    """One version of a model with everything stored about it."""

    model: str = Field(description="Model name.")
    version: int = Field(description="Version number (1, 2...).")
    status: str = Field(description="ready or archived.")
    horizon: int = Field(description="Steps ahead the version was trained for.")
    freq: str = Field(description="Pandas frequency of the training data.")
    config: dict[str, Any] = Field(description="The full ForecastConfig it was trained with.")
    metrics: dict[str, Any] = Field(
        description="Accuracy on held-out windows, with seasonal naive beside it."
    )
    backtest: BacktestOut | None = Field(
        default=None, description="Held-out backtest; null for versions trained without one."
    )
    data_summary: dict[str, Any] = Field(description="Series, points and span of the data.")
    artifact_sha256: str = Field(description="SHA-256 of the stored artifact.")
    artifact_size: int = Field(description="Artifact size in bytes.")
    device: str | None = Field(default=None, description="cpu or cuda: where it trained.")
    train_seconds: float | None = Field(default=None, description="Training wall time.")
    library_versions: dict[str, Any] = Field(description="torch, numpy, pandas... versions.")
    job_id: int | None = Field(default=None, description="The job that trained it.")
    promotion: dict[str, Any] | None = Field(
        default=None, description="The promotion decision, with the numbers it compared."
    )
    description: str | None = Field(default=None, description="Free text.")
    tags: dict[str, Any] = Field(description="Key-value labels.")
    covariates: dict[str, Any] | None = Field(
        default=None,
        description="The columns it reads besides y (future, past, static, categorical); "
        "null: none. Holidays, if any, are in config.holidays.",
    )
    aliases: list[str] = Field(default_factory=list, description="Aliases pointing at it.")
    created_at: datetime = Field(description="When it was registered.")


class AliasIn(Schema):
    """The version an alias should point at."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 2}]})

    version: int = Field(ge=1, le=2**31 - 1, description="Version number to point at.")


class AliasOut(Schema):
    """An alias and the version it points at."""

    model: str = Field(description="Model name.")
    alias: str = Field(description="The alias.")
    version: int = Field(description="The version it points at.")
