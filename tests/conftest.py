"""Shared fixtures: real databases (a fresh PostgreSQL database per test session, SQLite files)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _admin_url() -> str:
    return os.environ.get("FORECASTER_TEST_DATABASE_URL", DEFAULT_ADMIN_URL)


def _libpq_conninfo(url: str) -> str:
    """A SQLAlchemy URL rendered as a libpq URL that psycopg accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``gpu`` when CUDA is absent."""
    import torch

    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@contextmanager
def postgres_database(
    admin_url: str, prefix: str = "forecaster_test", template: str | None = None
) -> Iterator[str]:
    """A new PostgreSQL database (a copy of ``template`` if given), dropped on exit; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(template))
    with psycopg.connect(_libpq_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(create)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq_conninfo(admin_url), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a served test instance)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def database_name(url: str) -> str:
    """The database part of a URL."""
    return str(make_url(url).database)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for this test session; dropped afterwards."""
    with postgres_database(_admin_url()) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_url: str) -> Iterator[str]:
    """A second PostgreSQL database for this session, migrated to head (the first stays empty)."""
    from migrations.runner import upgrade

    with postgres_database(postgres_url, "forecaster_migrated") as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database file of its own for this test session."""
    path: Path = tmp_path_factory.mktemp("sqlite") / "forecaster.db"
    return f"sqlite:///{path}"


@pytest.fixture(params=["postgresql", "sqlite"])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs once on PostgreSQL and once on SQLite (empty databases)."""
    fixture = "postgres_url" if request.param == "postgresql" else "sqlite_url"
    url: str = request.getfixturevalue(fixture)
    return url
