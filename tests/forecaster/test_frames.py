"""The one validator of long frames: typed columns, and refusals naming series, column and row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from forecaster.errors import InvalidDataError, InvalidFrameError
from forecaster.frames import (
    refuse_repeats,
    series_codes,
    sort_without_repeats,
    validate_long_frame,
)


def _frame(**columns: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "unique_id": ["a", "b", "a"],
        "ds": ["2024-01-02", "2024-01-01", "2024-01-01T00:00:00+01:00"],
        "y": [1, 2.5, "3"],
    }
    return pd.DataFrame({**base, **columns})


def test_columns_come_back_typed_in_input_order() -> None:
    out = validate_long_frame(_frame())
    assert out["unique_id"].tolist() == ["a", "b", "a"]
    assert out["ds"].dtype == np.dtype("datetime64[ns]")
    assert out["ds"].iloc[2] == pd.Timestamp("2023-12-31 23:00")  # offsets become UTC
    assert out["y"].tolist() == [1.0, 2.5, 3.0]
    ordered = sort_without_repeats(out)
    assert ordered["unique_id"].tolist() == ["a", "a", "b"]
    expected = ["2023-12-31 23:00", "2024-01-02", "2024-01-01"]
    assert ordered["ds"].tolist() == [pd.Timestamp(stamp) for stamp in expected]


@pytest.mark.parametrize(
    ("columns", "column", "row", "kind", "series"),
    [
        ({"y": [1, "x", 3]}, "y", 2, "non_numeric", "b"),
        ({"y": [1, 2, np.inf]}, "y", 3, "not_finite", "a"),
        ({"ds": ["2024-01-01", "yesterday", "2024-01-02"]}, "ds", 2, "unparseable", "b"),
        ({"ds": ["2024-01-01", None, "2024-01-02"]}, "ds", 2, "missing", "b"),
        ({"unique_id": ["a", None, "b"]}, "unique_id", 2, "missing", None),
        ({"ds": ["2024-01-01", "2300-01-01", "2024-01-02"]}, "ds", None, "range", None),
    ],
)
def test_refusals_name_the_column_row_and_series(
    columns: dict[str, list[object]], column: str, row: int | None, kind: str, series: str | None
) -> None:
    with pytest.raises(InvalidFrameError) as info:
        validate_long_frame(_frame(**columns))
    assert isinstance(info.value, InvalidDataError)  # callers of the core catch one type
    got = (info.value.column, info.value.row, info.value.kind, info.value.series)
    assert got == (column, row, kind, series)


def test_repeats_are_refused_at_their_input_row_sorted_or_not() -> None:
    frame = validate_long_frame(_frame(ds=["2024-01-02", "2024-01-01", "2024-01-02"]))
    for check in (refuse_repeats, sort_without_repeats):
        with pytest.raises(InvalidFrameError, match="duplicate timestamp") as info:
            check(frame)
        assert (info.value.row, info.value.series, info.value.kind) == (3, "a", "duplicate")


def test_nul_in_an_id_is_refused_at_its_input_row_sorted_or_not() -> None:
    frame = validate_long_frame(_frame(unique_id=["a", "b\x00", "b"]))
    for check in (refuse_repeats, sort_without_repeats):
        with pytest.raises(InvalidFrameError, match="NUL") as info:
            check(frame)
        assert (info.value.row, info.value.column, info.value.kind) == (2, "unique_id", "nul")


def test_iso_only_refuses_what_the_lenient_default_reads() -> None:
    frame = _frame(ds=["01/02/2024", "2024-01-01", "2024-01-03"])
    assert validate_long_frame(frame)["ds"].iloc[0] == pd.Timestamp("2024-01-02")
    with pytest.raises(InvalidFrameError, match="'01/02/2024'"):
        validate_long_frame(frame, iso_only=True)


def test_rows_are_counted_by_position_whatever_the_index() -> None:
    frame = _frame(y=[1, 2, "x"]).set_axis([10, 5, 7])
    with pytest.raises(InvalidFrameError) as info:
        validate_long_frame(frame)
    assert (info.value.row, info.value.series) == (3, "a")


@pytest.mark.parametrize("dtype", [object, "str"])
def test_rows_sort_by_id_as_python_sorts_text_then_by_time(dtype: object) -> None:
    # Ids whose code-point order differs from their case-folded or length order; rows shuffled.
    ids = ["b", "B", "ä", "a10", "a9", "Z", "é"]
    stamps = pd.date_range("2024-01-01", periods=3, freq="h")
    rows = [(uid, ts, float(i)) for i, (uid, ts) in enumerate((u, t) for u in ids for t in stamps)]
    order = np.random.default_rng(0).permutation(len(rows))
    frame = pd.DataFrame([rows[i] for i in order], columns=["unique_id", "ds", "y"])
    frame["unique_id"] = frame["unique_id"].astype(dtype)
    out = sort_without_repeats(validate_long_frame(frame))
    expected = sorted(rows, key=lambda row: (row[0], row[1]))
    assert list(out["unique_id"]) == [row[0] for row in expected]
    assert list(out["ds"]) == [row[1] for row in expected]
    assert list(out["y"]) == [row[2] for row in expected]
    assert list(out.index) == list(range(len(rows)))


def test_arrow_ids_in_several_chunks_get_the_codes_factorize_gives() -> None:
    ids = ["b", "B", "ä", "a10", "b", "é", "a9", "ä"]
    chunked = pa.chunked_array([ids[:3], ids[3:]], type=pa.large_string())
    codes, names = series_codes(pd.Series(pd.arrays.ArrowExtensionArray(chunked)))
    expected_codes, expected_names = pd.factorize(np.array(ids, dtype=object), sort=True)
    assert codes.tolist() == expected_codes.tolist()
    assert names.tolist() == list(expected_names)
