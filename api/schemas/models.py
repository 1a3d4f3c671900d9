"""Schemas of registered models, their versions, aliases and training requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from api.schemas.common import ALIAS_PATTERN, NAME_PATTERN, Schema
from forecaster import ForecastConfig

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=200)]
Alias = Annotated[str, Field(pattern=ALIAS_PATTERN, max_length=64)]
MAX_HORIZON = 10_000
MAX_BACKTEST_WINDOWS = 20


class PromoteSpec(Schema):
    """What to do with the version a training job registers."""

    alias: Alias = "production"
    policy: Literal["never", "always", "if_better"] = "if_better"
    metric: Literal["mae", "rmse", "smape", "mase", "msis"] = "mase"
    min_improvement: float = Field(default=0.0, ge=0.0, le=1.0)


class TrainSpec(Schema):
    """The body of ``POST /v1/models/{model}/train`` (and a schedule's ``train``)."""

    dataset: Name
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
    promote: PromoteSpec | None = None
    description: str | None = Field(default=None, max_length=2000)
    tags: (
        dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=500)]] | None
    ) = Field(default=None, max_length=50)

    def to_job_spec(self) -> dict[str, Any]:
        """The job spec stored in ``Job.spec`` (only the config fields the caller set)."""
        spec = self.model_dump(mode="json", exclude={"config"}, exclude_none=True)
        spec.setdefault("freq", None)
        spec.setdefault("unique_ids", None)
        spec["config"] = (
            self.config.model_dump(mode="json", exclude_unset=True) if self.config else None
        )
        return spec


class ModelOut(Schema):
    """A registered model."""

    name: str
    description: str | None = None
    created_at: datetime | None = None
    latest_version: int | None = None
    aliases: dict[str, int] = Field(default_factory=dict, description="Alias -> version number.")


class MetricsOut(Schema):
    """Accuracy over a block of held-out points (null where undefined, e.g. MASE of a flat
    series): MAE, RMSE, sMAPE, MASE and the pinball loss averaged over the quantiles (both
    scaled by each series' in-sample seasonal naive error), MSIS of the widest interval and the
    empirical coverage of every central interval ("0.8", "0.95")."""

    mae: float | None = None
    rmse: float | None = None
    smape: float | None = None
    mase: float | None = None
    pinball: float | None = None
    msis: float | None = None
    coverage: dict[str, float | None] = Field(default_factory=dict)


class BaselinesOut(Schema):
    """The same metrics for the baselines, on the identical windows."""

    seasonal_naive: MetricsOut
    naive: MetricsOut


class SkillOut(Schema):
    """1 - MASE / MASE(seasonal naive): above 0 beats the baseline."""

    mase: float | None = None


class BacktestWindowOut(Schema):
    """One rolling origin: the last timestamp before it and its metrics."""

    cutoff: datetime
    points_from_end: int = Field(description="Points the window holds back from each series' end.")
    metrics: MetricsOut
    baselines: BaselinesOut
    skill: SkillOut


class BacktestOut(Schema):
    """A held-out backtest: windows no training target or early stopping touched."""

    windows: list[BacktestWindowOut]
    metrics: MetricsOut
    by_step: dict[str, list[float | None]] = Field(description="Each metric by horizon step.")
    baselines: BaselinesOut
    skill: SkillOut
    steps: int | None = None
    series: int | None = None


class BacktestIn(Schema):
    """The body of ``POST /v1/models/{model}/versions/{version}/backtest``."""

    dataset: Name
    n_windows: int = Field(default=2, ge=1, le=MAX_BACKTEST_WINDOWS)


class BacktestRunOut(BacktestOut):
    """A stored version scored on a dataset's windows after its training cut-off."""

    model: str
    version: int
    dataset: str
    training_cutoff: datetime


class VersionOut(Schema):
    """One version of a model with everything stored about it."""

    model: str
    version: int
    status: str
    horizon: int
    freq: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    backtest: BacktestOut | None = Field(
        default=None, description="Held-out backtest; null for versions trained without one."
    )
    data_summary: dict[str, Any]
    artifact_sha256: str
    artifact_size: int
    device: str | None = None
    train_seconds: float | None = None
    library_versions: dict[str, Any]
    job_id: int | None = None
    promotion: dict[str, Any] | None = None
    description: str | None = None
    tags: dict[str, Any]
    aliases: list[str] = Field(default_factory=list)
    created_at: datetime


class AliasIn(Schema):
    """The version an alias should point at."""

    version: int = Field(ge=1, le=2**31 - 1)


class AliasOut(Schema):
    """An alias and the version it points at."""

    model: str
    alias: str
    version: int
