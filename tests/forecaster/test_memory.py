"""Memory at scale: prepare reads a well-typed frame without copying its columns, and the
validation it skips for well-typed input still holds on the copying path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster import frames
from forecaster.data import prepare
from forecaster.errors import InvalidDataError

from .conftest import seasonal_frame


def test_a_float64_sorted_frame_is_not_copied() -> None:
    frame = seasonal_frame()
    panel = prepare(frame)
    y = frame["y"].to_numpy()
    assert all(np.shares_memory(v, y) for v in panel.values)  # views, not copies
    assert [len(v) for v in panel.values] == [120, 127, 134]


def test_the_callers_frame_is_left_as_it_was() -> None:
    frame = seasonal_frame().sample(frac=1.0, random_state=0)  # unsorted: the sorting path
    before = frame.copy()
    prepare(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_non_numeric_values_are_still_refused_on_the_converting_path() -> None:
    frame = seasonal_frame()
    frame["y"] = frame["y"].astype(object)
    frame.loc[5, "y"] = "n/a"
    with pytest.raises(InvalidDataError, match="non-numeric value 'n/a'"):
        prepare(frame)


def test_repeated_or_falling_timestamps_in_sorted_ids_are_found() -> None:
    frame = seasonal_frame()
    frame.loc[3, "ds"] = frame.loc[2, "ds"]  # a repeat inside series s0
    with pytest.raises(InvalidDataError, match="duplicate timestamp"):
        prepare(frame)


@pytest.mark.parametrize("shuffled", [False, True])
def test_neighbours_compared_in_blocks_give_the_same_panel(
    shuffled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = seasonal_frame()
    if shuffled:
        frame = frame.sample(frac=1.0, random_state=0)
    whole = prepare(frame)
    monkeypatch.setattr(frames, "NEIGHBOUR_BLOCK", 7)  # blocks end inside and between series
    blocked = prepare(frame)
    assert blocked.ids == whole.ids
    assert blocked.starts == whole.starts
    assert all(np.array_equal(a, b) for a, b in zip(blocked.values, whole.values, strict=True))


@pytest.mark.parametrize("shuffled", [False, True])
def test_a_repeat_across_a_block_boundary_is_found(
    shuffled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(frames, "NEIGHBOUR_BLOCK", 7)
    frame = seasonal_frame()
    frame.loc[8, "ds"] = frame.loc[7, "ds"]  # rows 7 and 8: the first pair of the second block
    if shuffled:
        frame = frame.sample(frac=1.0, random_state=0)
    with pytest.raises(InvalidDataError, match="duplicate timestamp"):
        prepare(frame)
