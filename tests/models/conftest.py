"""Store test fixtures: one migrated database per backend per test session, and a session per
test inside a transaction that is rolled back afterwards (polar's pattern)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from migrations.runner import upgrade
from models.db import make_engine, make_session_factory


@pytest.fixture(scope="session")
def pg_store_url(migrated_postgres_url: str) -> str:
    """The session's migrated PostgreSQL database (the empty session one stays empty)."""
    return migrated_postgres_url


@pytest.fixture(scope="session")
def sqlite_store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file for the store tests."""
    path: Path = tmp_path_factory.mktemp("store") / "store.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def pg_engine(pg_store_url: str) -> Iterator[Engine]:
    """An engine on the migrated PostgreSQL database."""
    engine = make_engine(pg_store_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def store_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on each backend's migrated database (tests using it run twice)."""
    if request.param == "postgresql":
        engine: Engine = request.getfixturevalue("pg_engine")
        yield engine
        return
    engine = make_engine(request.getfixturevalue("sqlite_store_url"))
    yield engine
    engine.dispose()


@pytest.fixture
def session(store_engine: Engine) -> Iterator[Session]:
    """A session whose every commit is a savepoint of one transaction rolled back at the end."""
    with store_engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


@pytest.fixture
def committing_factory(store_engine: Engine) -> sessionmaker[Session]:
    """Sessions that really commit, on each backend (concurrency tests; clean up after you)."""
    return make_session_factory(store_engine)


def unique_name(prefix: str = "m") -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def version_fields(**overrides: Any) -> dict[str, Any]:
    """The fields of a plausible model version (a factory for registry tests)."""
    fields: dict[str, Any] = {
        "horizon": 24,
        "freq": "h",
        "config": {"cell": "gru", "hidden_size": 16},
        "metrics": {"mase": 0.9, "seasonal_naive": {"mase": 1.0}},
        "data_summary": {"dataset": "d", "series": 2, "points": 100},
        "artifact_uri": "file:///tmp/artifact",
        "artifact_sha256": "a" * 64,
        "artifact_size": 1234,
        "device": "cpu",
        "train_seconds": 1.5,
        "library_versions": {"torch": "2.x"},
        "tags": {"team": "ml"},
    }
    fields.update(overrides)
    return fields
