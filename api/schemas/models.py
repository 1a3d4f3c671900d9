"""Schemas of registered models, their versions, aliases and training requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from api.schemas.common import Schema
from forecaster import ForecastConfig
from models.job_specs import MAX_HORIZON, Name, PromoteSpec, Tags, TrainJobSpec

__all__ = ["MAX_HORIZON", "Name", "PromoteSpec", "TrainSpec"]


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
    tags: Tags | None = Field(default=None, max_length=50)

    def to_job_spec(self) -> TrainJobSpec:
        """The job's typed spec (only the config fields the caller set)."""
        config = self.config.model_dump(mode="json", exclude_unset=True) if self.config else None
        return TrainJobSpec(
            **{name: getattr(self, name) for name in TrainJobSpec.model_fields if name != "config"},
            config=config,
        )


class ModelOut(Schema):
    """A registered model."""

    name: str
    description: str | None = None
    created_at: datetime | None = None
    latest_version: int | None = None
    aliases: dict[str, int] = Field(default_factory=dict, description="Alias -> version number.")


class VersionOut(Schema):
    """One version of a model with everything stored about it."""

    model: str
    version: int
    status: str
    horizon: int
    freq: str
    config: dict[str, Any]
    metrics: dict[str, Any]
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
