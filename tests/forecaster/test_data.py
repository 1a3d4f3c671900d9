"""Input validation: every bad input raises InvalidDataError naming the series and the problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster import Forecaster, HorizonError, InvalidDataError
from forecaster.data import prepare

from .conftest import TINY


def _series(uid: str, n: int = 10, freq: str = "h", start: str = "2021-01-01") -> pd.DataFrame:
    ds = pd.date_range(start, periods=n, freq=freq)
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.arange(n, dtype=float)})


def _frame(*parts: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True)


def test_empty_frame() -> None:
    with pytest.raises(InvalidDataError, match="empty"):
        prepare(pd.DataFrame({"unique_id": [], "ds": [], "y": []}))


def test_missing_columns() -> None:
    with pytest.raises(InvalidDataError, match="missing column"):
        prepare(pd.DataFrame({"unique_id": ["a"], "y": [1.0]}))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_values_name_the_series(bad: float) -> None:
    broken = _series("b")
    broken.loc[3, "y"] = bad
    with pytest.raises(InvalidDataError, match="NaN or infinite") as info:
        prepare(_frame(_series("a"), broken))
    assert info.value.series == "b"
    assert "'b'" in str(info.value)


def test_non_numeric_values() -> None:
    broken = _series("b").astype({"y": object})
    broken.loc[2, "y"] = "lots"
    with pytest.raises(InvalidDataError, match="non-numeric") as info:
        prepare(_frame(_series("a"), broken))
    assert info.value.series == "b"


def test_duplicate_timestamps() -> None:
    broken = _series("b")
    broken.loc[4, "ds"] = broken.loc[3, "ds"]
    with pytest.raises(InvalidDataError, match="duplicate timestamp") as info:
        prepare(_frame(_series("a"), broken))
    assert info.value.series == "b"


def test_unparseable_timestamps() -> None:
    broken = _series("b").astype({"ds": object})
    broken["ds"] = broken["ds"].astype(str)
    broken.loc[5, "ds"] = "not a date"
    with pytest.raises(InvalidDataError, match="unparseable timestamp") as info:
        prepare(_frame(_series("a").astype({"ds": str}), broken))
    assert info.value.series == "b"


def test_mixed_frequencies() -> None:
    with pytest.raises(InvalidDataError, match="mixed frequencies") as info:
        prepare(_frame(_series("a"), _series("b"), _series("c", freq="D")))
    assert info.value.series == "c"


def test_irregular_timestamps_cannot_be_inferred() -> None:
    ds = pd.to_datetime(
        ["2021-01-01 00:00", "2021-01-01 00:07", "2021-01-01 01:00", "2021-01-02 00:00"]
    )
    odd = pd.DataFrame({"unique_id": "odd", "ds": ds, "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(InvalidDataError, match="frequency") as info:
        prepare(odd)
    assert info.value.series == "odd"


def test_too_few_points_to_infer_a_frequency() -> None:
    with pytest.raises(InvalidDataError, match="infer the frequency") as info:
        prepare(_series("tiny", n=2))
    assert info.value.series == "tiny"
    assert len(prepare(_series("tiny", n=2), freq="h").values[0]) == 2


def test_timestamps_off_the_given_grid() -> None:
    with pytest.raises(InvalidDataError, match="grid") as info:
        prepare(_series("a", start="2021-01-01 00:30"), freq="D")
    assert info.value.series == "a"


def test_too_short_series_for_training_names_it() -> None:
    # horizon 6 and a daily season of 24: a series needs 6 input points + the 6 validated ones
    # + two backtest windows of 6
    frame = _frame(_series("long", n=200), _series("short", n=23))
    with pytest.raises(InvalidDataError, match=r"training .* needs at least 24") as info:
        Forecaster(TINY).fit(frame, horizon=6)
    assert info.value.series == "short"
    without_backtest = TINY.model_copy(update={"backtest_windows": 0})
    with pytest.raises(InvalidDataError, match=r"training .* needs at least 12"):
        Forecaster(without_backtest).fit(_frame(_series("long", n=200), _series("s", n=11)), 6)


@pytest.mark.parametrize("horizon", [0, -3])
def test_horizon_below_one(horizon: int) -> None:
    with pytest.raises(HorizonError):
        Forecaster(TINY).fit(_series("a", n=200), horizon=horizon)


def test_unsorted_rows_and_timezones_are_normalised() -> None:
    frame = _series("a").sample(frac=1.0, random_state=1)
    frame["ds"] = frame["ds"].dt.tz_localize("Europe/Paris")
    panel = prepare(frame)
    assert panel.freq == "h"
    np.testing.assert_array_equal(panel.values[0], np.arange(10.0))
    assert panel.starts[0] == pd.Timestamp("2020-12-31 23:00")  # UTC, naive


def test_frequency_inferred_despite_gaps() -> None:
    frame = _series("a").drop(index=[3, 4]).reset_index(drop=True)
    panel = prepare(frame)
    assert panel.freq == "h"
    np.testing.assert_allclose(panel.values[0], np.arange(10.0))  # linear interpolation


@pytest.mark.parametrize(
    ("fill", "expected"),
    [("ffill", [0, 1, 2, 2, 2, 5]), ("zero", [0, 1, 2, 0, 0, 5]), ("interpolate", range(6))],
)
def test_fill_policies(fill: str, expected: list[float]) -> None:
    frame = _series("a", n=6).drop(index=[3, 4])
    panel = prepare(frame, freq="h", fill=fill)  # type: ignore[arg-type]
    np.testing.assert_allclose(panel.values[0], np.asarray(expected, dtype=float))


def test_fill_error_policy_names_the_gap() -> None:
    frame = _frame(_series("a"), _series("b").drop(index=[3]))
    with pytest.raises(InvalidDataError, match="missing timestamp") as info:
        prepare(frame, fill="error")
    assert info.value.series == "b"


@pytest.mark.parametrize(
    ("freq", "expected"),
    [
        ("h", "h"),
        ("D", "D"),
        ("W-SUN", "W-SUN"),
        ("MS", "MS"),
        ("ME", "ME"),
        ("QS-JAN", "QS-JAN"),
        ("YE-DEC", "YE-DEC"),
        ("15min", "15min"),
    ],
)
def test_frequencies_are_inferred(freq: str, expected: str) -> None:
    assert prepare(_series("a", n=12, freq=freq)).freq == expected


@pytest.mark.parametrize("freq", ["h", "15min", "D", "W-WED", "2h"])
@pytest.mark.parametrize("given", [False, True])
def test_vectorised_path_agrees_with_the_per_series_path(
    freq: str, given: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _frame(_series("b", n=12, freq=freq), _series("a", n=5, freq=freq, start="2021-03-03"))
    fast = prepare(frame, freq if given else None)
    monkeypatch.setattr("forecaster.data._regular_fast_path", lambda *_: None)
    slow = prepare(frame, freq if given else None)
    assert fast.ids == slow.ids == ("a", "b")
    assert fast.freq == slow.freq
    assert fast.starts == slow.starts
    for f, s in zip(fast.values, slow.values, strict=True):
        np.testing.assert_array_equal(f, s)
