"""The numpy encoder for PostgreSQL binary COPY lays rows out as the protocol says."""

from __future__ import annotations

import struct

import numpy as np

from models.pgcopy import HEADER, PG_EPOCH_US, ROW, TRAILER, encode_rows


def test_rows_follow_the_binary_copy_layout() -> None:
    series_id = np.array([7, 2**40], dtype=np.int64)
    ts_us = np.array([PG_EPOCH_US + 1, 0], dtype=np.int64)
    value = np.array([0.1, -1e300], dtype=np.float64)
    data = encode_rows(series_id, ts_us, value)
    assert data.startswith(b"PGCOPY\n\xff\r\n\x00")
    assert data.endswith(TRAILER)
    assert len(data) == len(HEADER) + 2 * ROW.itemsize + len(TRAILER)
    first = struct.unpack(">hiqiqid", data[len(HEADER) : len(HEADER) + ROW.itemsize])
    assert first == (3, 8, 7, 8, 1, 8, 0.1)
    second = struct.unpack(">hiqiqid", data[len(HEADER) + ROW.itemsize : -len(TRAILER)])
    assert second == (3, 8, 2**40, 8, -PG_EPOCH_US, 8, -1e300)


def test_no_rows_is_header_and_trailer() -> None:
    empty = np.empty(0, dtype=np.int64)
    assert encode_rows(empty, empty, np.empty(0)) == HEADER + TRAILER
