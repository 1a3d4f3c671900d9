"""The ORM tables and their status enums (one module, so the schema reads in one place).

Every ``*_at`` column is timezone-aware UTC (:class:`models.base.UTCDateTime`); status columns
are ``StrEnum``s stored as short strings with a CHECK constraint; dict columns are JSON (JSONB
on PostgreSQL).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Double,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntKey, JSONType, utcnow


class VersionStatus(StrEnum):
    """Lifecycle of a model version: archived versions keep their row and metadata."""

    READY = "ready"
    ARCHIVED = "archived"


class JobStatus(StrEnum):
    """Lifecycle of a job in the queue."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ColumnKind(StrEnum):
    """What a dataset's covariate column holds: numbers, or category labels."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class JobKind(StrEnum):
    """What a job does: train (registers a version) or forecast (answer stored in Job.result)."""

    TRAIN = "train"
    FORECAST = "forecast"


TERMINAL_JOB_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


def _str_enum(enum: type[StrEnum]) -> Enum:
    """A portable enum column: VARCHAR(16) holding the member's value."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def _check_in(column: str, enum: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=column)


def _created_at() -> Mapped[datetime]:
    return mapped_column(default=utcnow, server_default=func.now())


def _updated_at() -> Mapped[datetime]:
    return mapped_column(default=utcnow, onupdate=utcnow, server_default=func.now())


class Dataset(Base):
    """A named collection of series."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = _created_at()


class Series(Base):
    """One series of a dataset, named by its ``unique_id``."""

    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("dataset_id", "unique_id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    unique_id: Mapped[str] = mapped_column(String(200))


class Observation(Base):
    """One point of a series; ``ts`` is UTC.

    ``series_id`` has no foreign key on purpose: checking one per row made bulk loads four times
    slower. ``models.datasets`` keeps the reference valid instead: writers hold a key-share lock
    on the dataset row, and deleting a dataset locks it, then deletes its observations.
    """

    __tablename__ = "observations"

    series_id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    value: Mapped[float] = mapped_column(Double())


class DatasetColumn(Base):
    """A covariate column of a dataset (every column of its rows beside unique_id, ds, y).

    ``kind`` is fixed by the first ingest that gives the column a value. A categorical column's
    values are stored as codes: the index of the label in ``categories``, which only grows, so
    a stored code keeps its label.
    """

    __tablename__ = "dataset_columns"
    __table_args__ = (UniqueConstraint("dataset_id", "name"), _check_in("kind", ColumnKind))

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ColumnKind] = mapped_column(_str_enum(ColumnKind))
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)


class CovariateValue(Base):
    """One covariate value of a series at ``ts`` (UTC): a number, or a category's code.

    Kept apart from ``observations`` so that every reader of ``y`` is unchanged: a timestamp
    with covariate values and no observation is a future row (its ``y`` is not known yet).
    Keyed like observations, without foreign keys for bulk-load speed (``models.datasets``
    deletes a dataset's values with its observations); a missing cell is simply no row.
    """

    __tablename__ = "covariate_values"

    series_id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    column_id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    value: Mapped[float] = mapped_column(Double())


class RegisteredModel(Base):
    """A named model; its versions are numbered 1, 2, 3... without gaps."""

    __tablename__ = "registered_models"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()


class ModelVersion(Base):
    """One trained version of a registered model, with everything needed to trust it."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("model_id", "version"),
        # Target of model_aliases' composite key: an alias can only name its own model's versions.
        UniqueConstraint("model_id", "id"),
        _check_in("status", VersionStatus),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(
        _str_enum(VersionStatus), default=VersionStatus.READY
    )
    horizon: Mapped[int] = mapped_column(Integer)
    freq: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    backtest: Mapped[dict[str, Any] | None] = mapped_column()
    data_summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    artifact_uri: Mapped[str] = mapped_column(Text)
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    artifact_size: Mapped[int] = mapped_column(BigInteger)
    device: Mapped[str | None] = mapped_column(String(32))
    train_seconds: Mapped[float | None] = mapped_column(Double())
    library_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )
    promotion: Mapped[dict[str, Any] | None] = mapped_column()
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    covariates: Mapped[dict[str, Any] | None] = mapped_column()
    created_at: Mapped[datetime] = _created_at()


