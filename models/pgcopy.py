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
