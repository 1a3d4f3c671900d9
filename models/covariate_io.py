"""Moving covariate values in bulk, per backend, as numpy arrays (``observation_io``'s twin).

Arrays: ``series_id`` int64, ``ts_us`` int64 microseconds since the Unix epoch (UTC),
``column_id`` int64 (a ``dataset_columns`` row), ``value`` float64 (a number or a category's
code). PostgreSQL writes stream binary COPY into a temporary table and merge it in batches;
reads come back as one binary COPY decoded by numpy. SQLite uses batched executemany.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
from psycopg import sql
from sqlalchemy import String, select, type_coerce
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from models.dialects import is_postgres
from models.observation_io import (
    SQLITE_BATCH_ROWS,
    batch_slices,
    driver_connection,
    staged_merge,
)
from models.pgcopy import decode_covariate_rows, encode_covariate_rows
from models.tables import CovariateValue

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

_STAGE = "covariate_values_stage"
_CREATE_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (series_id int8 NOT NULL, ts timestamptz NOT NULL,"
    " column_id int8 NOT NULL, value float8 NOT NULL) ON COMMIT DROP"
)
_COLUMNS = "series_id, ts, column_id, value"
# Sorted by the key (no deadlocks between concurrent writers); unchanged values are not rewritten.
_MERGE = f"""
INSERT INTO covariate_values ({_COLUMNS})
SELECT {_COLUMNS} FROM {_STAGE} ORDER BY series_id, ts, column_id
ON CONFLICT (series_id, ts, column_id) DO UPDATE SET value = EXCLUDED.value
WHERE covariate_values.value IS DISTINCT FROM EXCLUDED.value
"""


def write(session: Session, series_id: Ints, ts_us: Ints, column_id: Ints, value: Floats) -> int:
    """Upsert the values; returns how many were inserted or changed."""
    if len(series_id) == 0:
        return 0
    if not is_postgres(session):
        return _write_sqlite(session, series_id, ts_us, column_id, value)
    batches = (
        encode_covariate_rows(series_id[part], ts_us[part], column_id[part], value[part])
        for part in batch_slices(series_id)
    )
    return staged_merge(session, _CREATE_STAGE, _STAGE, _COLUMNS, _MERGE, batches)


def insert_new(
    session: Session, series_id: Ints, ts_us: Ints, column_id: Ints, value: Floats
) -> int:
    """Insert values of series created in this transaction: on PostgreSQL a straight COPY."""
    if len(series_id) == 0:
        return 0
    if not is_postgres(session):
        return _write_sqlite(session, series_id, ts_us, column_id, value)
    payload = encode_covariate_rows(series_id, ts_us, column_id, value)
    copy = f"COPY covariate_values ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
    with driver_connection(session).cursor() as cur, cur.copy(copy) as cp:
        cp.write(payload)
    return len(series_id)


def read(
    session: Session, series_ids: Ints, column_ids: Ints, start: datetime | None
) -> tuple[Ints, Ints, Ints, Floats]:
    """Values of SERIES_IDS in COLUMN_IDS with ``ts >= start`` (all when None), unordered."""
    if len(series_ids) == 0 or len(column_ids) == 0:
        empty = np.empty(0, np.int64)
        return empty, empty, empty, np.empty(0, np.float64)
    if is_postgres(session):
        return _read_postgres(session, series_ids, column_ids, start)
    return _read_sqlite(session, series_ids, column_ids, start)


def _read_postgres(
    session: Session, series_ids: Ints, column_ids: Ints, start: datetime | None
) -> tuple[Ints, Ints, Ints, Floats]:
    conditions = [
        sql.SQL("series_id = ANY({})").format(sql.Literal(series_ids.tolist())),
        sql.SQL("column_id = ANY({})").format(sql.Literal(column_ids.tolist())),
    ]
    if start is not None:
        conditions.append(sql.SQL("ts >= {}").format(sql.Literal(start)))
    template = sql.SQL("COPY (SELECT {} FROM covariate_values WHERE {}) TO STDOUT (FORMAT BINARY)")
    query = template.format(sql.SQL(_COLUMNS), sql.SQL(" AND ").join(conditions))
    sink = io.BytesIO()
    with driver_connection(session).cursor() as cur, cur.copy(query) as cp:
        for block in cp:
            sink.write(block)
    return decode_covariate_rows(sink.getvalue())


def _write_sqlite(
    session: Session, series_id: Ints, ts_us: Ints, column_id: Ints, value: Floats
) -> int:
    stamps = pd.to_datetime(ts_us, unit="us", utc=True).to_pydatetime()
    stmt = sqlite.insert(CovariateValue)
    stmt = stmt.on_conflict_do_update(
        index_elements=[CovariateValue.series_id, CovariateValue.ts, CovariateValue.column_id],
        set_={"value": stmt.excluded.value},
        where=CovariateValue.value.is_distinct_from(stmt.excluded.value),
    )
    written = 0
    for lo in range(0, len(series_id), SQLITE_BATCH_ROWS):
        part = slice(lo, lo + SQLITE_BATCH_ROWS)
        rows = [
            {"series_id": int(s), "ts": t, "column_id": int(c), "value": float(v)}
            for s, t, c, v in zip(
                series_id[part], stamps[part], column_id[part], value[part], strict=True
            )
        ]
        written += max(session.connection().execute(stmt, rows).rowcount, 0)
    return written


def _read_sqlite(
    session: Session, series_ids: Ints, column_ids: Ints, start: datetime | None
) -> tuple[Ints, Ints, Ints, Floats]:
    stmt = select(
        CovariateValue.series_id,
        type_coerce(CovariateValue.ts, String),
        CovariateValue.column_id,
        CovariateValue.value,
    ).where(
        CovariateValue.series_id.in_(series_ids.tolist()),
        CovariateValue.column_id.in_(column_ids.tolist()),
    )
    if start is not None:
        stmt = stmt.where(CovariateValue.ts >= start.astimezone(UTC))
    rows = session.execute(stmt).all()
    if not rows:
        return read(session, np.empty(0, np.int64), column_ids, None)
    ids, stamps, columns, values = zip(*rows, strict=True)
    ts = pd.to_datetime(pd.Series(stamps), format="ISO8601").astype("datetime64[us]")
    return (
        np.asarray(ids, dtype=np.int64),
        ts.to_numpy().astype(np.int64),
        np.asarray(columns, dtype=np.int64),
        np.asarray(values, dtype=np.float64),
    )
