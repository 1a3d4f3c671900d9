"""Alias and archive races with real concurrent transactions on PostgreSQL.

Each test holds one transaction open at the racy point, starts a second one in another thread,
waits until PostgreSQL reports it waiting for a lock, then commits the first: the outcome is
the one a serial order gives, never a unique violation or an alias on an archived version.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from models import registry
from models.db import make_session_factory, session_scope
from models.errors import Conflict
from models.tables import VersionStatus
from tests.models.conftest import unique_name, version_fields


@pytest.fixture
def sessions(pg_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(pg_engine)


@pytest.fixture
def model(sessions: sessionmaker[Session]) -> str:
    name = unique_name("race")
    with session_scope(sessions) as session:
        for _ in range(2):
            registry.register_version(session, name, **version_fields())
    return name


def _waiting_for_a_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return int(waiting) > 0


def _race(
    engine: Engine,
    sessions: sessionmaker[Session],
    first: Callable[[Session], object],
    second: Callable[[Session], object],
) -> BaseException | None:
    """Run ``first`` uncommitted, start ``second`` concurrently, commit ``first``; the error
    ``second`` ended with (None when it committed)."""
    outcome: list[BaseException | None] = []

    def run_second() -> None:
        try:
            with session_scope(sessions) as session:
                second(session)
        except BaseException as exc:  # noqa: BLE001 - handed to the test to assert on
            outcome.append(exc)
        else:
            outcome.append(None)

    with session_scope(sessions) as session:
        first(session)
        thread = threading.Thread(target=run_second)
        thread.start()
        stop = threading.Event()
        while thread.is_alive() and not _waiting_for_a_lock(engine):
            stop.wait(0.01)
    thread.join(timeout=60)
    assert not thread.is_alive()
    return outcome[0]


def test_two_first_alias_sets_both_succeed_and_the_last_wins(
    pg_engine: Engine, sessions: sessionmaker[Session], model: str
) -> None:
    error = _race(
        pg_engine,
        sessions,
        lambda s: registry.set_alias(s, model, "new", 1),
        lambda s: registry.set_alias(s, model, "new", 2),
    )
    assert error is None
    with sessions() as session:
        assert registry.list_aliases(session, model) == {"new": 2}


def test_archive_during_an_alias_set_is_refused(
    pg_engine: Engine, sessions: sessionmaker[Session], model: str
) -> None:
    error = _race(
        pg_engine,
        sessions,
        lambda s: registry.set_alias(s, model, "production", 2),
        lambda s: registry.archive_version(s, model, 2),
    )
    assert isinstance(error, Conflict)
    with sessions() as session:
        assert registry.get_version(session, model, 2).status == VersionStatus.READY
        assert registry.list_aliases(session, model) == {"production": 2}


def test_alias_set_during_an_archive_is_refused(
    pg_engine: Engine, sessions: sessionmaker[Session], model: str
) -> None:
    error = _race(
        pg_engine,
        sessions,
        lambda s: registry.archive_version(s, model, 2),
        lambda s: registry.set_alias(s, model, "production", 2),
    )
    assert isinstance(error, Conflict)
    with sessions() as session:
        assert registry.get_version(session, model, 2).status == VersionStatus.ARCHIVED
        assert registry.list_aliases(session, model) == {}


def test_an_archived_version_can_be_restored(sessions: sessionmaker[Session], model: str) -> None:
    with session_scope(sessions) as session:
        registry.archive_version(session, model, 2)
    with session_scope(sessions) as session:
        assert registry.latest_version(session, model).version == 1
        assert registry.unarchive_version(session, model, 2).status == VersionStatus.READY
    with sessions() as session:
        assert registry.latest_version(session, model).version == 2
