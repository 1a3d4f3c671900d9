"""Covariates: what a model is told besides the target, and their values beside a Panel's series.

Kinds (``CovariateSpec``): *future*-known columns are known over the history and the horizon
(a price, a promotion flag, a weather forecast); *past*-only columns are observed up to the
cut-off; *static* columns hold one value per series (store, region, category). ``categorical``
marks which of them are categories (learned embeddings); the others are numeric.

In a long frame every covariate is a column beside ``unique_id, ds, y``. Rows whose ``y`` is
missing after a series' last observed ``y`` are its *future rows*: they carry the future-known
values of the steps ahead. ``read_values`` turns such a frame (validated and sorted by
``forecaster.data.prepare``) into ``CovariateValues`` aligned with the Panel's grid, refusing
bad content with a ``CovariateError`` that names the series, the column and the first bad
timestamp (in the frame's own time zone when it had one).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BaseOffset
from pydantic import BaseModel, ConfigDict, Field, model_validator

from forecaster.calendar import fixed_step_ns
from forecaster.errors import CovariateError

RESERVED = ("unique_id", "ds", "y")


class CovariateSpec(BaseModel):
    """Which columns of a frame are covariates, and of what kind (frozen; falsy when empty)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    future: tuple[str, ...] = Field(
        default=(), description="Columns known over the history and the horizon (price, promotion)."
    )
    past: tuple[str, ...] = Field(
        default=(), description="Columns observed only up to the forecast origin."
    )
    static: tuple[str, ...] = Field(
        default=(), description="Columns holding one value per series (store, region)."
    )
    categorical: tuple[str, ...] = Field(
        default=(), description="Which of the named columns are categories (embedded)."
    )

    @model_validator(mode="after")
    def _check(self) -> CovariateSpec:
        named = [*self.future, *self.past, *self.static]
        for name in [*named, *self.categorical]:
            if not name:
                raise ValueError("a covariate column name is empty")
            if name in RESERVED:
                raise ValueError(
                    f"{name!r} cannot be a covariate: unique_id, ds and y are the series' own"
                )
        seen: set[str] = set()
        for name in named:
            if name in seen:
                raise ValueError(f"column {name!r} is named more than once (future/past/static)")
            seen.add(name)
        for name in self.categorical:
            if name not in seen:
                raise ValueError(
                    f"categorical column {name!r} is not named as a future, past or static one"
                )
        if len(set(self.categorical)) != len(self.categorical):
            raise ValueError("categorical names a column more than once")
        return self

    @property
    def empty(self) -> bool:
        """True when no column is named."""
        return not (self.future or self.past or self.static)

    def __bool__(self) -> bool:
        return not self.empty

    @property
    def columns(self) -> tuple[str, ...]:
        """Every named column: future, past, static."""
        return (*self.future, *self.past, *self.static)

    @property
    def real_dynamic(self) -> tuple[str, ...]:
        """Numeric time-varying columns, the future-known ones first."""
        return tuple(c for c in (*self.future, *self.past) if c not in self.categorical)

    @property
    def cat_dynamic(self) -> tuple[str, ...]:
        """Categorical time-varying columns, the future-known ones first."""
        return tuple(c for c in (*self.future, *self.past) if c in self.categorical)

    @property
    def real_static(self) -> tuple[str, ...]:
        """Numeric static columns."""
        return tuple(c for c in self.static if c not in self.categorical)

    @property
    def cat_static(self) -> tuple[str, ...]:
        """Categorical static columns."""
        return tuple(c for c in self.static if c in self.categorical)


class HolidaySpec(BaseModel):
    """A country (ISO 3166-1 alpha-2, as the ``holidays`` package names it) and optionally one
    of its subdivisions, e.g. ``{"country": "DE", "subdiv": "BY"}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    country: str = Field(description="ISO 3166-1 alpha-2 country code, e.g. DE or US.")
    subdiv: str | None = Field(
        default=None, description="A subdivision of the country (state, province), e.g. BY."
    )
    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA time zone whose local dates count, e.g. Europe/Berlin: timestamps "
        "without an offset are read as UTC and converted to it (the service stores UTC). "
        "Null: the data's own time zone, or naive timestamps' dates as given.",
    )

    @model_validator(mode="after")
    def _check(self) -> HolidaySpec:
        if self.timezone is not None:
            _check_timezone(self.timezone)
        supported = _supported_holidays()
        if self.country not in supported:
            raise ValueError(
                f"unknown holiday country {self.country!r}: the holidays package knows "
                "ISO 3166-1 alpha-2 codes such as 'DE' or 'US'"
            )
        subdivisions = supported[self.country]
        if self.subdiv is not None and self.subdiv not in subdivisions:
            known = ", ".join(subdivisions[:40]) or "none"
            raise ValueError(
                f"unknown subdivision {self.subdiv!r} of {self.country!r} (known: {known})"
            )
        return self


def _check_timezone(name: str) -> None:
    """Refuse a name that is not an IANA time zone (ValueError, naming it)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from exc


