"""Engines, sessions and timestamps: the behaviour every repository relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from models.db import (
    DatabaseUnavailable,
    make_engine,
    make_session_factory,
    normalize_url,
    read_session,
    session_scope,
)
from models.tables import Dataset
from tests.models.conftest import unique_name


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://postgres@127.0.0.1:1/nothing", "postgresql://postgres@127.0.0.1:1/x"],
)
def test_unreachable_database_raises_database_unavailable(url: str) -> None:
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        with pytest.raises(DatabaseUnavailable, match="unavailable"), session_scope(factory) as s:
            s.execute(text("select 1"))
    finally:
        engine.dispose()


def test_unopenable_sqlite_file_raises_database_unavailable() -> None:
    engine = make_engine("sqlite:////nonexistent-dir/forecaster.db")
    try:
        with pytest.raises(DatabaseUnavailable), engine.connect() as conn:
            conn.execute(text("select 1"))
    finally:
        engine.dispose()


def test_bare_postgresql_urls_get_the_psycopg_driver() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(sqlite_store_url: str) -> None:
    engine = make_engine(sqlite_store_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    finally:
        engine.dispose()


def _add_then_fail(factory: sessionmaker[Session], name: str) -> None:
    with session_scope(factory) as session:
        session.add(Dataset(name=name))
        session.flush()
        raise RuntimeError("boom")


def test_sqlite_reads_wait_for_no_writer_but_writers_serialise(sqlite_store_url: str) -> None:
    quick = {"timeout": 0.2, "check_same_thread": False}  # a busy wait fails fast here
    engine = make_engine(sqlite_store_url, connect_args=quick)
    factory = make_session_factory(engine)
    try:
        with session_scope(factory) as writer:
            writer.execute(text("select 1"))  # BEGIN IMMEDIATE: holds the write lock
            with read_session(factory) as reader:
                assert reader.execute(text("select 1")).scalar() == 1  # no wait, no lock
            with pytest.raises(DatabaseUnavailable, match="locked"), session_scope(factory) as s:
                s.execute(text("select 1"))
    finally:
        engine.dispose()


def test_session_scope_commits_on_success_and_rolls_back_on_error(
    store_engine: Engine,
) -> None:
    factory = make_session_factory(store_engine)
    kept, dropped = unique_name("kept"), unique_name("dropped")
    with session_scope(factory) as session:
        session.add(Dataset(name=kept))
    with pytest.raises(RuntimeError):
        _add_then_fail(factory, dropped)
    with session_scope(factory) as session:
        names = set(session.scalars(select(Dataset.name).where(Dataset.name.in_([kept, dropped]))))
        session.query(Dataset).filter(Dataset.name == kept).delete()
    assert names == {kept}


def test_timestamps_come_back_aware_utc(session: Session) -> None:
    paris = timezone(timedelta(hours=1))
    dataset = Dataset(name=unique_name(), created_at=datetime(2024, 1, 1, 12, tzinfo=paris))
    session.add(dataset)
    session.flush()
    session.expire_all()
    stored = session.scalars(select(Dataset).where(Dataset.id == dataset.id)).one()
    assert stored.created_at == datetime(2024, 1, 1, 11, tzinfo=UTC)
    assert stored.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(session: Session) -> None:
    session.add(Dataset(name=unique_name(), created_at=datetime(2024, 1, 1)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def _terminate_other_backends(admin: Engine, database: str) -> None:
    with admin.connect() as conn:
        conn.execute(
            text(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where datname = :db and pid <> pg_backend_pid()"
            ),
            {"db": database},
        )


def test_stale_pooled_connections_are_replaced(pg_store_url: str) -> None:
    engine, admin = make_engine(pg_store_url), create_engine(pg_store_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        _terminate_other_backends(admin, engine.url.database or "")
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar_one() == 1
    finally:
        engine.dispose()
        admin.dispose()


def test_a_connection_lost_mid_session_raises_database_unavailable(pg_store_url: str) -> None:
    engine, admin = make_engine(pg_store_url), create_engine(pg_store_url, poolclass=NullPool)
    try:
        with make_session_factory(engine)() as session:
            session.execute(text("select 1"))
            _terminate_other_backends(admin, engine.url.database or "")
            with pytest.raises(DatabaseUnavailable, match="unavailable"):
                session.execute(text("select 1"))
    finally:
        engine.dispose()
        admin.dispose()
