"""Moving observation rows in bulk, per backend, as numpy arrays.

Arrays: ``series_id`` int64, ``ts_us`` int64 microseconds since the Unix epoch (UTC),
``value`` float64. Writes upsert in batches; reads return rows in no particular order (the
caller sorts: numpy sorts a million rows faster than PostgreSQL with a small ``work_mem``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from psycopg import sql
from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from models.dialects import is_postgres
from models.pgcopy import PG_EPOCH_US, encode_rows
from models.tables import Observation

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# Measured on 1M existing rows: one batch merged in ~8 s, four batches of 250k in 11-15 s.
# A batch's COPY stream takes 38 bytes a row.
PG_BATCH_ROWS = 1_000_000
SQLITE_BATCH_ROWS = 10_000

_STAGE = "observations_stage"
_CREATE_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} "
    "(series_id int8 NOT NULL, ts timestamptz NOT NULL, value float8 NOT NULL) ON COMMIT DROP"
)
# Sorted so that concurrent upserts lock rows in the same order (no deadlocks); unchanged
# values are not rewritten, so re-sending the same data costs no table churn.
_MERGE = f"""
INSERT INTO observations (series_id, ts, value)
SELECT series_id, ts, value FROM {_STAGE} ORDER BY series_id, ts
ON CONFLICT (series_id, ts) DO UPDATE SET value = EXCLUDED.value
WHERE observations.value IS DISTINCT FROM EXCLUDED.value
"""


def write(session: Session, series_id: Ints, ts_us: Ints, value: Floats) -> int:
    """Upsert the rows; returns how many were inserted or changed value."""
    if len(series_id) == 0:
        return 0
    if is_postgres(session):
        return _write_postgres(session, series_id, ts_us, value)
    return _write_sqlite(session, series_id, ts_us, value)


def insert_new(session: Session, series_id: Ints, ts_us: Ints, value: Floats) -> int:
    """Insert rows of series created in this transaction (no row of theirs can exist yet, and
    no other transaction can write them before we commit): on PostgreSQL, a straight COPY."""
    if len(series_id) == 0:
        return 0
    if not is_postgres(session):
        return _write_sqlite(session, series_id, ts_us, value)
    payload = encode_rows(series_id, ts_us, value)
    copy = "COPY observations (series_id, ts, value) FROM STDIN (FORMAT BINARY)"
    with driver_connection(session).cursor() as cur, cur.copy(copy) as cp:
        cp.write(payload)
    return len(series_id)


def read(
    session: Session,
    series_ids: Ints,
    start: datetime | None,
    end: datetime | None,
    last: int | None = None,
) -> tuple[Ints, Ints, Floats]:
    """Rows of SERIES_IDS with start <= ts <= end, unordered; with LAST, only each series'
    LAST most recent of those (selected in SQL over the (series_id, ts) key)."""
    if len(series_ids) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
    if is_postgres(session):
        return _read_postgres(session, series_ids, start, end, last)
    return _read_sqlite(session, series_ids, start, end, last)


def driver_connection(session: Session) -> Any:
    """The psycopg connection under the session, inside the session's transaction."""
    return session.connection().connection.driver_connection


def _write_postgres(session: Session, series_id: Ints, ts_us: Ints, value: Floats) -> int:
    batches = (
        encode_rows(series_id[part], ts_us[part], value[part]) for part in batch_slices(series_id)
    )
    return staged_merge(session, _CREATE_STAGE, _STAGE, "series_id, ts, value", _MERGE, batches)


def batch_slices(rows: np.ndarray) -> Iterator[slice]:
    """Consecutive slices of ROWS of at most PG_BATCH_ROWS rows each."""
    for lo in range(0, len(rows), PG_BATCH_ROWS):
        yield slice(lo, lo + PG_BATCH_ROWS)


def staged_merge(
    session: Session,
    create_stage: str,
    stage: str,
    columns: str,
    merge: str,
    payloads: Iterable[bytes],
) -> int:
    """Upsert on PostgreSQL: each binary COPY payload goes into the (emptied) temporary STAGE
    table, then MERGE moves it into the target; returns the rows MERGE inserted or changed."""
    written = 0
    with driver_connection(session).cursor() as cur:
        cur.execute(create_stage)
        for payload in payloads:
            cur.execute(f"TRUNCATE {stage}")
            with cur.copy(f"COPY {stage} ({columns}) FROM STDIN (FORMAT BINARY)") as cp:
                cp.write(payload)
            cur.execute(merge)
            written += max(cur.rowcount, 0)
    return written


