"""A version's held-out backtest: windows, metrics by step, baselines and skill.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-27

Versions registered before it have none (NULL): their reported metrics were measured on the
window early stopping tuned them on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Add ``model_versions.backtest``."""
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("backtest", JSON, nullable=True))


def downgrade() -> None:
    """Drop ``model_versions.backtest`` (the version's metrics keep the headline figures)."""
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("backtest")
