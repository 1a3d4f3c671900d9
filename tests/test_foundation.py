"""The foundation's promises: the layering of the packages and the test databases."""

from __future__ import annotations

import ast
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
OUR_PACKAGES = {"forecaster", "models", "migrations", "api", "worker", "cli"}
# Which of our packages each package may import (DESIGN.md, "Layout"); cli is the composition root.
ALLOWED = {
    "forecaster": set(),
    "models": set(),
    "migrations": {"models"},
    "api": {"models", "forecaster"},
    "worker": {"models", "forecaster"},
    "cli": {"api", "worker", "models", "migrations", "forecaster"},
}
# Libraries the pure ML core must never import.
FORBIDDEN_IN_CORE = {"fastapi", "sqlalchemy", "alembic", "pydantic_settings", "uvicorn", "psycopg"}


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_follow_the_design(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        ours = (_imported_top_levels(path) & OUR_PACKAGES) - {package}
        assert ours <= ALLOWED[package], f"{path.relative_to(ROOT)} imports {ours}"


def test_core_is_free_of_service_libraries() -> None:
    for path in (ROOT / "forecaster").rglob("*.py"):
        bad = _imported_top_levels(path) & FORBIDDEN_IN_CORE
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_postgres_fixture_gives_an_empty_database_of_its_own(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        name = conn.execute(text("select current_database()")).scalar_one()
        tables = conn.execute(
            text("select count(*) from information_schema.tables where table_schema='public'")
        ).scalar_one()
    engine.dispose()
    assert name.startswith("forecaster_test_")
    assert tables == 0


def test_sqlite_fixture_is_a_file_database(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("create table t (x integer)"))
        conn.execute(text("insert into t values (41)"))
        assert conn.execute(text("select x + 1 from t")).scalar_one() == 42
    engine.dispose()
    assert sqlite_url.startswith("sqlite:///")


def test_postgres_is_real() -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test") as conn:
        version = conn.execute("show server_version").fetchone()
    assert version is not None
    assert int(version[0].split(".")[0]) >= 12
