"""Drop the foreign key from observations to series (bulk loads were 4x slower with it).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

models.datasets keeps the reference valid instead (see models.tables.Observation).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_NAME = "fk_observations_series_id_series"


def upgrade() -> None:
    """Drop the per-row foreign key check."""
    with op.batch_alter_table("observations") as batch:
        batch.drop_constraint(FK_NAME, type_="foreignkey")


def downgrade() -> None:
    """Restore the foreign key, first removing any observation whose series is gone."""
    op.execute("DELETE FROM observations WHERE series_id NOT IN (SELECT id FROM series)")
    with op.batch_alter_table("observations") as batch:
        batch.create_foreign_key(FK_NAME, "series", ["series_id"], ["id"], ondelete="CASCADE")
