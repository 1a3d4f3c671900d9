"""Parquet ingest bodies (``application/vnd.apache.parquet``): decode, then the one validator.

This module only turns the bytes into a frame (``unique_id, ds, y`` and any covariate columns);
``api.ingest.validate_frame``
checks them exactly as it checks JSON and CSV bodies, so every format refuses the same things.
Reading Parquet executes no code from the file; its row count is checked from the footer before
any data is decoded, so a small file cannot unpack into an unbounded frame.
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from api.errors import InvalidFieldError
from api.ingest import COLUMNS, validate_frame

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
MAX_ROWS = 10_000_000


def parse_parquet(body: bytes, unique_id: str | None) -> pd.DataFrame:
    """A Parquet body with columns ``unique_id, ds, y`` (or ``ds, y`` plus ``?unique_id=``),
    and any covariate columns (numbers, booleans or text); ``y`` may be null in future rows
    when there are covariates."""
    table = _read_table(body, unique_id)
    frame = table.to_pandas()
    if unique_id is not None:
        frame.insert(0, "unique_id", unique_id)
    if frame.empty:
        raise InvalidFieldError("parquet", "the Parquet file has no rows")
    covariates = len(frame.columns) > len(COLUMNS)
    for column in COLUMNS if not covariates else ("unique_id", "ds"):
        _refuse(frame[column].isna(), column, "the value is null")
    return validate_frame(frame, source="parquet")


def _refuse(mask: pd.Series, column: str, reason: str) -> None:
    """422 naming the first row where ``mask`` holds."""
    if mask.any():
        row = int(mask.to_numpy().argmax()) + 1
        raise InvalidFieldError(f"parquet.{column}", f"row {row}: {reason}")


def _read_table(body: bytes, unique_id: str | None) -> pa.Table:
    expected = ["ds", "y"] if unique_id is not None else list(COLUMNS)
    parquet = _open(body)
    names = list(parquet.schema_arrow.names)
    if not set(expected) <= set(names) or len(set(names)) != len(names):
        reason = f"expected the columns {','.join(expected)} (then any covariates); got "
        raise InvalidFieldError("parquet.columns", reason + ",".join(names))
    if "unique_id" in names and unique_id is not None:
        raise InvalidFieldError("parquet.columns", "the Parquet file has a unique_id column")
    expected = [*expected, *(n for n in names if n not in COLUMNS)]
    if parquet.metadata.num_rows > MAX_ROWS:
        reason = f"{parquet.metadata.num_rows} rows; send at most {MAX_ROWS} per request"
        raise InvalidFieldError("parquet", reason)
    try:
        return parquet.read(columns=expected)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _unreadable(exc) from exc


def _open(body: bytes) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(io.BytesIO(body))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _unreadable(exc) from exc


def _unreadable(exc: Exception) -> InvalidFieldError:
    return InvalidFieldError("parquet", f"the body is not a readable Parquet file: {exc}")