def _read_postgres(
    session: Session,
    series_ids: Ints,
    start: datetime | None,
    end: datetime | None,
    last: int | None,
) -> tuple[Ints, Ints, Floats]:
    # One row per series, its timestamps and values packed server-side into bytea in their
    # binary wire form: a million points arrive as a thousand rows, decoded by numpy.
    conditions = [sql.SQL("series_id = ANY({})").format(sql.Literal(series_ids.tolist()))]
    if start is not None:
        conditions.append(sql.SQL("ts >= {}").format(sql.Literal(start)))
    if end is not None:
        conditions.append(sql.SQL("ts <= {}").format(sql.Literal(end)))
    source = sql.SQL("observations WHERE {}").format(sql.SQL(" AND ").join(conditions))
    if last is not None:  # each series' newest rows, walked backwards along its index
        source = sql.SQL(
            "unnest({}::bigint[]) AS s(id) CROSS JOIN LATERAL (SELECT series_id, ts, value"
            " FROM {} AND series_id = s.id ORDER BY ts DESC LIMIT {}) AS tail"
        ).format(sql.Literal(series_ids.tolist()), source, sql.Literal(int(last)))
    query = sql.SQL(
        "SELECT series_id, count(*),"
        " string_agg(timestamptz_send(ts), ''::bytea ORDER BY ts),"
        " string_agg(float8send(value), ''::bytea ORDER BY ts)"
        " FROM {} GROUP BY series_id"
    ).format(source)
    with driver_connection(session).cursor(binary=True) as cur:
        rows = cur.execute(query).fetchall()
    if not rows:
        return read(session, np.empty(0, np.int64), None, None)
    counts = np.array([row[1] for row in rows], dtype=np.int64)
    series_id = np.repeat(np.array([row[0] for row in rows], dtype=np.int64), counts)
    ts = np.frombuffer(b"".join(row[2] for row in rows), dtype=">i8").astype(np.int64)
    value = np.frombuffer(b"".join(row[3] for row in rows), dtype=">f8").astype(np.float64)
    return series_id, ts + PG_EPOCH_US, value


def _write_sqlite(session: Session, series_id: Ints, ts_us: Ints, value: Floats) -> int:
    stamps = pd.to_datetime(ts_us, unit="us", utc=True).to_pydatetime()
    stmt = sqlite.insert(Observation)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Observation.series_id, Observation.ts],
        set_={"value": stmt.excluded.value},
        where=Observation.value.is_distinct_from(stmt.excluded.value),
    )
    written = 0
    for lo in range(0, len(series_id), SQLITE_BATCH_ROWS):
        hi = lo + SQLITE_BATCH_ROWS
        rows = [
            {"series_id": int(s), "ts": t, "value": float(v)}
            for s, t, v in zip(series_id[lo:hi], stamps[lo:hi], value[lo:hi], strict=True)
        ]
        result = session.connection().execute(stmt, rows)
        written += max(result.rowcount, 0)
    return written


def _read_sqlite(
    session: Session,
    series_ids: Ints,
    start: datetime | None,
    end: datetime | None,
    last: int | None,
) -> tuple[Ints, Ints, Floats]:
    stmt = select(
        Observation.series_id, type_coerce(Observation.ts, String), Observation.value
    ).where(Observation.series_id.in_(series_ids.tolist()))
    if start is not None:
        stmt = stmt.where(Observation.ts >= start.astimezone(UTC))
    if end is not None:
        stmt = stmt.where(Observation.ts <= end.astimezone(UTC))
    if last is not None:
        rank = (
            func.row_number()
            .over(partition_by=Observation.series_id, order_by=Observation.ts.desc())
            .label("rank")
        )
        ranked = stmt.add_columns(rank).subquery()
        stmt = select(*list(ranked.c)[:3]).where(ranked.c.rank <= int(last))
    rows = session.execute(stmt).all()
    if not rows:
        return read(session, np.empty(0, np.int64), None, None)
    ids, stamps, values = zip(*rows, strict=True)
    ts = pd.to_datetime(pd.Series(stamps), format="ISO8601").astype("datetime64[us]")
    return (
        np.asarray(ids, dtype=np.int64),
        ts.to_numpy().astype(np.int64),
        np.asarray(values, dtype=np.float64),
    )
