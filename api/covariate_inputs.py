"""Covariates of a forecast request: posted values as the core's frames, held against the
model's covariate spec.

A posted series carries ``covariates`` (column -> one value per ds), ``future`` (column -> one
value per horizon step) and ``static`` (column -> value); a dataset forecast may carry
``future`` per series instead of the dataset's future rows. The history frame gets one column
per covariate (statics spread over the series' rows); the future frame holds ``unique_id, ds``
and the future-known columns, its timestamps the steps after each series' last ds on the
model's frequency. What the model's spec does not match (a column it does not read, one it
needs, a count of future values other than the horizon) is a 422 naming the series, the column
and the first bad timestamp; the values themselves are checked by the core (CovariateError).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from api.errors import InvalidFieldError
from api.forecasting import history_frame
from api.schemas.forecast import CovariateColumns, SeriesIn
from forecaster.calendar import parse_freq
from forecaster.covariates import CovariateSpec

FUTURE_KEYS = ("unique_id", "ds")


def posted_frames(
    series: Sequence[SeriesIn], spec: CovariateSpec, freq: str, horizon: int
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The history frame (with the spec's covariate columns) and the future frame (None when
    the model reads no future-known column) of posted SERIES, checked against SPEC."""
    for index, item in enumerate(series):
        _check_series(index, item, spec, freq, horizon)
    history = history_frame(series)
    if not spec:
        return history, None
    lengths = [len(s.ds) for s in series]
    for name in [*spec.future, *spec.past]:
        history[name] = _concat([(s.covariates or {})[name] for s in series], lengths)
    for name in spec.static:
        history[name] = np.repeat(np.array([(s.static or {})[name] for s in series]), lengths)
    if not spec.future:
        return history, None
    lasts = {s.unique_id: pd.Timestamp(max(s.ds)) for s in series}
    values = {s.unique_id: s.future or {} for s in series}
    return history, future_frame(values, lasts, spec.future, freq)


def future_frame(
    values: Mapping[str, CovariateColumns],
    lasts: Mapping[str, pd.Timestamp],
    columns: Sequence[str],
    freq: str,
) -> pd.DataFrame:
    """``unique_id, ds`` and COLUMNS: each series' VALUES at the steps after its LASTS stamp."""
    offset = parse_freq(freq)
    parts = []
    for uid, given in values.items():
        steps = max((len(given.get(name, [])) for name in columns), default=0)
        last = _naive_utc(lasts[uid])
        stamps = pd.date_range(last, periods=steps + 1, freq=offset)[1:]
        part = pd.DataFrame({"unique_id": uid, "ds": stamps.astype("datetime64[ns]")})
        for name in columns:
            column = list(given.get(name, []))
            part[name] = pd.Series(column + [None] * (steps - len(column)), dtype=object)
        parts.append(part)
    if not parts:
        return pd.DataFrame({key: [] for key in (*FUTURE_KEYS, *columns)})
    frame = pd.concat(parts, ignore_index=True)
    for name in columns:
        frame[name] = _typed(frame[name])
    return frame


def check_future_values(
    uid: str,
    given: CovariateColumns,
    spec: CovariateSpec,
    last: pd.Timestamp,
    freq: str,
    horizon: int,
) -> None:
    """422 when GIVEN (one series' future values) names a column the model does not read as
    future-known, lacks one it does, or holds other than HORIZON values."""
    field = f"body.future.{uid}"
    for name in given:
        if name not in spec.future:
            raise InvalidFieldError(field, _not_read(uid, name, spec, "future-known"))
    for name in spec.future:
        count = len(given.get(name, []))
        if count != horizon:
            raise InvalidFieldError(field, _horizon_reason(uid, name, count, horizon, last, freq))


