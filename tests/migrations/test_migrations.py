"""Migrations bring an empty database to head and back to base, and match the ORM exactly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import main as alembic_main
from alembic.runtime.migration import MigrationContext
from psycopg import sql
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from migrations.runner import SCRIPT_LOCATION, current_revisions, downgrade, is_at_head, upgrade
from models.base import Base
from models.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "datasets",
    "series",
    "observations",
    "registered_models",
    "model_versions",
    "model_aliases",
    "jobs",
    "schedules",
}


def _admin(url: str, statement: sql.Composed) -> None:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    admin: str = request.getfixturevalue("postgres_url")
    name = f"forecaster_mig_{uuid.uuid4().hex[:10]}"
    _admin(admin, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    _admin(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_upgrade_from_empty_then_downgrade_to_base(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        assert not is_at_head(engine)
        upgrade(empty_url)
        assert is_at_head(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        downgrade(empty_url, "base")
        assert current_revisions(engine) == set()
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(empty_url)
        assert is_at_head(engine)
    finally:
        engine.dispose()


def test_the_orm_and_the_migrations_do_not_drift(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_alembic_command_line_uses_the_root_ini(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.chdir(ROOT)
    alembic_main(["-c", str(ROOT / "alembic.ini"), "-x", f"url={url}", "upgrade", "head"])
    engine = make_engine(url)
    try:
        assert is_at_head(engine)
    finally:
        engine.dispose()


def test_scripts_are_found_from_the_package_path() -> None:
    assert SCRIPT_LOCATION == ROOT / "migrations"
    assert (SCRIPT_LOCATION / "env.py").is_file()
