"""Memory at scale: prepare reads a well-typed frame without copying its columns (its stamps
in their own unit included), and the validation it skips for well-typed input still holds on
the copying path."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from forecaster import frames
from forecaster.data import Panel, prepare
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


def _same_panel(a: Panel, b: Panel) -> None:
    assert a.ids == b.ids
    assert a.starts == b.starts
    assert all(s.unit == "ns" for s in a.starts)  # the panel's stamps, whatever the frame's unit
    assert all(np.array_equal(x, y) for x, y in zip(a.values, b.values, strict=True))


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
@pytest.mark.parametrize("shuffled", [False, True])
def test_stamps_in_any_unit_give_the_nanosecond_panel(unit: str, shuffled: bool) -> None:
    frame = seasonal_frame()
    frame["ds"] = frame["ds"].astype("datetime64[ns]")
    if shuffled:
        frame = frame.sample(frac=1.0, random_state=0)
    coarse = frame.assign(ds=frame["ds"].astype(f"datetime64[{unit}]"))
    _same_panel(prepare(coarse), prepare(frame))


@pytest.mark.parametrize("shuffled", [False, True])
def test_time_zone_aware_stamps_in_microseconds_give_the_utc_panel(shuffled: bool) -> None:
    frame = seasonal_frame()
    frame["ds"] = frame["ds"].astype("datetime64[ns]")
    aware = frame.assign(ds=frame["ds"].dt.tz_localize("UTC").dt.tz_convert("Asia/Kolkata"))
    aware["ds"] = aware["ds"].astype("datetime64[us, Asia/Kolkata]")
    if shuffled:
        frame, aware = (f.sample(frac=1.0, random_state=0) for f in (frame, aware))
    panel = prepare(aware)
    _same_panel(panel, prepare(frame))
    assert panel.tz == "Asia/Kolkata"


def test_microsecond_stamps_are_not_copied() -> None:
    frame = seasonal_frame()
    frame["ds"] = frame["ds"].astype("datetime64[us]")
    checked = frames.validate_long_frame(frame, own_unit=True)
    assert checked["ds"].dtype == np.dtype("datetime64[us]")
    assert np.shares_memory(checked["ds"].to_numpy(), frame["ds"].to_numpy())
    assert frames.validate_long_frame(frame)["ds"].dtype == np.dtype("datetime64[ns]")


def test_a_step_finer_than_the_unit_takes_the_per_series_path() -> None:
    frame = seasonal_frame(freq="500ms")
    frame["ds"] = frame["ds"].astype("datetime64[ms]")
    panel = prepare(frame, freq="500ms")
    assert panel.freq == "500ms"
    _same_panel(panel, prepare(frame.assign(ds=frame["ds"].astype("datetime64[ns]"))))


@pytest.mark.parametrize("stamp", ["1500-01-01", "2300-01-01"])
def test_stamps_outside_the_nanosecond_range_are_refused_in_their_own_unit(stamp: str) -> None:
    frame = seasonal_frame()
    frame["ds"] = frame["ds"].astype("datetime64[us]")
    frame.loc[4, "ds"] = pd.Timestamp(stamp).as_unit("us")
    frame.loc[2, "ds"] = pd.NaT  # a missing stamp is no extreme: the range is checked first
    with pytest.raises(InvalidDataError, match="out of range"):
        prepare(frame)


def test_fit_does_not_load_torch_dynamo() -> None:
    # torch.optim's optimizers import it (68 MB resident); forecaster.adamw stands in.
    script = (
        "import sys\n"
        "from forecaster import Forecaster\n"
        "from tests.forecaster.conftest import TINY, seasonal_frame\n"
        "Forecaster(TINY).fit(seasonal_frame(), horizon=6).predict()\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
