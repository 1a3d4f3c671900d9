"""Frequencies: inference, seasonality, calendar phases and future timestamps.

Every frequency is reduced to a nominal step length in seconds; seasons and calendar cycles are
then counted in steps, so one set of rules covers minutes to years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import BaseOffset, BusinessDay

from forecaster.errors import HorizonError, InvalidDataError

MINUTE = 60.0
HOUR = 3600.0
DAY = 86_400.0
WEEK = 7 * DAY
YEAR = 365.25 * DAY
# Calendar offsets have no fixed length; these nominal lengths (in days) only choose seasons.
_NOMINAL_DAYS = {"M": 30.4375, "Q": 91.3125, "Y": 365.25, "A": 365.25, "W": 7.0}
# Tried, in order, when pandas cannot infer a frequency (typically because of gaps).
# Coarsest first, so that the coarsest grid holding every timestamp wins.
_CALENDAR_CANDIDATES = ("YS", "YE", "QS", "QE", "QS-FEB", "QS-MAR", "QE-FEB", "QE-NOV", "MS", "ME")


@dataclass(frozen=True)
class Seasonality:
    """Season lengths and calendar cycles of one frequency, all counted in steps."""

    season: int  # the primary season (24 for hourly, 7 daily, 12 monthly, 1 yearly)
    long_season: int | None  # a second, longer season worth a lookback (168 for hourly)
    periods: tuple[float, ...]  # calendar cycles for the sin/cos phase features


def parse_freq(freq: str) -> BaseOffset:
    """A pandas offset from an alias, or InvalidDataError naming the alias."""
    try:
        return to_offset(freq)
    except ValueError as exc:
        raise InvalidDataError(f"unknown frequency {freq!r}") from exc


def fixed_step_ns(offset: BaseOffset) -> int | None:
    """The step of ``offset`` in nanoseconds when every step is that long (minutes to days:
    timestamps are then index arithmetic), else None (months, business days...)."""
    if isinstance(offset, pd.offsets.Tick | pd.offsets.Day):
        return int(pd.Timedelta(offset).value)
    return None


def step_seconds(offset: BaseOffset) -> float:
    """The nominal length of one step of ``offset``, in seconds."""
    if isinstance(offset, BusinessDay):
        return DAY * offset.n
    if isinstance(offset, pd.offsets.Tick):
        return float(offset.nanos) / 1e9
    code = offset.rule_code.split("-")[0]
    if code == "D":
        return DAY * offset.n
    for prefix, days in _NOMINAL_DAYS.items():
        if code.startswith(prefix) or code.startswith("B" + prefix):
            return days * DAY * offset.n
    raise InvalidDataError(f"unsupported frequency {offset.freqstr!r}")


def seasonality(freq: str) -> Seasonality:
    """Season lengths from the frequency: hourly 24 (+168), daily 7, weekly 52, monthly 12, ..."""
    offset = parse_freq(freq)
    step = step_seconds(offset)
    if isinstance(offset, BusinessDay):
        return Seasonality(max(1, round(5 / offset.n)), None, (5.0 / offset.n,))
    if step >= 300 * DAY:
        return Seasonality(1, None, ())
    if step >= 6 * DAY:
        return Seasonality(max(1, round(YEAR / step)), None, (YEAR / step,))
    if step >= DAY:
        return Seasonality(max(1, round(WEEK / step)), None, (WEEK / step, YEAR / step))
    per_day, per_week = DAY / step, WEEK / step
    # The longest of day / hour / minute that still spans at most 96 steps.
    per_cycle = [c / step for c in (DAY, HOUR, MINUTE) if c / step <= 96]
    season = max(1, round(per_cycle[0])) if per_cycle else 1
    long_season = round(per_week) if per_week <= 336 and per_week > season else None
    return Seasonality(season, long_season, (per_day, per_week))


def cycle_phases(first: pd.Timestamp, freq: str) -> np.ndarray:
    """Where ``first`` lies in each calendar cycle of ``seasonality(freq).periods``, in steps."""
    offset = parse_freq(freq)
    periods = seasonality(freq).periods
    if isinstance(offset, BusinessDay):
        return np.array([first.day_of_week % 5 / offset.n], dtype=np.float64)
    step = step_seconds(offset)
    into_day = (first - first.normalize()).total_seconds()
    fractions = {
        DAY: into_day / DAY,
        WEEK: (first.day_of_week * DAY + into_day) / WEEK,
        YEAR: (first.day_of_year - 1 + into_day / DAY) / 365.25,
    }
    out = [fractions[_cycle_of(p * step)] * p for p in periods]
    return np.asarray(out, dtype=np.float64)


def _cycle_of(seconds: float) -> float:
    return min((DAY, WEEK, YEAR), key=lambda c: abs(c - seconds))


def future_index(last: pd.Timestamp, freq: str, horizon: int) -> pd.DatetimeIndex:
    """The ``horizon`` timestamps that follow ``last`` on its own frequency grid.

    HorizonError when they would pass the last nanosecond timestamp (2262-04-11): such
    timestamps would wrap around to 1677 when stored as ``datetime64[ns]``.
    """
    offset = parse_freq(freq)
    try:
        index = pd.date_range(start=last + offset, periods=horizon, freq=offset)
    except (OverflowError, pd.errors.OutOfBoundsDatetime) as exc:
        raise HorizonError(f"a horizon of {horizon} steps leaves the timestamp range") from exc
    if len(index) and index[-1] > pd.Timestamp.max:
        raise HorizonError(
            f"a horizon of {horizon} steps after {last} ends after {pd.Timestamp.max.date()}, "
            "the last timestamp the service can represent"
        )
    return index


def on_grid(index: pd.DatetimeIndex, offset: BaseOffset) -> bool:
    """Whether every timestamp of the sorted ``index`` lies on the grid of ``offset``."""
    grid = pd.date_range(start=index[0], end=index[-1], freq=offset)
    return len(grid) > 0 and grid[0] == index[0] and bool(index.isin(grid).all())


def infer_series_freq(index: pd.DatetimeIndex) -> BaseOffset | None:
    """The frequency of one sorted, duplicate-free series, tolerating gaps; None if unknown."""
    if len(index) < 3:
        return None
    with pd.option_context("future.infer_freq_returns_offset", True):
        inferred = pd.infer_freq(index)
    if inferred is not None:
        return to_offset(inferred)
    smallest = pd.Timedelta(np.diff(index.values).min())
    if smallest < pd.Timedelta(days=27):
        candidates = [fixed_offset(smallest, index[0])]
    else:
        candidates = [to_offset(c) for c in _CALENDAR_CANDIDATES]
    return next((offset for offset in candidates if on_grid(index, offset)), None)


def fixed_offset(step: pd.Timedelta, first: pd.Timestamp) -> BaseOffset:
    """The offset of a fixed step; whole weeks anchor on ``first``'s weekday, a day is "D"."""
    if step == pd.Timedelta(days=7):
        return to_offset(f"W-{first.day_name()[:3].upper()}")
    if step == pd.Timedelta(days=1):
        return to_offset("D")
    return to_offset(step)
