"""api.forecasting.recent: each series' last rows, whatever order the series came in."""

from __future__ import annotations

import pandas as pd
import pytest

from api.forecasting import recent
from tests.api.conftest import series_frame


def _reference(history: pd.DataFrame, points: int) -> pd.DataFrame:
    ordered = history.sort_values(["unique_id", "ds"], kind="stable")
    return ordered.groupby("unique_id", sort=False).tail(points)


def _rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    return sorted(frame.itertuples(index=False, name=None))


@pytest.mark.parametrize(
    "arrange",
    [
        lambda f: f,  # as posted: series after series, oldest first
        lambda f: f.iloc[::-1],  # newest first
        lambda f: f.sample(frac=1.0, random_state=0),  # shuffled rows
        lambda f: pd.concat([f[f["unique_id"] != "s1"], f[f["unique_id"] == "s1"]]),  # s1 last
        lambda f: pd.concat([f.iloc[:50], f.iloc[150:], f.iloc[50:150]]),  # a series split
    ],
)
def test_recent_keeps_each_series_last_points(arrange: object) -> None:
    history = arrange(series_frame(n_series=3, points=40))  # type: ignore[operator]
    kept = recent(history.reset_index(drop=True), 24)
    assert _rows(kept) == _rows(_reference(history, 24))
    assert kept.groupby("unique_id").size().tolist() == [24, 24, 24]


def test_recent_leaves_short_histories_alone() -> None:
    history = series_frame(n_series=2, points=10)
    assert recent(history, 24) is history
