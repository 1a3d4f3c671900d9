"""Prediction frames as per-series records (the shape the API and the worker answer with)."""

from __future__ import annotations

import pandas as pd

from forecaster.records import forecast_records, quantile_keys


def _prediction(ids: list[str], steps: list[int]) -> pd.DataFrame:
    rows = [
        {
            "unique_id": uid,
            "ds": pd.Timestamp("2024-01-01") + pd.Timedelta(hours=h),
            "mean": 10.0 * i + h,
            "q0.1": 10.0 * i + h - 1,
            "q0.9": 10.0 * i + h + 1,
        }
        for i, (uid, n) in enumerate(zip(ids, steps, strict=True))
        for h in range(n)
    ]
    return pd.DataFrame(rows, columns=["unique_id", "ds", "mean", "q0.1", "q0.9"])


def test_records_have_the_answer_shape_with_utc_timestamps() -> None:
    records = forecast_records(_prediction(["a"], [2]))
    assert records == [
        {
            "unique_id": "a",
            "ds": ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"],
            "mean": [0.0, 1.0],
            "quantiles": {"0.1": [-1.0, 0.0], "0.9": [1.0, 2.0]},
        }
    ]


def test_records_come_in_id_order_and_keep_each_series_values() -> None:
    frame = _prediction(["b", "a"], [3, 3])
    records = forecast_records(frame)
    assert [r["unique_id"] for r in records] == ["a", "b"]
    assert records[0]["mean"] == [10.0, 11.0, 12.0]
    assert records[1]["quantiles"]["0.9"] == [1.0, 2.0, 3.0]


def test_ragged_horizons_are_kept_per_series() -> None:
    records = forecast_records(_prediction(["a", "b"], [1, 3]))
    assert [len(r["ds"]) for r in records] == [1, 3]
    assert records[1]["mean"] == [10.0, 11.0, 12.0]


def test_a_subset_of_quantiles_can_be_chosen() -> None:
    frame = _prediction(["a"], [1])
    assert quantile_keys(frame) == {"0.1": "q0.1", "0.9": "q0.9"}
    (record,) = forecast_records(frame, {"0.9": "q0.9"})
    assert record["quantiles"] == {"0.9": [1.0]}


def test_an_empty_prediction_has_no_records() -> None:
    assert forecast_records(_prediction([], [])) == []
