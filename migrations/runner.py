"""Run the migrations from code: ``forecaster migrate``, tests, and the start-up check.

The script location is found from this package's path, so migrations work from an installed
package as well as from the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from models.db import make_engine

SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at this package's scripts (and at URL when given)."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at URL to REVISION."""
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    """Downgrade the database at URL to REVISION (``base`` drops every table)."""
    _run(url, lambda config: command.downgrade(config, revision))


def head_revisions() -> set[str]:
    """The head revision(s) of the migration scripts."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    """The revision(s) the database behind ENGINE is at (empty when never migrated)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def is_at_head(engine: Engine) -> bool:
    """True when the database behind ENGINE is at the scripts' head (the service's start check)."""
    return current_revisions(engine) == head_revisions()


def _run(url: str, action: Callable[[Config], None]) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            action(config)
    finally:
        engine.dispose()
