"""PostgreSQL binary COPY of observation rows ``(int8, timestamptz, float8)`` with numpy.

Every row has the same width, so a whole batch encodes and decodes as one structured array:
no Python object per row. Timestamps travel as microseconds since 2000-01-01 UTC, PostgreSQL's
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


def decode_rows(
    data: bytes,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(series_id, microseconds since the Unix epoch, value) from a binary COPY stream."""
    if not data.startswith(SIGNATURE) or not data.endswith(TRAILER):
        raise ValueError("not a PostgreSQL binary COPY stream")
    extension = int.from_bytes(data[15:19], "big")
    body = memoryview(data)[19 + extension : len(data) - len(TRAILER)]
    if len(body) % ROW.itemsize:
        raise ValueError("binary COPY stream has an unexpected row width")
    rows = np.frombuffer(body, dtype=ROW)
    if len(rows) and not (
        (rows["fields"] == 3).all()
        and (rows["len_id"] == 8).all()
        and (rows["len_ts"] == 8).all()
        and (rows["len_value"] == 8).all()
    ):
        raise ValueError("binary COPY stream holds NULLs or unexpected column types")
    series_id = rows["series_id"].astype(np.int64)
    ts_us = rows["ts"].astype(np.int64) + PG_EPOCH_US
    return series_id, ts_us, rows["value"].astype(np.float64)