def inferred_spec(series: Sequence[SeriesIn]) -> CovariateSpec:
    """Kinds read from the posted shape, for forecasts without a model: a ``covariates`` column
    is past-only unless ``future`` names it too (future-known), ``static`` ones are static, and
    a column holding text is categorical. Every series must name the same columns (a 422
    naming the first that differs)."""
    first = series[0]
    shape = (set(first.covariates or {}), set(first.future or {}), set(first.static or {}))
    for index, item in enumerate(series):
        mine = (set(item.covariates or {}), set(item.future or {}), set(item.static or {}))
        for part, (theirs, ours) in zip(
            ("covariates", "future", "static"), zip(shape, mine, strict=True), strict=True
        ):
            if theirs != ours:
                name = sorted(theirs ^ ours)[0]
                raise InvalidFieldError(
                    f"body.series.{index}.{part}",
                    f"series {item.unique_id!r}, column {name!r}: every series must give the "
                    f"same {part} columns as series {first.unique_id!r}",
                )
    dynamic, future, static = shape
    for name in sorted(future - dynamic):
        raise InvalidFieldError(
            "body.series.0.covariates",
            f"series {first.unique_id!r}, column {name!r}: a future-known column needs its "
            "history values in covariates too (one per ds)",
        )
    text = {
        name
        for item in series
        for name, values in [*(item.covariates or {}).items(), *(item.future or {}).items()]
        if any(isinstance(v, str) for v in values)
    }
    text |= {n for item in series for n, v in (item.static or {}).items() if isinstance(v, str)}
    return CovariateSpec(
        future=tuple(sorted(future)),
        past=tuple(sorted(dynamic - future)),
        static=tuple(sorted(static)),
        categorical=tuple(sorted(text)),
    )


def _check_series(index: int, item: SeriesIn, spec: CovariateSpec, freq: str, horizon: int) -> None:
    field = f"body.series.{index}"
    dynamic = [*spec.future, *spec.past]
    for name in item.covariates or {}:
        if name not in dynamic:
            raise InvalidFieldError(
                f"{field}.covariates", _not_read(item.unique_id, name, spec, "history")
            )
    for name in dynamic:
        if name not in (item.covariates or {}):
            first = item.ds[0].isoformat()
            raise InvalidFieldError(
                f"{field}.covariates",
                f"series {item.unique_id!r}, column {name!r}: no value at {first}; the model "
                "reads it over the history (one value per ds)",
            )
    for name in item.static or {}:
        if name not in spec.static:
            raise InvalidFieldError(
                f"{field}.static", _not_read(item.unique_id, name, spec, "static")
            )
    for name in spec.static:
        if name not in (item.static or {}):
            raise InvalidFieldError(
                f"{field}.static",
                f"series {item.unique_id!r}, column {name!r}: missing; the model reads this "
                "static covariate",
            )
    last = pd.Timestamp(max(item.ds))
    try:
        check_future_values(item.unique_id, item.future or {}, spec, last, freq, horizon)
    except InvalidFieldError as exc:
        raise InvalidFieldError(f"{field}.future", exc.reason) from exc


def _not_read(uid: str, name: str, spec: CovariateSpec, as_what: str) -> str:
    reads = ", ".join(spec.columns) or "no covariates"
    return (
        f"series {uid!r}, column {name!r}: the model does not read it as a {as_what} "
        f"covariate (it reads: {reads})"
    )


def _horizon_reason(
    uid: str, name: str, count: int, horizon: int, last: pd.Timestamp, freq: str
) -> str:
    step = min(count, horizon) + 1
    stamp = pd.date_range(_naive_utc(last), periods=step + 1, freq=parse_freq(freq))[-1]
    what = "no value" if count < horizon else "an extra value"
    return (
        f"series {uid!r}, column {name!r}: {count} future values for a horizon of {horizon} "
        f"({what} at {stamp.isoformat()}); give one per horizon step"
    )


def _naive_utc(stamp: pd.Timestamp) -> pd.Timestamp:
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def _concat(columns: Sequence[Sequence[object]], lengths: list[int]) -> pd.Series:
    flat = [value for column in columns for value in column]
    assert len(flat) == sum(lengths)
    return _typed(pd.Series(flat, dtype=object))


def _typed(column: pd.Series) -> pd.Series:
    """Numbers (booleans as 0/1, None as NaN) as float64; a column with text stays objects."""
    present = column.dropna()
    if present.map(lambda v: isinstance(v, bool | int | float)).all():
        return column.map(lambda v: np.nan if v is None else float(v)).astype("float64")
    return column
