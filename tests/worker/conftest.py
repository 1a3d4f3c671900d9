"""Worker test fixtures: a fresh, migrated database per test (queues must start empty)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from migrations.runner import upgrade
from models.db import make_engine, make_session_factory, session_scope
from models.tables import Job, JobKind, JobStatus
from tests.conftest import database_name, postgres_database


@pytest.fixture(scope="session")
def pg_template(postgres_url: str) -> Iterator[str]:
    """A migrated PostgreSQL database that per-test databases are copied from (by name)."""
    with postgres_database(postgres_url, "forecaster_wtpl") as url:
        upgrade(url)
        yield database_name(url)


@pytest.fixture
def pg_db(postgres_url: str, pg_template: str) -> Iterator[str]:
    """A fresh migrated PostgreSQL database for one test (copied from the template)."""
    with postgres_database(postgres_url, "forecaster_w", template=pg_template) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that per-test databases are copied from."""
    path = tmp_path_factory.mktemp("sqlite_template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh migrated SQLite database for one test."""
    path = tmp_path / "forecaster.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated database, once on PostgreSQL and once on SQLite."""
    url: str = request.getfixturevalue("pg_db" if request.param == "postgresql" else "sqlite_db")
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test's database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory on the test's database."""
    return make_session_factory(engine)


T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def add_job(factory: sessionmaker[Session], **fields: Any) -> int:
    """Insert a queued job row directly (a test factory); returns its id."""
    values: dict[str, Any] = {
        "kind": JobKind.TRAIN,
        "model_name": "m",
        "spec": {"dataset": "d", "horizon": 2},
        "max_attempts": 3,
        "status": JobStatus.QUEUED,
        "run_after": T0,
        **fields,
    }
    with session_scope(factory) as session:
        job = Job(**values)
        session.add(job)
        session.flush()
        return job.id


def get_job(factory: sessionmaker[Session], job_id: int) -> Job:
    """A fresh copy of a job row."""
    with session_scope(factory) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


@pytest.fixture
def sessions_sqlite(sqlite_db: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on a fresh SQLite database."""
    eng = make_engine(sqlite_db)
    yield make_session_factory(eng)
    eng.dispose()
