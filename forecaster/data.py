"""Input validation and regularisation: a long frame becomes a Panel of gap-free series."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BaseOffset

from forecaster.calendar import fixed_offset, infer_series_freq, on_grid, parse_freq
from forecaster.errors import InvalidDataError
from forecaster.frames import sort_without_repeats, validate_long_frame

FillPolicy = Literal["interpolate", "ffill", "zero", "error"]


@dataclass(frozen=True)
class Panel:
    """Series on one regular grid: ``values[i]`` starts at ``starts[i]`` with step ``freq``."""

    ids: tuple[str, ...]
    values: tuple[np.ndarray, ...]
    starts: tuple[pd.Timestamp, ...]
    freq: str

    @property
    def lengths(self) -> np.ndarray:
        """Points per series."""
        return np.array([len(v) for v in self.values], dtype=np.int64)

    def last(self, i: int) -> pd.Timestamp:
        """The timestamp of the last point of series ``i``."""
        return self.starts[i] + (len(self.values[i]) - 1) * parse_freq(self.freq)

    def cut(self, drop_last: int) -> Panel:
        """The same series without their last ``drop_last`` points."""
        values = tuple(v[: len(v) - drop_last] for v in self.values)
        return Panel(self.ids, values, self.starts, self.freq)

    def tail(self, length: int) -> Panel:
        """The last ``length`` points of every series."""
        offset = parse_freq(self.freq)
        starts = tuple(
            s + (len(v) - min(length, len(v))) * offset
            for s, v in zip(self.starts, self.values, strict=True)
        )
        values = tuple(v[-length:] for v in self.values)
        return Panel(self.ids, values, starts, self.freq)

    def summary(self) -> dict[str, object]:
        """Series count, total points, first and last timestamp and the frequency."""
        lasts = [self.last(i) for i in range(len(self.ids))]
        return {
            "series": len(self.ids),
            "points": int(self.lengths.sum()),
            "first_ds": min(self.starts).isoformat(),
            "last_ds": max(lasts).isoformat(),
            "freq": self.freq,
        }


def prepare(df: pd.DataFrame, freq: str | None = None, fill: FillPolicy = "interpolate") -> Panel:
    """Validate a long ``unique_id, ds, y`` frame and return its series on a regular grid.

    Rows may come in any order. Raises InvalidDataError (naming the series) on empty data,
    missing columns, unparseable timestamps, NaN/inf or non-numeric values, duplicate
    timestamps, a mixed or uninferable frequency, and missing timestamps under ``fill="error"``.
    """
    frame = _clean_frame(df)
    fast = _regular_fast_path(frame, freq)
    if fast is not None:
        return fast
    groups = [(str(uid), g) for uid, g in frame.groupby("unique_id", sort=False)]
    indexes = {uid: pd.DatetimeIndex(g["ds"]) for uid, g in groups}
    offset = parse_freq(freq) if freq is not None else _common_freq(indexes)
    for uid, index in indexes.items():
        if len(index) > 1 and not on_grid(index, offset):
            raise InvalidDataError(f"timestamps are not on the {offset.freqstr!r} grid", uid)
    values = tuple(_regular(uid, g, offset, fill) for uid, g in groups)
    starts = tuple(pd.Timestamp(indexes[uid][0]) for uid, _ in groups)
    return Panel(tuple(uid for uid, _ in groups), values, starts, offset.freqstr)


def _regular_fast_path(frame: pd.DataFrame, freq: str | None) -> Panel | None:
    """The common case without a Python loop per series: a fixed step (minutes to days) and
    no gaps. Returns None for anything else (gaps, calendar frequencies, errors to report),
    which the per-series path then handles."""
    ids = frame["unique_id"].to_numpy()
    ds = frame["ds"].to_numpy("datetime64[ns]").view("int64")
    first = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])  # first row of each series
    inside = np.ones(len(ds) - 1, dtype=bool)
    inside[first[1:] - 1] = False  # steps between two series are not steps
    if not inside.any() or np.diff(first, append=len(ds)).max() < 3:
        return None
    steps = np.diff(ds)  # masked by comparison, not by indexing: no second copy of N steps
    found = _fixed_step_offset(int(steps[np.argmax(inside)]), freq, pd.Timestamp(ds[first[0]]))
    if found is None or not np.all((steps == found[1]) | ~inside):
        return None
    del steps
    offset = found[0]
    starts = pd.DatetimeIndex(ds[first])
    if isinstance(offset, pd.offsets.Week) and len(set(starts.day_of_week)) > 1:
        return None
    values = tuple(np.split(frame["y"].to_numpy(dtype=np.float64), first[1:]))
    return Panel(tuple(str(u) for u in ids[first]), values, tuple(starts), offset.freqstr)


def _fixed_step_offset(
    step: int, freq: str | None, first: pd.Timestamp
) -> tuple[BaseOffset, int] | None:
    """The offset and its step in nanoseconds, when both are fixed (``step``: the first step
    seen in the data)."""
    if freq is not None:
        offset = parse_freq(freq)
        if not isinstance(offset, pd.offsets.Tick | pd.offsets.Day):
            return None
        return offset, pd.Timedelta(offset).value
    if step <= 0 or step >= pd.Timedelta(days=27).value:
        return None
    return fixed_offset(pd.Timedelta(step, unit="ns"), first), step


def _clean_frame(df: pd.DataFrame) -> pd.DataFrame:
    """DF checked by the one validator of long frames, sorted by (unique_id, ds)."""
    return sort_without_repeats(validate_long_frame(df))


def _common_freq(indexes: dict[str, pd.DatetimeIndex]) -> BaseOffset:
    found: dict[str, BaseOffset] = {}
    for uid, index in indexes.items():
        offset = infer_series_freq(index)
        if offset is None and len(index) >= 3:
            raise InvalidDataError("irregular timestamps: the frequency cannot be inferred", uid)
        if offset is not None:
            found[uid] = offset
    if not found:
        uid = next(iter(indexes))
        raise InvalidDataError("too few points to infer the frequency; pass freq", uid)
    counts = pd.Series([o.freqstr for o in found.values()]).value_counts()
    majority = str(counts.index[0])
    for uid, offset in found.items():
        if offset.freqstr != majority:
            reason = f"mixed frequencies: {offset.freqstr!r} here, {majority!r} elsewhere"
            raise InvalidDataError(reason, uid)
    return parse_freq(majority)


def _regular(uid: str, group: pd.DataFrame, offset: BaseOffset, fill: FillPolicy) -> np.ndarray:
    series = pd.Series(group["y"].to_numpy(), index=pd.DatetimeIndex(group["ds"]))
    grid = pd.date_range(series.index[0], series.index[-1], freq=offset)
    full = series.reindex(grid)
    gaps = int(full.isna().sum())
    if gaps == 0:
        return full.to_numpy(dtype=np.float64)
    if fill == "error":
        first = full.index[full.isna()][0]
        raise InvalidDataError(f"{gaps} missing timestamp(s), first {first}", uid)
    if fill == "interpolate":
        full = full.interpolate(method="linear")
    elif fill == "ffill":
        full = full.ffill()
    else:
        full = full.fillna(0.0)
    return full.to_numpy(dtype=np.float64)
