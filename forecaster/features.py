"""The feature spec of a model with covariates: scaling, vocabularies, holidays, and encoding.

``fit_features`` learns, from the training part only, each numeric covariate's centre and
spread (per feature) and each categorical column's vocabulary (code 0 is the *unknown* slot: a
category first met at prediction time maps there). ``encode`` turns a Panel's covariates into
the tensors the network reads, aligned with ``windows.pad``'s padded values; holiday features
are computed here from the timestamps, for the history and the steps ahead alike.

Holiday features (``ForecastConfig.holidays``): whether the local date of a timestamp is a
public holiday of the country (and subdivision) in the ``holidays`` package, and the days to
the next and since the last one, clipped at HOLIDAY_REACH days and divided by it. The local
date is the timestamp's date in ``HolidaySpec.timezone`` when it names one (the service stores
UTC instants, so its users name their zone there), else in the time zone the data was given in
(DST-correct), else the naive timestamp's own date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import holidays
import numpy as np
import pandas as pd
import torch

from forecaster.calendar import parse_freq
from forecaster.covariates import CovariateSpec, HolidaySpec
from forecaster.data import Panel

HOLIDAY_COLUMNS = ("holiday", "days_to_holiday", "days_since_holiday")
HOLIDAY_REACH = 14  # days: a holiday further away than this is simply "far"
MIN_SPREAD = 1e-9


@dataclass(frozen=True)
class CovariateTensors:
    """Encoded covariates of padded series or of sampled windows (T: time steps)."""

    real: torch.Tensor  # [S, T, R] float32 scaled numeric features (known ones first)
    cats: torch.Tensor  # [S, T, C] int64 category codes (0: unknown)
    static_real: torch.Tensor  # [S, Rs] float32
    static_cats: torch.Tensor  # [S, Cs] int64

    def to(self, device: torch.device) -> CovariateTensors:
        """The same tensors on ``device``."""
        return CovariateTensors(
            self.real.to(device),
            self.cats.to(device),
            self.static_real.to(device),
            self.static_cats.to(device),
        )

    def rows(self, index: torch.Tensor | slice) -> CovariateTensors:
        """The series (rows) at ``index``."""
        return CovariateTensors(
            self.real[index], self.cats[index], self.static_real[index], self.static_cats[index]
        )


@dataclass(frozen=True)
class FeatureSpec:
    """What turns covariate values into network inputs; recorded in the artifact manifest."""

    covariates: CovariateSpec
    holidays: HolidaySpec | None
    tz: str | None
    center: tuple[float, ...]  # per spec.real_dynamic column
    spread: tuple[float, ...]
    static_center: tuple[float, ...]  # per spec.real_static column
    static_spread: tuple[float, ...]
    vocab: dict[str, tuple[str, ...]] = field(default_factory=dict)  # categorical columns

    @property
    def real_known(self) -> int:
        """Numeric features known ahead: future-known columns, then the holiday features."""
        known = [c for c in self.covariates.real_dynamic if c in self.covariates.future]
        return len(known) + (len(HOLIDAY_COLUMNS) if self.holidays else 0)

    def net_dims(self) -> dict[str, Any]:
        """The covariate widths of ``NetSpec``."""
        spec = self.covariates
        return {
            "real_dynamic": len(spec.real_dynamic) + (len(HOLIDAY_COLUMNS) if self.holidays else 0),
            "real_known": self.real_known,
            "cat_dynamic": tuple(len(self.vocab[c]) + 1 for c in spec.cat_dynamic),
            "cat_known": sum(c in spec.future for c in spec.cat_dynamic),
            "real_static": len(spec.real_static),
            "cat_static": tuple(len(self.vocab[c]) + 1 for c in spec.cat_static),
        }

    def to_json(self) -> dict[str, Any]:
        """The manifest's ``features`` document."""
        return {
            "covariates": self.covariates.model_dump(mode="json"),
            "holidays": None if self.holidays is None else self.holidays.model_dump(mode="json"),
            "holiday_features": list(HOLIDAY_COLUMNS) if self.holidays else [],
            "holiday_reach_days": HOLIDAY_REACH,
            "tz": self.tz,
            "scaling": {
                c: {"center": m, "spread": s}
                for c, m, s in zip(
                    (*self.covariates.real_dynamic, *self.covariates.real_static),
                    (*self.center, *self.static_center),
                    (*self.spread, *self.static_spread),
                    strict=True,
                )
            },
            "vocab": {c: list(v) for c, v in self.vocab.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureSpec:
        """The inverse of ``to_json``."""
        spec = CovariateSpec.model_validate(data["covariates"])
        scaling = data["scaling"]
        holidays = data.get("holidays")
        return cls(
            covariates=spec,
            holidays=None if holidays is None else HolidaySpec.model_validate(holidays),
            tz=data.get("tz"),
            center=tuple(float(scaling[c]["center"]) for c in spec.real_dynamic),
            spread=tuple(float(scaling[c]["spread"]) for c in spec.real_dynamic),
            static_center=tuple(float(scaling[c]["center"]) for c in spec.real_static),
            static_spread=tuple(float(scaling[c]["spread"]) for c in spec.real_static),
            vocab={c: tuple(str(v) for v in values) for c, values in data["vocab"].items()},
        )


def fit_features(
    train: Panel, spec: CovariateSpec, holidays: HolidaySpec | None
) -> FeatureSpec | None:
    """Scaling and vocabularies from the points of ``train`` (its future rows are not read);
    None when there is nothing to encode (no covariates, no holidays)."""
    if not spec and holidays is None:
        return None
    values = train.covariates
    center: tuple[float, ...] = ()
    spread: tuple[float, ...] = ()
    static_center: tuple[float, ...] = ()
    static_spread: tuple[float, ...] = ()
    vocab: dict[str, tuple[str, ...]] = {}
    if values is not None:
        lengths = train.lengths
        real = np.concatenate([r[:n] for r, n in zip(values.real, lengths, strict=True)])
        cats = np.concatenate([c[:n] for c, n in zip(values.cats, lengths, strict=True)])
        center, spread = _moments(real)
        static_center, static_spread = _moments(values.static_real)
        for j, name in enumerate(spec.cat_dynamic):
            vocab[name] = _vocabulary(cats[:, j])
        for j, name in enumerate(spec.cat_static):
            vocab[name] = _vocabulary(values.static_cats[:, j])
    return FeatureSpec(
        spec, holidays, train.tz, center, spread, static_center, static_spread, vocab
    )


def _moments(values: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if values.shape[1] == 0:
        return (), ()
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    std = np.where(std > MIN_SPREAD, std, 1.0)
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)


def _vocabulary(values: np.ndarray) -> tuple[str, ...]:
    return tuple(sorted({str(v) for v in values if v is not None}))


def encode(panel: Panel, features: FeatureSpec, min_length: int, ahead: int) -> CovariateTensors:
    """The covariates of ``panel`` as tensors aligned with ``windows.pad(panel, ..., min_length)``
    and ``ahead`` steps beyond each series' last point (steps past its known future rows repeat
    the last known row: only outputs at those steps could read them).

    A series shorter than ``min_length`` is extended to the left with its first row, as its
    values are; rows after its end (and ``ahead``) are zeros.
    """
    lengths = panel.lengths
    extra = np.maximum(min_length - lengths, 0)
    width = int((lengths + extra).max()) + ahead
    spec = features.covariates
    n_real = features.net_dims()["real_dynamic"]
    real = np.zeros((len(lengths), width, n_real), dtype=np.float32)
    cats = np.zeros((len(lengths), width, len(spec.cat_dynamic)), dtype=np.int64)
    offset = parse_freq(panel.freq)
    for i in range(len(lengths)):
        rows = int(lengths[i]) + ahead
        first = panel.starts[i] - int(extra[i]) * offset
        block = _real_rows(panel, features, i, rows)
        if features.holidays is not None:
            stamps = _stamps(first, offset, rows + int(extra[i]))[int(extra[i]) :]
            holiday = holiday_features(stamps, features.holidays, panel.tz)
            known = features.real_known - len(HOLIDAY_COLUMNS)
            block = np.concatenate([block[:, :known], holiday, block[:, known:]], axis=1)
        span = int(extra[i]) + rows
        real[i, :span] = np.concatenate([np.repeat(block[:1], extra[i], axis=0), block])
        codes = _cat_rows(panel, features, i, rows)
        cats[i, :span] = np.concatenate([np.repeat(codes[:1], extra[i], axis=0), codes])
    static_real, static_cats = _statics(panel, features)
    return CovariateTensors(
        torch.from_numpy(real),
        torch.from_numpy(cats),
        torch.from_numpy(static_real),
        torch.from_numpy(static_cats),
    )


def _real_rows(panel: Panel, features: FeatureSpec, i: int, rows: int) -> np.ndarray:
    """Scaled numeric covariates [rows, R] of series ``i`` (unknown values: 0, the mean)."""
    if panel.covariates is None or not features.center:
        return np.zeros((rows, 0), dtype=np.float32)
    values = _rows(panel.covariates.real[i], rows)
    scaled = (values - np.array(features.center)) / np.array(features.spread)
    return np.nan_to_num(scaled, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def _cat_rows(panel: Panel, features: FeatureSpec, i: int, rows: int) -> np.ndarray:
    spec = features.covariates
    if panel.covariates is None or not spec.cat_dynamic:
        return np.zeros((rows, 0), dtype=np.int64)
    values = _rows(panel.covariates.cats[i], rows)
    return np.stack(
        [codes(values[:, j], features.vocab[c]) for j, c in enumerate(spec.cat_dynamic)], axis=1
    )


def _rows(values: np.ndarray, rows: int) -> np.ndarray:
    """The first ``rows`` rows of VALUES, the last one repeated where there are fewer."""
    if len(values) >= rows:
        return values[:rows]
    return np.concatenate([values, np.repeat(values[-1:], rows - len(values), axis=0)])


def codes(values: np.ndarray, vocab: tuple[str, ...]) -> np.ndarray:
    """Category codes: 1 + the position in ``vocab``; 0 for a category it does not hold."""
    return pd.Index(vocab, dtype=object).get_indexer(values).astype(np.int64) + 1


def _statics(panel: Panel, features: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    spec, count = features.covariates, len(panel.ids)
    if panel.covariates is None:
        return np.zeros((count, 0), dtype=np.float32), np.zeros((count, 0), dtype=np.int64)
    values = panel.covariates
    real = (values.static_real - np.array(features.static_center)) / np.array(
        features.static_spread
    )
    cats = [
        codes(values.static_cats[:, j], features.vocab[c]) for j, c in enumerate(spec.cat_static)
    ]
    cat_array = np.stack(cats, axis=1) if cats else np.zeros((count, 0), dtype=np.int64)
    return real.reshape(count, -1).astype(np.float32), cat_array


def _stamps(first: pd.Timestamp, offset: pd.DateOffset, count: int) -> pd.DatetimeIndex:
    return pd.date_range(first, periods=count, freq=offset)


def holiday_features(stamps: pd.DatetimeIndex, spec: HolidaySpec, tz: str | None) -> np.ndarray:
    """[len(stamps), 3]: is-holiday (0/1), days to the next and since the last holiday (clipped
    at HOLIDAY_REACH, divided by it) of each timestamp's local date (see the module): in the
    spec's ``timezone`` when it names one (``stamps`` are UTC then), else in ``tz``, the data's
    own zone (``stamps`` are its UTC instants), else the naive stamps' dates as given."""
    zone = spec.timezone or tz
    local = stamps.tz_localize("UTC").tz_convert(zone).tz_localize(None) if zone else stamps
    days = local.to_numpy().astype("datetime64[D]")
    unique, inverse = np.unique(days, return_inverse=True)
    years = pd.DatetimeIndex(unique).year
    dates = holiday_dates(spec.country, spec.subdiv, int(years.min()) - 1, int(years.max()) + 1)
    is_holiday = np.isin(unique, dates).astype(np.float32)
    ahead = np.searchsorted(dates, unique, side="left")
    to_next = np.full(len(unique), HOLIDAY_REACH, dtype=np.float64)
    has_next = ahead < len(dates)
    to_next[has_next] = (dates[ahead[has_next]] - unique[has_next]).astype(np.int64)
    behind = np.searchsorted(dates, unique, side="right") - 1
    since = np.full(len(unique), HOLIDAY_REACH, dtype=np.float64)
    has_last = behind >= 0
    since[has_last] = (unique[has_last] - dates[behind[has_last]]).astype(np.int64)
    out = np.stack(
        [
            is_holiday,
            np.minimum(to_next, HOLIDAY_REACH) / HOLIDAY_REACH,
            np.minimum(since, HOLIDAY_REACH) / HOLIDAY_REACH,
        ],
        axis=1,
    )
    return out[inverse].astype(np.float32)


@lru_cache(maxsize=64)
def holiday_dates(country: str, subdiv: str | None, first: int, last: int) -> np.ndarray:
    """The sorted public holiday dates (datetime64[D]) of years ``first``..``last``."""
    found = holidays.country_holidays(country, subdiv=subdiv, years=range(first, last + 1))
    return np.array(sorted(found.keys()), dtype="datetime64[D]")
