"""Engines and sessions: pooled, pre-pinged, with timeouts; SQLite in WAL with foreign keys.

A lost or unreachable database surfaces as :class:`DatabaseUnavailable` (raised from the
driver's error), never as a hang: PostgreSQL connections have a connect timeout and TCP
keepalives, SQLite connections a busy timeout.

On SQLite every transaction starts with ``BEGIN IMMEDIATE``: there is one writer at a time, so
read-then-write sequences (claiming a job, numbering a version) are serialised as on PostgreSQL
with row locks. A ``read_session`` (which never writes) starts a deferred ``BEGIN`` instead: in
WAL mode it then waits for no writer and no other reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from models.errors import DatabaseUnavailable

__all__ = [
    "DatabaseUnavailable",
    "make_engine",
    "make_session_factory",
    "normalize_url",
    "read_session",
    "session_scope",
]

CONNECT_TIMEOUT_S = 5
SQLITE_BUSY_TIMEOUT_MS = 15_000
POOL_TIMEOUT_S = 10
POOL_RECYCLE_S = 1800
READ_ONLY = "forecaster_read_only"  # execution option of ``read_session`` connections


def normalize_url(url: str | URL) -> URL:
    """Parse a URL; bare ``postgresql://`` URLs get the psycopg (v3) driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for URL with the service's pooling, timeouts and error translation."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed, **kwargs)
    else:
        engine = _postgres_engine(parsed, **kwargs)
    event.listen(engine, "handle_error", _translate_unavailable)
    return engine


def _postgres_engine(url: URL, **kwargs: Any) -> Engine:
    connect_args = {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "application_name": "forecaster",
    }
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_timeout": POOL_TIMEOUT_S,
        "pool_recycle": POOL_RECYCLE_S,
        "connect_args": connect_args,
    }
    options.update(kwargs)
    return create_engine(url, **options)


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    }
    options.update(kwargs)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event (pysqlite's own BEGIN is deferred).
    # The busy timeout is the driver's ``timeout`` connect argument (a caller's own value wins).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _begin_immediate(connection: Any) -> None:
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _translate_unavailable(context: ExceptionContext) -> None:
    """Raise DatabaseUnavailable for connection failures (refused, lost, timed out, locked)."""
    error = context.sqlalchemy_exception
    if context.is_pre_ping or not isinstance(error, DBAPIError):
        return  # a failed pre-ping is the pool's to handle: it reconnects
    if context.is_disconnect or error.connection_invalidated or _is_connect_failure(context):
        raise DatabaseUnavailable(f"the database is unavailable: {error.orig}") from error


def _is_connect_failure(context: ExceptionContext) -> bool:
    original = context.original_exception
    name = type(original).__name__
    if context.connection is None and name == "OperationalError":
        return True
    return "database is locked" in str(original)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ENGINE; objects stay usable after commit (expire_on_commit=False)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads only, closed without commit. On SQLite its transaction takes no
    lock: a forecast's registry lookup used to take the write lock (``BEGIN IMMEDIATE``), so
    lookups of concurrent requests, and the forecast log's writer, waited for one another in
    SQLite's busy handler (sleeps of 1 ms and more), holding a compute slot meanwhile."""
    session = factory()
    try:
        session.connection(execution_options={READ_ONLY: True})
        yield session
    finally:
        session.close()
