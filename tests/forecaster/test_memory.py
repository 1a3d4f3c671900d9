"""Memory at scale: prepare reads a well-typed frame without copying its columns, and the
validation it skips for well-typed input still holds on the copying path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
