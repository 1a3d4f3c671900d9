"""The forecast log: logged forecasts, the series that wait for actuals, and scored points.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

Types are spelled out here (not imported from models/) so this revision stays as it was written.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, *, now: bool = False) -> sa.Column[object]:
    default = sa.func.now() if now else None
    return sa.Column(name, sa.DateTime(timezone=True), server_default=default, nullable=False)


def upgrade() -> None:
    """Create forecasts, forecast_targets and forecast_scores."""
    op.create_table(
        "forecasts",
        sa.Column("id", KEY, primary_key=True),
        sa.Column("forecast_id", sa.String(36), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("request", JSON, nullable=False),
        sa.Column("dataset", sa.String(200), nullable=True),
        sa.Column("n_series", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecasts")),
        sa.UniqueConstraint("forecast_id", name=op.f("uq_forecasts_forecast_id")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Payloads are incompressible floats: store them out of line without TOAST compression,
        # which would only spend the database's CPU on every logged forecast.
        op.execute("ALTER TABLE forecasts ALTER COLUMN payload SET STORAGE EXTERNAL")
    op.create_index(op.f("ix_forecasts_created_at_id"), "forecasts", ["created_at", "id"])
    op.create_index(
        op.f("ix_forecasts_model_name_created_at"), "forecasts", ["model_name", "created_at"]
    )
    op.create_table(
        "forecast_targets",
        sa.Column("forecast_id", sa.String(36), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("unique_id", sa.String(200), nullable=False),
        _ts("first_ts"),
        _ts("last_ts"),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["forecast_id"],
            ["forecasts.forecast_id"],
            name=op.f("fk_forecast_targets_forecast_id_forecasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("forecast_id", "row", name=op.f("pk_forecast_targets")),
    )
    op.create_index(
        op.f("ix_forecast_targets_dataset_remaining"),
        "forecast_targets",
        ["dataset", "remaining"],
    )
    _create_scores()


def _create_scores() -> None:
    op.create_table(
        "forecast_scores",
        sa.Column("forecast_id", sa.String(36), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        _ts("ts"),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("forecast_created_at"),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("abs_error", sa.Double(), nullable=True),
        sa.Column("scaled_error", sa.Double(), nullable=True),
        sa.Column("smape", sa.Double(), nullable=True),
        sa.Column("in_80", sa.Double(), nullable=True),
        sa.Column("in_95", sa.Double(), nullable=True),
        _ts("scored_at", now=True),
        sa.PrimaryKeyConstraint("forecast_id", "row", "ts", name=op.f("pk_forecast_scores")),
    )
    op.create_index(
        op.f("ix_forecast_scores_model_name_version_day"),
        "forecast_scores",
        ["model_name", "version", "day"],
    )
    op.create_index(
        op.f("ix_forecast_scores_model_name_version_forecast_created_at"),
        "forecast_scores",
        ["model_name", "version", "forecast_created_at"],
    )


def downgrade() -> None:
    """Drop the forecast log (its rows are lost)."""
    op.drop_table("forecast_scores")
    op.drop_table("forecast_targets")
    op.drop_table("forecasts")