class ModelAlias(Base):
    """A named pointer (``production``, ``staging``) to one version of a model."""

    __tablename__ = "model_aliases"
    __table_args__ = (
        ForeignKeyConstraint(
            ["model_id", "version_id"],
            ["model_versions.model_id", "model_versions.id"],
            ondelete="CASCADE",
        ),
    )

    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[int] = mapped_column(BigIntKey, index=True)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class Schedule(Base):
    """A cron schedule that enqueues a training job at each due time."""

    __tablename__ = "schedules"
    __table_args__ = (Index(None, "enabled", "next_run_at"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(200), index=True)
    cron: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    spec: Mapped[dict[str, Any]] = mapped_column()
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    next_run_at: Mapped[datetime | None] = mapped_column()
    last_run_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class Job(Base):
    """A unit of work in the queue (the database is the broker).

    ``result_version_id`` is a plain column, not a foreign key: ``model_versions.job_id`` already
    points the other way, and a cycle of foreign keys would make inserts order-dependent.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        _check_in("status", JobStatus),
        _check_in("kind", JobKind),
        Index(None, "status", "run_after"),
        Index(None, "created_at", "id"),
        Index(None, "model_name", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    kind: Mapped[JobKind] = mapped_column(_str_enum(JobKind), default=JobKind.TRAIN)
    model_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[JobStatus] = mapped_column(_str_enum(JobStatus), default=JobStatus.QUEUED)
    spec: Mapped[dict[str, Any]] = mapped_column()
    result: Mapped[dict[str, Any] | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    run_after: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    worker_id: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    cancel_requested: Mapped[bool] = mapped_column(default=False, server_default=false())
    progress: Mapped[dict[str, Any] | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    result_version_id: Mapped[int | None] = mapped_column(BigIntKey)
    promotion: Mapped[dict[str, Any] | None] = mapped_column()
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = _created_at()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = _updated_at()


class ForecastRecord(Base):
    """One logged forecast of a stored model: provenance, request and answer.

    ``payload`` holds the input history and the full prediction as an ``.npz`` of plain numeric
    and fixed-width text arrays (never pickled; see ``models.forecast_payload``). The model is
    named by value (name, version, artifact digest), not by foreign key, so the log outlives
    archived or deleted versions and writes need no lookups.
    """

    __tablename__ = "forecasts"
    __table_args__ = (
        Index(None, "created_at", "id"),
        Index(None, "model_name", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    forecast_id: Mapped[str] = mapped_column(String(36), unique=True)
    model_name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    input_sha256: Mapped[str] = mapped_column(String(64))
    horizon: Mapped[int] = mapped_column(Integer)
    request: Mapped[dict[str, Any]] = mapped_column()
    dataset: Mapped[str | None] = mapped_column(String(200))
    n_series: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary())
    created_at: Mapped[datetime] = mapped_column()


class ForecastTarget(Base):
    """A series of a logged forecast that waits for actuals in ``dataset`` (``remaining`` points).

    ``row`` is the series' index in the forecast's payload; the dataset series is matched by
    name when actuals arrive, so a series created after the forecast is still scored.
    """

    __tablename__ = "forecast_targets"
    __table_args__ = (Index(None, "dataset", "remaining"),)

    forecast_id: Mapped[str] = mapped_column(
        ForeignKey("forecasts.forecast_id", ondelete="CASCADE"), primary_key=True
    )
    row: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(200))
    unique_id: Mapped[str] = mapped_column(String(200))
    first_ts: Mapped[datetime] = mapped_column()
    last_ts: Mapped[datetime] = mapped_column()
    remaining: Mapped[int] = mapped_column(Integer)


class ForecastScore(Base):
    """One forecast point scored against its actual; the primary key makes scoring exactly-once.

    Off-grid actuals (a timestamp the forecast has no step for) are kept with ``step`` NULL so
    they are not looked at again; aggregates skip them.
    """

    __tablename__ = "forecast_scores"
    __table_args__ = (
        Index(None, "model_name", "version", "day"),
        Index(None, "model_name", "version", "forecast_created_at"),
    )

    forecast_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    forecast_created_at: Mapped[datetime] = mapped_column()
    day: Mapped[date] = mapped_column(Date())
    step: Mapped[int | None] = mapped_column(Integer)
    abs_error: Mapped[float | None] = mapped_column(Double())
    scaled_error: Mapped[float | None] = mapped_column(Double())
    smape: Mapped[float | None] = mapped_column(Double())
    in_80: Mapped[float | None] = mapped_column(Double())
    in_95: Mapped[float | None] = mapped_column(Double())
    scored_at: Mapped[datetime] = _created_at()
