"""Initial schema: datasets, series, observations, registry, aliases, schedules, jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Types are spelled out here (not imported from models/) so this revision stays as it was written
even when the ORM moves on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
STATUS = sa.String(16)


def _ts(name: str, *, nullable: bool = False, now: bool = False) -> sa.Column[object]:
    default = sa.func.now() if now else None
    return sa.Column(name, sa.DateTime(timezone=True), server_default=default, nullable=nullable)


def _id() -> sa.Column[object]:
    return sa.Column("id", KEY, primary_key=True)


def upgrade() -> None:
    """Create every table of the first schema."""
    _create_datasets()
    _create_registry()
    _create_schedules_and_jobs()
    op.create_table(
        "model_versions",
        _id(),
        sa.Column("model_id", KEY, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("freq", sa.String(32), nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("data_summary", JSON, nullable=False),
        sa.Column("artifact_uri", sa.Text(), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("artifact_size", sa.BigInteger(), nullable=False),
        sa.Column("device", sa.String(32), nullable=True),
        sa.Column("train_seconds", sa.Double(), nullable=True),
        sa.Column("library_versions", JSON, nullable=False),
        sa.Column("job_id", KEY, nullable=True),
        sa.Column("promotion", JSON, nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        _ts("created_at", now=True),
        sa.CheckConstraint(
            "status IN ('ready', 'archived')", name=op.f("ck_model_versions_status")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_model_versions_version_positive")),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_model_versions_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_model_versions_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("model_id", "id", name=op.f("uq_model_versions_model_id_id")),
        sa.UniqueConstraint("model_id", "version", name=op.f("uq_model_versions_model_id_version")),
    )
    op.create_index(op.f("ix_model_versions_job_id"), "model_versions", ["job_id"])
    _create_aliases()


def _create_datasets() -> None:
    op.create_table(
        "datasets",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        _ts("created_at", now=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("name", name=op.f("uq_datasets_name")),
    )
    op.create_table(
        "series",
        _id(),
        sa.Column("dataset_id", KEY, nullable=False),
        sa.Column("unique_id", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_series_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("dataset_id", "unique_id", name=op.f("uq_series_dataset_id_unique_id")),
    )
    op.create_table(
        "observations",
        sa.Column("series_id", KEY, nullable=False),
        _ts("ts"),
        sa.Column("value", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_observations_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("series_id", "ts", name=op.f("pk_observations")),
    )


def _create_registry() -> None:
    op.create_table(
        "registered_models",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _ts("created_at", now=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_models")),
        sa.UniqueConstraint("name", name=op.f("uq_registered_models_name")),
    )


def _create_aliases() -> None:
    op.create_table(
        "model_aliases",
        sa.Column("model_id", KEY, nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version_id", KEY, nullable=False),
        _ts("created_at", now=True),
        _ts("updated_at", now=True),
        sa.ForeignKeyConstraint(
            ["model_id", "version_id"],
            ["model_versions.model_id", "model_versions.id"],
            name=op.f("fk_model_aliases_model_id_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_model_aliases_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "alias", name=op.f("pk_model_aliases")),
    )
    op.create_index(op.f("ix_model_aliases_version_id"), "model_aliases", ["version_id"])


def _create_schedules_and_jobs() -> None:
    op.create_table(
        "schedules",
        _id(),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("cron", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        _ts("next_run_at", nullable=True),
        _ts("last_run_at", nullable=True),
        _ts("created_at", now=True),
        _ts("updated_at", now=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
    )
    op.create_index(
        op.f("ix_schedules_enabled_next_run_at"), "schedules", ["enabled", "next_run_at"]
    )
    op.create_index(op.f("ix_schedules_model_name"), "schedules", ["model_name"])
    _create_jobs()


def _create_jobs() -> None:
    op.create_table(
        "jobs",
        _id(),
        sa.Column("kind", STATUS, nullable=False),
        sa.Column("model_name", sa.String(200), nullable=True),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("result", JSON, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        _ts("run_after", now=True),
        sa.Column("worker_id", sa.String(200), nullable=True),
        _ts("lease_expires_at", nullable=True),
        _ts("heartbeat_at", nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("progress", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result_version_id", KEY, nullable=True),
        sa.Column("promotion", JSON, nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("schedule_id", KEY, nullable=True),
        _ts("created_at", now=True),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        _ts("updated_at", now=True),
        sa.CheckConstraint("kind IN ('train', 'forecast')", name=op.f("ck_jobs_kind")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_jobs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_jobs_schedule_id_schedules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_jobs_idempotency_key")),
    )
    op.create_index(op.f("ix_jobs_created_at_id"), "jobs", ["created_at", "id"])
    op.create_index(op.f("ix_jobs_model_name_created_at"), "jobs", ["model_name", "created_at"])
    op.create_index(op.f("ix_jobs_schedule_id"), "jobs", ["schedule_id"])
    op.create_index(op.f("ix_jobs_status_run_after"), "jobs", ["status", "run_after"])


def downgrade() -> None:
    """Drop every table, children before parents."""
    for table in (
        "model_aliases",
        "model_versions",
        "jobs",
        "schedules",
        "registered_models",
        "observations",
        "series",
        "datasets",
    ):
        op.drop_table(table)
