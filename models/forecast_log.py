"""The forecast log's store: batched writes (COPY on PostgreSQL), reads, list, retention.

Writes come from a background writer (``api.forecast_log``) in batches: one binary COPY per
table on PostgreSQL, one ``executemany`` per table on SQLite. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, defer

from models.dialects import is_postgres
from models.errors import NotFound
from models.pagination import DEFAULT_LIMIT, Page, paginate
from models.tables import ForecastRecord, ForecastScore, ForecastTarget

FORECAST_COLUMNS = (
    "forecast_id",
    "model_name",
    "version",
    "artifact_sha256",
    "input_sha256",
    "horizon",
    "request",
    "dataset",
    "n_series",
    "payload",
    "created_at",
)
TARGET_COLUMNS = ("forecast_id", "row", "dataset", "unique_id", "first_ts", "last_ts", "remaining")


@dataclass(frozen=True)
class TargetRow:
    """A series of a logged forecast to score once actuals arrive in ``dataset``."""

    forecast_id: str
    row: int
    dataset: str
    unique_id: str
    first_ts: datetime
    last_ts: datetime
    remaining: int


@dataclass(frozen=True)
class LogRow:
    """One forecast to log, with the series that wait for actuals."""

    forecast_id: str
    model_name: str
    version: int
    artifact_sha256: str
    input_sha256: str
    horizon: int
    request: dict[str, Any]
    dataset: str | None
    n_series: int
    payload: bytes
    created_at: datetime
    targets: list[TargetRow] = field(default_factory=list)


# PostgreSQL types of the columns, for binary COPY (no text escaping of the payload's bytes).
FORECAST_TYPES = (
    "varchar",
    "varchar",
    "int4",
    "varchar",
    "varchar",
    "int4",
    "jsonb",
    "varchar",
    "int4",
    "bytea",
    "timestamptz",
)
TARGET_TYPES = ("varchar", "int4", "varchar", "varchar", "timestamptz", "timestamptz", "int4")


def write_batch(session: Session, rows: Sequence[LogRow]) -> None:
    """Insert ROWS and their targets (binary COPY on PostgreSQL, executemany on SQLite)."""
    if not rows:
        return
    targets = [t for r in rows for t in r.targets]
    if is_postgres(session):
        forecasts = [
            tuple(Jsonb(v) if c == "request" else v for c, v in _values(r, FORECAST_COLUMNS))
            for r in rows
        ]
        _copy(session, "forecasts", FORECAST_COLUMNS, FORECAST_TYPES, forecasts)
        values = [tuple(v for _, v in _values(t, TARGET_COLUMNS)) for t in targets]
        _copy(session, "forecast_targets", TARGET_COLUMNS, TARGET_TYPES, values)
        return
    session.execute(insert(ForecastRecord), [dict(_values(r, FORECAST_COLUMNS)) for r in rows])
    if targets:
        session.execute(insert(ForecastTarget), [asdict(t) for t in targets])


def _values(row: LogRow | TargetRow, columns: Sequence[str]) -> list[tuple[str, Any]]:
    return [(column, getattr(row, column)) for column in columns]


def _copy(
    session: Session,
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: list[tuple[Any, ...]],
) -> None:
    if not rows:
        return
    conn = session.connection().connection.driver_connection
    assert conn is not None
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


def get_forecast(session: Session, forecast_id: str) -> ForecastRecord:
    """The logged forecast FORECAST_ID; NotFound otherwise."""
    found = session.scalar(select(ForecastRecord).where(ForecastRecord.forecast_id == forecast_id))
    if found is None:
        raise NotFound(f"no logged forecast {forecast_id}")
    return found


def list_forecasts(
    session: Session,
    *,
    model: str | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ForecastRecord]:
    """Logged forecasts, newest first, optionally of one model and from ``since`` on."""
    stmt = select(ForecastRecord).options(defer(ForecastRecord.payload))
    if model is not None:
        stmt = stmt.where(ForecastRecord.model_name == model)
    if since is not None:
        stmt = stmt.where(ForecastRecord.created_at >= since)
    return paginate(
        session, stmt, ForecastRecord.created_at, ForecastRecord.id, limit=limit, cursor=cursor
    )


def delete_before(session: Session, cutoff: datetime) -> int:
    """Delete forecasts made before CUTOFF (their targets cascade) and their scores."""
    session.execute(delete(ForecastScore).where(ForecastScore.forecast_created_at < cutoff))
    session.execute(
        delete(ForecastTarget).where(
            ForecastTarget.forecast_id.in_(
                select(ForecastRecord.forecast_id).where(ForecastRecord.created_at < cutoff)
            )
        )
    )
    result = session.execute(delete(ForecastRecord).where(ForecastRecord.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
