"""The start-up check every service process makes: the database answers and is at head."""

from __future__ import annotations

import logging
import sys

from migrations.runner import is_at_head
from models.db import make_engine, normalize_url
from models.errors import DatabaseUnavailable
from models.settings import Settings

logger = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The service must not start (database not ready, or exposed without keys)."""


def check_database(settings: Settings) -> None:
    """Raise StartupError (with the fix) unless the database is reachable and at head."""
    url = normalize_url(settings.database_url).render_as_string(hide_password=True)
    engine = make_engine(settings.database_url)
    try:
        at_head = is_at_head(engine)
    except DatabaseUnavailable as exc:
        raise StartupError(f"cannot reach the database {url}: {exc}") from exc
    finally:
        engine.dispose()
    if not at_head:
        raise StartupError(
            f"the database {url} is not at the migration head; run `forecaster migrate` first"
        )


def exit_unless_ready(settings: Settings) -> None:
    """Exit 1 with the fix on stderr unless the database is reachable and at head (the check
    ``serve``, ``worker`` and ``scheduler`` each make before they touch a table)."""
    try:
        check_database(settings)
    except StartupError as exc:
        logger.error("refusing to start: %s", exc)
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
