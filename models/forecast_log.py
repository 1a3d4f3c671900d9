"""The forecast log's store: batched writes (COPY on PostgreSQL), reads, list, retention.

Writes come from a background writer (``api.forecast_log``) in batches: one binary-free text
COPY per table on PostgreSQL, one ``executemany`` per table on SQLite. Nothing here commits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

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


def write_batch(session: Session, rows: Sequence[LogRow]) -> None:
    """Insert ROWS and their targets (COPY on PostgreSQL, executemany on SQLite)."""
    if not rows:
        return
    forecasts = [tuple(getattr(r, c) for c in FORECAST_COLUMNS) for r in rows]
    targets = [tuple(getattr(t, c) for c in TARGET_COLUMNS) for r in rows for t in r.targets]
    if is_postgres(session):
        _copy(session, "forecasts", FORECAST_COLUMNS, forecasts, json_at=6)
        _copy(session, "forecast_targets", TARGET_COLUMNS, targets)
        return
    records = [dict(zip(FORECAST_COLUMNS, f, strict=True)) for f in forecasts]
    session.execute(insert(ForecastRecord), records)
    if targets:
        session.execute(insert(ForecastTarget), [asdict(t) for r in rows for t in r.targets])


def _copy(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    json_at: int | None = None,
) -> None:
    if not rows:
        return
    conn = session.connection().connection.driver_connection
    assert conn is not None
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            if json_at is not None:
                row = (*row[:json_at], json.dumps(row[json_at]), *row[json_at + 1 :])
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
