"""The typed specs of jobs: what the API queues, the scheduler copies and the worker runs.

A job row stores its spec as JSON (``Job.spec``); these models are the one description of that
JSON. The API builds them from a request (after validating the core's config there), the
scheduler re-validates a schedule's stored spec before it enqueues it, and the worker parses
the claimed row with them, so the three never disagree about a field. Hyperparameters stay a
plain dict here (only the fields the caller set): the core validates them, and ``models`` does
not import the core.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.names import ALIAS_PATTERN_TEXT, NAME_PATTERN_TEXT

MAX_HORIZON = 10_000
Name = Annotated[str, Field(pattern=NAME_PATTERN_TEXT, max_length=200)]
Alias = Annotated[str, Field(pattern=ALIAS_PATTERN_TEXT, max_length=64)]
UniqueIds = list[Annotated[str, Field(min_length=1, max_length=200)]]
Tags = dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=500)]]
Policy = Literal["never", "always", "if_better"]


class JobSpec(BaseModel):
    """Base of the job specs: unknown fields refused, values strict, instances frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def to_json(self) -> dict[str, Any]:
        """The JSON stored in ``Job.spec``."""
        return self.model_dump(mode="json", exclude_none=True)


class PromoteSpec(JobSpec):
    """What to do with the version a training job registers."""

    alias: Alias = Field(default="production", description="The alias to move.")
    policy: Policy = Field(
        default="if_better",
        description="never, always, or if_better (beats seasonal naive and a comparable champion).",
    )
    metric: Literal["mae", "rmse", "smape", "mase", "msis"] = Field(
        default="mase", description="The metric that decides if_better against the champion."
    )
    min_improvement: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Relative improvement if_better requires."
    )

    @classmethod
    def from_spec(cls, raw: dict[str, Any] | PromoteSpec | None) -> PromoteSpec | None:
        """The ``promote`` block of a stored spec (None when absent)."""
        if raw is None or isinstance(raw, PromoteSpec):
            return raw
        return cls.model_validate(raw) if raw else None


ColumnNames = list[Annotated[str, Field(min_length=1, max_length=200)]]


class CovariateColumns(JobSpec):
    """The dataset columns a model reads besides ``y``, by kind (the core's CovariateSpec as
    JSON; the API checks it with the core before it is queued)."""

    future: ColumnNames = Field(default_factory=list, max_length=100)
    past: ColumnNames = Field(default_factory=list, max_length=100)
    static: ColumnNames = Field(default_factory=list, max_length=100)
    categorical: ColumnNames = Field(default_factory=list, max_length=100)

    @property
    def columns(self) -> list[str]:
        """Every named column: future, past, static."""
        return [*self.future, *self.past, *self.static]


class TrainJobSpec(JobSpec):
    """A "train" job: fit on a stored dataset, register a version, maybe promote it."""

    dataset: Name
    horizon: int = Field(ge=1, le=MAX_HORIZON)
    freq: str | None = Field(default=None, min_length=1, max_length=32)
    unique_ids: UniqueIds | None = Field(default=None, min_length=1, max_length=100_000)
    config: dict[str, Any] | None = None
    covariates: CovariateColumns | None = None
    promote: PromoteSpec | None = None
    description: str | None = Field(default=None, max_length=2000)
    tags: Tags | None = Field(default=None, max_length=50)

    def to_json(self) -> dict[str, Any]:
        """The stored JSON; ``freq``, ``unique_ids`` and ``config`` are always present."""
        return {"freq": None, "unique_ids": None, "config": None, **super().to_json()}


class ForecastJobSpec(JobSpec):
    """A "forecast" job: fit on posted series and store the forecast on the job."""

    series: list[dict[str, Any]] = Field(min_length=1)
    horizon: int = Field(ge=1, le=MAX_HORIZON)
    freq: str | None = Field(default=None, min_length=1, max_length=32)
    quantiles: list[float] | None = None
    config: dict[str, Any] | None = None
    save_as: Name | None = None  # register the request's network as a version of this model
    series_summary: dict[str, Any] | None = None  # what job reads show instead of the series
    covariates: CovariateColumns | None = None  # kinds read from the posted series' shape

    def to_json(self) -> dict[str, Any]:
        """The stored JSON; every field is present (null when unset), but ``covariates`` only
        when the series have some (so that specs without them are as they were)."""
        stored = self.model_dump(mode="json")
        if self.covariates is None:
            del stored["covariates"]
        return stored