@lru_cache(maxsize=1)
def _supported_holidays() -> dict[str, list[str]]:
    """Countries and their subdivisions in the ``holidays`` package (5 ms to build: once)."""
    import holidays

    return dict(holidays.list_supported_countries())


@dataclass(frozen=True)
class CovariateValues:
    """Covariate values of a Panel's series, in the Panel's order.

    ``real[i]`` / ``cats[i]`` hold one row per point of series ``i`` and then its *future
    rows*: the values of the points after its last one, contiguous on its grid (as many as are
    known; past-only columns are NaN / None there). Columns follow ``spec.real_dynamic`` and
    ``spec.cat_dynamic``. ``static_real`` [S, len(real_static)] and ``static_cats``
    [S, len(cat_static)] hold one row per series. Categories are strings.
    """

    spec: CovariateSpec
    real: tuple[np.ndarray, ...]  # [n_i + f_i, R] float64
    cats: tuple[np.ndarray, ...]  # [n_i + f_i, C] object (str)
    static_real: np.ndarray  # [S, Rs] float64
    static_cats: np.ndarray  # [S, Cs] object (str)

    def rows(self, i: int) -> int:
        """Rows (points and future rows) of series ``i``."""
        return len(self.real[i])

    def sliced(self, firsts: Sequence[int]) -> CovariateValues:
        """Every series from its row ``firsts[i]`` on (future rows kept)."""
        return CovariateValues(
            self.spec,
            tuple(r[f:] for r, f in zip(self.real, firsts, strict=True)),
            tuple(c[f:] for c, f in zip(self.cats, firsts, strict=True)),
            self.static_real,
            self.static_cats,
        )

    def take(self, part: slice) -> CovariateValues:
        """The series of ``part``."""
        return CovariateValues(
            self.spec,
            self.real[part],
            self.cats[part],
            self.static_real[part],
            self.static_cats[part],
        )

    @staticmethod
    def concat(parts: Sequence[CovariateValues]) -> CovariateValues:
        """The series of every part, in order (all parts share one spec)."""
        spec = parts[0].spec
        if any(p.spec != spec for p in parts):
            raise ValueError("panels with different covariate specs cannot be concatenated")
        return CovariateValues(
            spec,
            tuple(r for p in parts for r in p.real),
            tuple(c for p in parts for c in p.cats),
            np.concatenate([p.static_real for p in parts]),
            np.concatenate([p.static_cats for p in parts]),
        )


def check_columns(columns: Sequence[object], spec: CovariateSpec, required: Sequence[str]) -> None:
    """CovariateError for a named column that is missing or a column nobody named."""
    present = set(columns)
    for name in spec.columns:
        if name not in present:
            raise CovariateError("the column is missing", None, name)
    allowed = set(required) | set(spec.columns)
    for column in columns:
        if column not in allowed:
            raise CovariateError(
                "the column is not named as a future, past or static covariate", None, str(column)
            )


def shown(stamp: pd.Timestamp, tz: str | None) -> pd.Timestamp:
    """An internal (naive UTC) timestamp as the user gave it: in its own zone when it had one."""
    return stamp.tz_localize("UTC").tz_convert(tz) if tz is not None else stamp


