"""PostgreSQL binary COPY of observation rows ``(int8, timestamptz, float8)`` with numpy.

Every row has the same width, so a whole batch encodes as one structured array: no Python
object per row. Timestamps travel as microseconds since 2000-01-01 UTC, PostgreSQL's
binary representation of ``timestamptz``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = SIGNATURE + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = b"\xff\xff"
# Microseconds from the Unix epoch to PostgreSQL's epoch, 2000-01-01T00:00:00Z.
PG_EPOCH_US = 946_684_800_000_000

ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("len_id", ">i4"),
        ("series_id", ">i8"),
        ("len_ts", ">i4"),
        ("ts", ">i8"),
        ("len_value", ">i4"),
        ("value", ">f8"),
    ]
)


def encode_rows(
    series_id: npt.NDArray[np.int64], ts_us: npt.NDArray[np.int64], value: npt.NDArray[np.float64]
) -> bytes:
    """A complete binary COPY stream; TS_US are microseconds since the Unix epoch (UTC)."""
    rows = np.empty(len(series_id), dtype=ROW)
    rows["fields"] = 3
    rows["len_id"] = rows["len_ts"] = rows["len_value"] = 8
    rows["series_id"] = series_id
    rows["ts"] = ts_us - PG_EPOCH_US
    rows["value"] = value
    return HEADER + rows.tobytes() + TRAILER


COVARIATE_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("len_id", ">i4"),
        ("series_id", ">i8"),
        ("len_ts", ">i4"),
        ("ts", ">i8"),
        ("len_column", ">i4"),
        ("column_id", ">i8"),
        ("len_value", ">i4"),
        ("value", ">f8"),
    ]
)


def encode_covariate_rows(
    series_id: npt.NDArray[np.int64],
    ts_us: npt.NDArray[np.int64],
    column_id: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
) -> bytes:
    """A binary COPY stream of ``(int8 series_id, timestamptz ts, int8 column_id, float8)``."""
    rows = np.empty(len(series_id), dtype=COVARIATE_ROW)
    rows["fields"] = 4
    rows["len_id"] = rows["len_ts"] = rows["len_column"] = rows["len_value"] = 8
    rows["series_id"] = series_id
    rows["ts"] = ts_us - PG_EPOCH_US
    rows["column_id"] = column_id
    rows["value"] = value
    return HEADER + rows.tobytes() + TRAILER


def decode_covariate_rows(
    stream: bytes,
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]
]:
    """The columns of a binary COPY stream of covariate rows (none of them NULL), as written
    by ``COPY (SELECT series_id, ts, column_id, value ...) TO STDOUT (FORMAT BINARY)``."""
    body = stream[len(HEADER) : len(stream) - len(TRAILER)]
    rows = np.frombuffer(body, dtype=COVARIATE_ROW)
    return (
        rows["series_id"].astype(np.int64),
        rows["ts"].astype(np.int64) + PG_EPOCH_US,
        rows["column_id"].astype(np.int64),
        rows["value"].astype(np.float64),
    )
