"""How the client cuts frames for the wire, and how answers become frames again."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from forecaster.client.frames import (
    future_payload,
    long_frame,
    parquet_bytes,
    row_chunks,
    series_chunks,
    series_payload,
)
from forecaster.records import forecast_records, records_frame


def _frame(lengths: dict[str, int]) -> pd.DataFrame:
    parts = [
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
                "y": np.arange(n, dtype="float64"),
            }
        )
        for uid, n in lengths.items()
    ]
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=0)


def test_series_chunks_keep_series_whole_and_under_the_budget() -> None:
    frame = _frame({"a": 40, "b": 30, "c": 50, "d": 10, "e": 200})
    chunks = list(series_chunks(frame, points=80))
    assert [sorted(c["unique_id"].unique()) for c in chunks] == [["a", "b"], ["c", "d"], ["e"]]
    together = pd.concat(chunks, ignore_index=True)
    expected = frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(together, expected)


def test_row_chunks_cover_every_row_once() -> None:
    frame = _frame({"a": 25})
    sizes = [len(c) for c in row_chunks(frame, 10)]
    assert sizes == [10, 10, 5]
    assert [len(c) for c in row_chunks(frame.iloc[:0], 10)] == [0]


def test_parquet_keeps_types_and_values() -> None:
    """Every column beside unique_id, ds, y is a covariate and travels, text and numbers."""
    frame = long_frame(_frame({"a": 3, "b": 2}).assign(extra=1, region="north"))
    back = pq.read_table(io.BytesIO(parquet_bytes(frame))).to_pandas()
    assert list(back.columns) == ["unique_id", "ds", "y", "extra", "region"]
    assert back["y"].tolist() == frame["y"].tolist()
    assert back["extra"].tolist() == [1] * 5
    assert back["region"].tolist() == ["north"] * 5
    assert (back["ds"].to_numpy() == frame["ds"].to_numpy()).all()


def test_a_frame_without_the_columns_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match=r"missing \['y'\]"):
        long_frame(pd.DataFrame({"unique_id": ["a"], "ds": ["2024-01-01"]}))


def test_series_payload_is_sorted_with_utc_iso_stamps() -> None:
    payload = series_payload(_frame({"b": 2, "a": 1}))
    assert payload == [
        {"unique_id": "a", "ds": ["2024-01-01T00:00:00Z"], "y": [0.0]},
        {"unique_id": "b", "ds": ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"], "y": [0.0, 1.0]},
    ]


def test_records_frame_inverts_forecast_records() -> None:
    prediction = pd.DataFrame(
        {
            "unique_id": np.array(["a", "a", "b", "b"], dtype=object),
            "ds": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00"] * 2).astype(
                "datetime64[ns]"
            ),
            "mean": [1.0, 2.0, 3.0, 4.0],
            "q0.1": [0.5, 1.0, 2.0, 3.0],
            "q0.9": [2.0, 3.0, 4.0, np.nan],
        }
    )
    records = forecast_records(prediction)
    records[1]["quantiles"]["0.9"][1] = None  # NaN travels as JSON null
    pd.testing.assert_frame_equal(records_frame(records), prediction)


def test_covariates_go_with_each_posted_series_and_future_rows_become_future_values() -> None:
    ds = pd.date_range("2024-01-01", periods=4, freq="h")
    frame = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": ds,
            "y": [1.0, 2.0, None, None],
            "promo": [0, 1, 1, 0],
            "temp": [5.0, 6.0, None, None],
            "region": "north",
        }
    )
    (entry,) = series_payload(long_frame(frame), static=["region"])
    assert entry["y"] == [1.0, 2.0]
    assert entry["covariates"] == {"promo": [0.0, 1.0], "temp": [5.0, 6.0]}
    assert entry["future"] == {"promo": [1.0, 0.0]}  # temp is past-only: no future values
    assert entry["static"] == {"region": "north"}
    future = pd.DataFrame({"unique_id": "a", "ds": ds[2:], "promo": [0, 0], "temp": 1.0})
    (given,) = series_payload(long_frame(frame.iloc[:2]), ["region"], future)
    assert given["future"] == {"promo": [0.0, 0.0], "temp": [1.0, 1.0]}
    assert future_payload(future) == {"a": {"promo": [0.0, 0.0], "temp": [1.0, 1.0]}}