def parse_column(
    raw: pd.Series,
    column: str,
    categorical: bool,
    needed: np.ndarray,
    ids: np.ndarray,
    ds: np.ndarray,
    tz: str | None,
) -> np.ndarray:
    """One covariate column as float64 (NaN where not ``needed``) or str objects (None there).

    ``needed`` marks the rows that must hold a value; the first bad one (in the frame's order,
    sorted by series and time) is a CovariateError naming series, column and timestamp.
    """
    values = raw.to_numpy()
    if categorical:
        absent = np.asarray(pd.isna(values), dtype=bool)
        _refuse(absent & needed, "missing value", column, ids, ds, tz)
        words = raw.astype(str).to_numpy(dtype=object)
        out = np.full(len(words), None, dtype=object)
        out[needed & ~absent] = words[needed & ~absent]
        return out
    numeric = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    text = np.isnan(numeric) & ~np.asarray(pd.isna(values), dtype=bool) & needed
    if text.any():
        row = int(np.argmax(text))
        raise CovariateError(
            f"non-numeric value {values[row]!r}",
            str(ids[row]),
            column,
            shown(pd.Timestamp(ds[row]), tz),
        )
    _refuse(~np.isfinite(numeric) & needed, "NaN or infinite value", column, ids, ds, tz)
    return np.where(needed, numeric, np.nan)


def _refuse(
    bad: np.ndarray, reason: str, column: str, ids: np.ndarray, ds: np.ndarray, tz: str | None
) -> None:
    if bad.any():
        row = int(np.argmax(bad))
        raise CovariateError(reason, str(ids[row]), column, shown(pd.Timestamp(ds[row]), tz))


def grid_positions(start: pd.Timestamp, offset: BaseOffset, ds: np.ndarray) -> np.ndarray:
    """Each stamp's step number on the grid ``start + k * offset`` (-1: off the grid)."""
    stamps = ds.astype("datetime64[ns]").view("int64")
    step = fixed_step_ns(offset)
    if step is not None:
        delta = stamps - start.value
        return np.where(delta % step == 0, delta // step, -1)
    grid = pd.date_range(start, pd.Timestamp(stamps.max()), freq=offset)
    return np.asarray(grid.get_indexer(pd.DatetimeIndex(ds)), dtype=np.int64)


@dataclass(frozen=True)
class Grid:
    """Where a Panel's series lie: ids, first timestamps, points, step, time zone."""

    ids: tuple[str, ...]
    starts: tuple[pd.Timestamp, ...]
    lengths: np.ndarray
    offset: BaseOffset
    tz: str | None


def read_values(
    frame: pd.DataFrame, future: np.ndarray, grid: Grid, spec: CovariateSpec
) -> CovariateValues:
    """The covariates of ``frame`` (typed keys, sorted by series and time, ``future`` marking
    its future rows) on the series' grid. Every column must hold a value on every point of the
    history; future-known columns on every future row too (past-only and static columns are not
    read there). Missing timestamps filled by the Panel's fill policy take the previous point's
    covariates; future rows count up to the first step that has none."""
    ids, ds = frame["unique_id"].to_numpy(), frame["ds"].to_numpy()
    parsed = {}
    for name in spec.columns:
        needed = np.ones(len(frame), dtype=bool) if name in spec.future else ~future
        parsed[name] = parse_column(
            frame[name], name, name in spec.categorical, needed, ids, ds, grid.tz
        )
    real = _stack(parsed, spec.real_dynamic, np.float64, len(frame))
    cats = _stack(parsed, spec.cat_dynamic, object, len(frame))
    bounds = np.r_[np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]), len(frame)]
    reals, catss, static_rows = [], [], []
    for k, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        rows = slice(int(lo), int(hi))
        uid, n = grid.ids[k], int(grid.lengths[k])
        pos = _positions(grid, k, ds[rows], future[rows], uid, spec)
        reals.append(_aligned(real[rows], pos, future[rows], n))
        catss.append(_aligned(cats[rows], pos, future[rows], n))
        static_rows.append(_static_row(parsed, spec, rows, ~future[rows], uid, ds, grid.tz))
    statics = np.array(static_rows, dtype=object).reshape(len(grid.ids), len(spec.static))
    where = [spec.static.index(c) for c in spec.real_static]
    return CovariateValues(
        spec,
        tuple(reals),
        tuple(catss),
        statics[:, where].astype(np.float64),
        statics[:, [spec.static.index(c) for c in spec.cat_static]],
    )


