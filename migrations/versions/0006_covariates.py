"""Covariates: a dataset's extra columns, their values (and future rows), a version's spec.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

``observations`` is left as it is, so every reader of ``y`` is unchanged: covariate values
live in ``covariate_values``, keyed like observations (series, timestamp) plus the column, and a
timestamp with values there but no observation is a future row. Types are spelled out here (not
imported from models/) so this revision stays as it was written.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create dataset_columns and covariate_values; add model_versions.covariates."""
    op.create_table(
        "dataset_columns",
        sa.Column("id", KEY, primary_key=True),
        sa.Column("dataset_id", KEY, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.CheckConstraint(
            "kind IN ('numeric', 'categorical')", name=op.f("ck_dataset_columns_kind")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_columns_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_columns")),
        sa.UniqueConstraint("dataset_id", "name", name=op.f("uq_dataset_columns_dataset_id_name")),
    )
    op.create_table(
        "covariate_values",
        sa.Column("series_id", KEY, nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("column_id", KEY, nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", "ts", "column_id", name=op.f("pk_covariate_values")),
    )
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("covariates", JSON, nullable=True))


def downgrade() -> None:
    """Drop the covariates (their values are lost; observations are untouched)."""
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("covariates")
    op.drop_table("covariate_values")
    op.drop_table("dataset_columns")
