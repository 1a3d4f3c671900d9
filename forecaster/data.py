"""Input validation and regularisation: a long frame becomes a Panel of gap-free series."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BaseOffset

from forecaster.calendar import (
    fixed_offset,
    fixed_step_ns,
    infer_series_freq,
    on_grid,
    parse_freq,
)
from forecaster.covariates import (
    RESERVED,
    CovariateSpec,
    CovariateValues,
    Grid,
    check_columns,
    read_future,
    read_values,
    shown,
)
from forecaster.errors import CovariateError, InvalidDataError
from forecaster.frames import (
    SeriesCodes,
    neighbour_blocks,
    sort_series,
    sort_without_repeats,
    validate_long_frame,
    validate_with_future,
)

FillPolicy = Literal["interpolate", "ffill", "zero", "error"]


@dataclass(frozen=True)
class Panel:
    """Series on one regular grid: ``values[i]`` starts at ``starts[i]`` with step ``freq``.

    ``covariates`` (None: the model takes none) holds each series' covariate rows aligned with
    its points, followed by its future rows (see ``CovariateValues``); ``tz`` is the time zone
    the timestamps were given in (they are kept as naive UTC; None: given naive).
    """

    ids: tuple[str, ...]
    values: tuple[np.ndarray, ...]
    starts: tuple[pd.Timestamp, ...]
    freq: str
    covariates: CovariateValues | None = None
    tz: str | None = None

    @property
    def lengths(self) -> np.ndarray:
        """Points per series."""
        return np.array([len(v) for v in self.values], dtype=np.int64)

    def last(self, i: int) -> pd.Timestamp:
        """The timestamp of the last point of series ``i``."""
        return self.starts[i] + (len(self.values[i]) - 1) * parse_freq(self.freq)

    def cut(self, drop_last: int) -> Panel:
        """The same series without their last ``drop_last`` points (their covariates become
        future rows: the values a forecast from the cut-off would have known)."""
        values = tuple(v[: len(v) - drop_last] for v in self.values)
        return replace(self, values=values)

    def tail(self, length: int) -> Panel:
        """The last ``length`` points of every series (with their covariates' future rows)."""
        offset = parse_freq(self.freq)
        firsts = [len(v) - min(length, len(v)) for v in self.values]
        starts = tuple(s + f * offset for s, f in zip(self.starts, firsts, strict=True))
        values = tuple(v[f:] for v, f in zip(self.values, firsts, strict=True))
        covariates = None if self.covariates is None else self.covariates.sliced(firsts)
        return replace(self, values=values, starts=starts, covariates=covariates)

    def take(self, part: slice) -> Panel:
        """The series of ``part``."""
        covariates = None if self.covariates is None else self.covariates.take(part)
        return replace(
            self,
            ids=self.ids[part],
            values=self.values[part],
            starts=self.starts[part],
            covariates=covariates,
        )

    def future_rows(self, i: int) -> int:
        """How many steps after its last point series ``i`` has covariate values for."""
        if self.covariates is None:
            return 0
        return self.covariates.rows(i) - len(self.values[i])

    def require_future(self, steps: int) -> None:
        """CovariateError naming the series, the column and the first step's timestamp where a
        future-known covariate has no value within ``steps`` steps."""
        if self.covariates is None or not self.covariates.spec.future:
            return
        offset = parse_freq(self.freq)
        for i, uid in enumerate(self.ids):
            known = self.future_rows(i)
            if known < steps:
                stamp = shown(self.last(i) + (known + 1) * offset, self.tz)
                raise CovariateError(
                    f"no future value for horizon step {known + 1} of {steps}",
                    uid,
                    self.covariates.spec.future[0],
                    stamp,
                )

    def grid(self) -> Grid:
        """Where the series lie, for the covariate readers."""
        return Grid(self.ids, self.starts, self.lengths, parse_freq(self.freq), self.tz)

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


def concat_panels(panels: Sequence[Panel]) -> Panel:
    """The series of every panel in order, as one Panel (one forward pass over all of them);
    the panels share one frequency, one time zone and one covariate spec (else ValueError)."""
    first = panels[0]
    if len(panels) == 1:
        return first
    if any(p.freq != first.freq for p in panels):
        raise ValueError("panels of different frequencies cannot be concatenated")
    if any(p.tz != first.tz for p in panels):  # holiday features read each panel's local dates
        raise ValueError("panels given in different time zones cannot be concatenated")
    covariates = None
    if first.covariates is not None:
        parts = [p.covariates for p in panels]
        if any(c is None for c in parts):
            raise ValueError("panels with and without covariates cannot be concatenated")
        covariates = CovariateValues.concat([c for c in parts if c is not None])
    return Panel(
        tuple(uid for p in panels for uid in p.ids),
        tuple(v for p in panels for v in p.values),
        tuple(s for p in panels for s in p.starts),
        first.freq,
        covariates,
        first.tz,
    )


def prepare(
    df: pd.DataFrame,
    freq: str | None = None,
    fill: FillPolicy = "interpolate",
    covariates: CovariateSpec | None = None,
) -> Panel:
    """Validate a long ``unique_id, ds, y`` frame and return its series on a regular grid.

    Rows may come in any order. Raises InvalidDataError (naming the series) on empty data,
    missing columns, unparseable timestamps, NaN/inf or non-numeric values, duplicate
    timestamps, a mixed or uninferable frequency, and missing timestamps under ``fill="error"``.
    Rows whose ``y`` is missing after a series' last observation are future rows: they carry
    the future-known covariates (ignored when there are none).

    ``covariates`` names the covariate columns; with a spec (even an empty one) a column that
    is neither ``unique_id, ds, y`` nor named is refused (CovariateError), without one other
    columns are ignored.
    """
    tz = frame_tz(df)
    if covariates is not None:
        check_columns(list(df.columns), covariates, RESERVED)
    if not covariates and not _has_missing_y(df):
        frame, series = sort_series(validate_long_frame(df, own_unit=True))
        return replace(_panel(frame, series, freq, fill), tz=tz)  # as before covariates
    named = covariates.columns if covariates is not None else ()
    source = df.reset_index(drop=True)
    frame, future = validate_with_future(source)
    for name in named:
        frame[name] = source[name].to_numpy()
    frame["_future"] = future
    frame, (codes, names) = sort_series(frame)
    future = frame.pop("_future").to_numpy(dtype=bool)
    history = frame.loc[~future, list(RESERVED)].reset_index(drop=True)
    panel = replace(_panel(history, (codes[~future], names), freq, fill), tz=tz)
    if not covariates:
        return panel
    return replace(panel, covariates=read_values(frame, future, panel.grid(), covariates))


def with_future(panel: Panel, future: pd.DataFrame) -> Panel:
    """PANEL with the future-known covariates of ``future`` (a long frame ``unique_id, ds`` and
    the future columns; a ``y`` column is ignored) replacing the future rows of the series it
    holds. Rows at or before a series' last point are ignored, and so is any row after the
    first step without one; a series not in PANEL is refused."""
    if panel.covariates is None:
        raise CovariateError("the model takes no future covariates", None, "future")
    spec = panel.covariates.spec
    check_columns(list(future.columns), CovariateSpec(future=spec.future), RESERVED)
    source = future.reset_index(drop=True)
    keys = validate_long_frame(source.assign(y=0.0))
    for name in spec.future:
        keys[name] = source[name].to_numpy()
    frame = sort_without_repeats(keys)
    return replace(panel, covariates=read_future(frame, panel.grid(), panel.covariates))


def frame_tz(df: pd.DataFrame) -> str | None:
    """The time zone of a tz-aware ``ds`` column (None: naive, text or absent)."""
    if "ds" not in df.columns:
        return None
    tz = getattr(df["ds"].dtype, "tz", None)
    return None if tz is None else str(tz)


def _has_missing_y(df: pd.DataFrame) -> bool:
    return "y" in df.columns and bool(df["y"].isna().to_numpy().any())


def _panel(frame: pd.DataFrame, codes: SeriesCodes, freq: str | None, fill: FillPolicy) -> Panel:
    """The Panel of a checked frame sorted by (unique_id, ds) (its stamps in any unit), with
    its rows' series codes."""
    fast = _regular_fast_path(frame, codes, freq)
    if fast is not None:
        return fast
    frame = frame.assign(ds=frame["ds"].astype("datetime64[ns]"))  # checked to fit: no error
    groups = [(str(uid), g) for uid, g in frame.groupby("unique_id", sort=False)]
    indexes = {uid: pd.DatetimeIndex(g["ds"]) for uid, g in groups}
    offset = parse_freq(freq) if freq is not None else _common_freq(indexes)
    for uid, index in indexes.items():
        if len(index) > 1 and not on_grid(index, offset):
            raise InvalidDataError(f"timestamps are not on the {offset.freqstr!r} grid", uid)
    values = tuple(_regular(uid, g, offset, fill) for uid, g in groups)
    starts = tuple(pd.Timestamp(indexes[uid][0]) for uid, _ in groups)
    return Panel(tuple(uid for uid, _ in groups), values, starts, offset.freqstr)


def _regular_fast_path(frame: pd.DataFrame, series: SeriesCodes, freq: str | None) -> Panel | None:
    """The common case without a Python loop per series: a fixed step (minutes to days) and
    no gaps. Returns None for anything else (gaps, calendar frequencies, errors to report),
    which the per-series path then handles."""
    codes, names = series
    stamps = frame["ds"].to_numpy()  # in the column's own unit: no copy in nanoseconds
    ns = _ns_per_unit(stamps.dtype)
    ds = stamps.view(np.int64)
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])  # first row of each series
    lengths = np.diff(first, append=len(ds))
    if lengths.max() < 3:
        return None
    row = int(first[np.argmax(lengths > 1)])  # the first step inside a series
    starts = pd.DatetimeIndex(stamps[first].astype("datetime64[ns]"))
    found = _fixed_step_offset(int(ds[row + 1] - ds[row]) * ns, freq, starts[0])
    if found is None or found[1] % ns or not _every_step(ds, codes, found[1] // ns):
        return None
    offset = found[0]
    if isinstance(offset, pd.offsets.Week) and len(set(starts.day_of_week)) > 1:
        return None
    values = tuple(np.split(frame["y"].to_numpy(dtype=np.float64), first[1:]))
    ids = tuple(str(u) for u in names[codes[first]])
    return Panel(ids, values, tuple(starts), offset.freqstr)


def _ns_per_unit(dtype: np.dtype) -> int:
    """Nanoseconds per tick of a datetime64 DTYPE (``s`` to ``ns``)."""
    return int(np.array(1, dtype=dtype).astype("datetime64[ns]").view(np.int64))  # tick 1


def _every_step(ds: np.ndarray, codes: np.ndarray, step: int) -> bool:
    """Whether every step inside a series (rows sorted by series and time) is STEP ticks."""
    for before, row in neighbour_blocks(len(ds)):
        if not np.all((ds[row] - ds[before] == step) | (codes[row] != codes[before])):
            return False
    return True


def _fixed_step_offset(
    step: int, freq: str | None, first: pd.Timestamp
) -> tuple[BaseOffset, int] | None:
    """The offset and its step in nanoseconds, when both are fixed (``step``: the first step
    seen in the data)."""
    if freq is not None:
        offset = parse_freq(freq)
        fixed = fixed_step_ns(offset)
        return None if fixed is None else (offset, fixed)
    if step <= 0 or step >= pd.Timedelta(days=27).value:
        return None
    return fixed_offset(pd.Timedelta(step, unit="ns"), first), step


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