def read_future(frame: pd.DataFrame, grid: Grid, base: CovariateValues) -> CovariateValues:
    """``base`` with the future rows of every series in ``frame`` (typed keys, sorted, with the
    future-known columns) replacing its own. Rows at or before a series' last point are
    ignored, and so are rows after the first missing step."""
    spec = base.spec
    ids, ds = frame["unique_id"].to_numpy(), frame["ds"].to_numpy()
    index = {uid: k for k, uid in enumerate(grid.ids)}
    needed = np.ones(len(frame), dtype=bool)
    parsed = {
        c: parse_column(frame[c], c, c in spec.categorical, needed, ids, ds, grid.tz)
        for c in spec.future
    }
    real = _stack(parsed, spec.real_dynamic, np.float64, len(frame))
    cats = _stack(parsed, spec.cat_dynamic, object, len(frame))
    reals, catss = list(base.real), list(base.cats)
    bounds = np.r_[np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]), len(frame)]
    for lo, hi in itertools.pairwise(bounds):
        uid, rows = str(ids[lo]), slice(int(lo), int(hi))
        if uid not in index:
            raise CovariateError(
                "future values for a series that is not in the data", uid, "unique_id"
            )
        k = index[uid]
        n = int(grid.lengths[k])
        pos = grid_positions(grid.starts[k], grid.offset, ds[rows])
        _refuse_off_grid(pos, ds[rows], uid, grid)
        ahead = pos >= n
        reals[k] = np.concatenate(
            [base.real[k][:n], _future_block(real[rows][ahead], pos[ahead] - n)]
        )
        catss[k] = np.concatenate(
            [base.cats[k][:n], _future_block(cats[rows][ahead], pos[ahead] - n)]
        )
    return CovariateValues(spec, tuple(reals), tuple(catss), base.static_real, base.static_cats)


def _stack(
    parsed: dict[str, np.ndarray], names: tuple[str, ...], dtype: type, rows: int
) -> np.ndarray:
    """Columns ``names`` of ``parsed`` (absent ones: unknown) as one [rows, len(names)] array."""
    out: np.ndarray = np.full(
        (rows, len(names)), np.nan if dtype is np.float64 else None, dtype=dtype
    )
    for j, name in enumerate(names):
        if name in parsed:
            out[:, j] = parsed[name]
    return out


def _positions(
    grid: Grid, k: int, ds: np.ndarray, future: np.ndarray, uid: str, spec: CovariateSpec
) -> np.ndarray:
    pos = grid_positions(grid.starts[k], grid.offset, ds)
    if spec.future:
        _refuse_off_grid(np.where(future, pos, 0), ds, uid, grid)
    return pos


def _refuse_off_grid(pos: np.ndarray, ds: np.ndarray, uid: str, grid: Grid) -> None:
    off = pos < 0
    if off.any():
        stamp = shown(pd.Timestamp(ds[int(np.argmax(off))]), grid.tz)
        raise CovariateError(
            f"a future row is not on the series' {grid.offset.freqstr!r} grid", uid, "ds", stamp
        )


def _aligned(values: np.ndarray, pos: np.ndarray, future: np.ndarray, n: int) -> np.ndarray:
    """VALUES [rows, F] on the grid: the ``n`` points (gaps take the previous point's row),
    then the future rows up to the first missing step."""
    history = ~future
    out = np.full((n, values.shape[1]), _unknown(values), dtype=values.dtype)
    out[pos[history]] = values[history]
    if int(history.sum()) < n and values.shape[1]:  # gaps the fill policy filled
        out = pd.DataFrame(out).ffill().to_numpy(dtype=values.dtype)
    return np.concatenate([out, _future_block(values[future], pos[future] - n)])


def _future_block(values: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Future rows VALUES at ascending STEPS (0: the step after the last point), up to the
    first missing step."""
    contiguous = np.r_[steps == np.arange(len(steps)), False]
    return values[: int(np.argmin(contiguous))]


def _unknown(values: np.ndarray) -> object:
    return None if values.dtype == object else np.nan


def _static_row(
    parsed: dict[str, np.ndarray],
    spec: CovariateSpec,
    rows: slice,
    history: np.ndarray,
    uid: str,
    ds: np.ndarray,
    tz: str | None,
) -> list[object]:
    """The static values of one series; CovariateError at the first point that differs."""
    out: list[object] = []
    stamps = ds[rows][history]
    for name in spec.static:
        values = parsed[name][rows][history]
        differs = values != values[0]
        if differs.any():
            at = int(np.argmax(differs))
            raise CovariateError(
                f"a static column must be constant within a series: {values[0]!r} at the "
                f"first point, {values[at]!r} here",
                uid,
                name,
                shown(pd.Timestamp(stamps[at]), tz),
            )
        out.append(values[0])
    return out
