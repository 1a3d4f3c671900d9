"""The numpy codec for PostgreSQL binary COPY round-trips exactly."""

from __future__ import annotations

import numpy as np
import pytest

from models.pgcopy import HEADER, TRAILER, decode_rows, encode_rows


def test_rows_round_trip_bit_for_bit() -> None:
    series_id = np.array([1, 2, 2**40], dtype=np.int64)
    ts_us = np.array([0, 1_700_000_000_123_456, -86_400_000_000], dtype=np.int64)
    value = np.array([0.1, -1e300, 5e-324], dtype=np.float64)
    got = decode_rows(encode_rows(series_id, ts_us, value))
    np.testing.assert_array_equal(got[0], series_id)
    np.testing.assert_array_equal(got[1], ts_us)
    assert got[2].tobytes() == value.tobytes()


def test_empty_stream_decodes_to_empty_arrays() -> None:
    series_id, ts_us, value = decode_rows(HEADER + TRAILER)
    assert len(series_id) == len(ts_us) == len(value) == 0


@pytest.mark.parametrize("data", [b"garbage", HEADER + b"\x00\x03" + TRAILER])
def test_malformed_streams_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="COPY"):
        decode_rows(data)
