"""Worker test fixtures: a fresh, migrated database per test (queues must start empty)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from migrations.runner import upgrade
from models.db import make_engine, make_session_factory, session_scope
from models.tables import Job, JobKind, JobStatus


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _execute_autocommit(url: str, statement: sql.Composable) -> None:
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(scope="session")
def pg_template(postgres_url: str) -> Iterator[str]:
    """A migrated PostgreSQL database that per-test databases are copied from."""
    name = f"forecaster_wtpl_{uuid.uuid4().hex[:10]}"
    _execute_autocommit(postgres_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield name
    _execute_autocommit(
        postgres_url,
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
    )


@pytest.fixture
def pg_db(postgres_url: str, pg_template: str) -> Iterator[str]:
    """A fresh migrated PostgreSQL database for one test (copied from the template)."""
    name = f"forecaster_w_{uuid.uuid4().hex[:10]}"
    _execute_autocommit(
        postgres_url,
        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(pg_template)
        ),
    )
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    _execute_autocommit(
        postgres_url,
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
    )


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
