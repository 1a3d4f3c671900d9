"""Checks of a request against the data it names, before anything is queued or answered.

A training spec is held against the stored dataset at submission (its frequency, series
lengths and the timestamp range its horizon reaches), and posted series against what training
needs, so a request that can never succeed is a 422 naming the field at once instead of a job
that fails later. Frequencies come from the core's own inference, the one the worker uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.covariate_inputs import inferred_spec, posted_frames
from api.errors import InvalidFieldError
from api.forecasting import history_frame
from api.schemas.forecast import ForecastRequest
from api.schemas.models import CovariatesIn, TrainSpec
from forecaster import ForecastConfig
from forecaster.calendar import parse_freq, step_seconds
from forecaster.covariates import CovariateSpec
from forecaster.data import prepare, with_future
from forecaster.errors import HorizonError, InvalidDataError
from forecaster.feasibility import check_future, check_length, check_trainable
from models import datasets
from models.dataset_frames import covariate_coverage, dataset_columns, read_frame
from models.tables import ColumnKind, Dataset, Series

# Recent points of one series that the frequency is inferred from.
FREQ_SAMPLE = 200


def data_freq(sample: pd.DataFrame, freq: str | None = None) -> str:
    """The frequency the core finds in (or confirms for) ``sample``; InvalidDataError if none."""
    return prepare(sample, freq).freq


def dataset_freq(session: Session, dataset: str) -> str | None:
    """The core's frequency of the dataset's first series (None when it cannot tell)."""
    first = session.scalar(
        select(Series.unique_id)
        .join(Dataset, Dataset.id == Series.dataset_id)
        .where(Dataset.name == dataset)
        .order_by(Series.id)
        .limit(1)
    )
    if first is None:
        return None
    sample = datasets.read_observations(session, dataset, unique_ids=[first], last=FREQ_SAMPLE)
    try:
        return data_freq(sample) if len(sample) else None
    except InvalidDataError:
        return None


def check_train_spec(session: Session, body: TrainSpec) -> None:
    """422 naming the field when ``body`` cannot train on its dataset as it stands."""
    spans = datasets.series_spans(session, body.dataset, body.unique_ids)
    if spans.empty:
        raise InvalidFieldError("body.dataset", "the dataset has no observations")
    freq = _spec_freq(session, body, str(spans.loc[spans["points"].idxmax(), "unique_id"]))
    try:
        steps = step_seconds(parse_freq(freq))
        span = (spans["last"] - spans["first"]).dt.total_seconds() / steps
        grid_points = span.round().astype("int64") + 1
        shortest = int(grid_points.idxmin())
        windows = (body.config or ForecastConfig()).backtest_windows
        check_length(
            str(spans.at[shortest, "unique_id"]),
            int(grid_points[shortest]),
            freq,
            body.horizon,
            windows,
        )
        check_future(pd.Timestamp(spans["last"].max()), freq, body.horizon)
    except (InvalidDataError, HorizonError) as exc:
        raise InvalidFieldError("body.horizon", str(exc)) from exc
    if body.covariates is not None:
        check_covariates(session, body, body.covariates, spans, freq)


def _spec_freq(session: Session, body: TrainSpec, series: str) -> str:
    sample = datasets.read_observations(
        session, body.dataset, unique_ids=[series], last=FREQ_SAMPLE
    )
    try:
        return data_freq(sample, body.freq)
    except InvalidDataError as exc:
        raise InvalidFieldError("body.freq" if body.freq else "body.dataset", str(exc)) from exc


def check_posted_series(body: ForecastRequest) -> None:
    """InvalidDataError (naming the series) or HorizonError when the posted series cannot
    train for the requested horizon: the answers the worker would reach after a job."""
    assert body.series is not None
    config = body.config or ForecastConfig()
    history = history_frame(body.series)
    check_trainable(history, body.horizon, body.freq, config.fill, config.backtest_windows)
    if any(series.has_covariates for series in body.series):
        check_posted_covariates(body, history, config)


def check_posted_covariates(
    body: ForecastRequest, history: pd.DataFrame, config: ForecastConfig
) -> CovariateSpec:
    """The covariate kinds of posted series without a model (read from their shape), their
    values held to the core's rules now (CovariateError: a 422 naming series, column and
    timestamp) rather than in a job that must fail."""
    assert body.series is not None
    spec = inferred_spec(body.series)
    freq = data_freq(history, body.freq)
    frame, future = posted_frames(body.series, spec, freq, body.horizon)
    panel = prepare(frame, freq, config.fill, spec)
    if future is not None:
        panel = with_future(panel, future)
    panel.require_future(body.horizon)
    return spec


def check_covariates(
    session: Session, body: TrainSpec, spec: CovariatesIn, spans: pd.DataFrame, freq: str
) -> None:
    """422 naming the column (and the series and first timestamp) when the dataset cannot give
    the model its covariates: a column it lacks, text not marked categorical, a value missing
    on an observed timestamp, a static column that changes, or future rows that do not cover
    the horizon after each series' last observation."""
    kinds = {c.name: c.kind for c in dataset_columns(session, body.dataset)}
    for group in ("future", "past", "static"):
        for name in getattr(spec, group):
            if name not in kinds:
                have = ", ".join(kinds) or "none"
                reason = f"the dataset has no column {name!r} (its covariates: {have})"
                raise InvalidFieldError(f"body.covariates.{group}", reason)
            if kinds[name] == ColumnKind.CATEGORICAL and name not in spec.categorical:
                reason = f"column {name!r} holds text: list it in covariates.categorical"
                raise InvalidFieldError("body.covariates.categorical", reason)
    _check_history_values(session, body, spec, spans)
    if spec.future:
        _check_future_rows(session, body, spec.future, freq)


def _check_history_values(
    session: Session, body: TrainSpec, spec: CovariatesIn, spans: pd.DataFrame
) -> None:
    columns = [*spec.future, *spec.past, *spec.static]
    found = covariate_coverage(session, body.dataset, body.unique_ids, columns)
    pairs = pd.DataFrame({"column": columns}).merge(spans[["unique_id", "points"]], how="cross")
    pairs = pairs.merge(found, on=["unique_id", "column"], how="left").fillna(0)
    static = pairs["column"].isin(spec.static).to_numpy()
    changes = static & (pairs["distinct"].to_numpy() > 1)
    needed = np.where(static, 1, pairs["points"].to_numpy())
    short = pairs["values"].to_numpy() < needed
    if changes.any() or short.any():
        row = pairs.iloc[int(np.argmax(changes | short))]
        uid, name = str(row["unique_id"]), str(row["column"])
        if changes[int(np.argmax(changes | short))]:
            stamp = _first_change(session, body.dataset, uid, name)
            raise InvalidFieldError(
                "body.covariates.static",
                f"series {uid!r}, column {name!r}: a static column must hold one value per "
                f"series; it changes at {stamp}",
            )
        stamp = _first_missing(session, body.dataset, uid, name)
        raise InvalidFieldError(
            f"body.covariates.{_group(spec, name)}",
            f"series {uid!r}, column {name!r}: no value at {stamp}; the column needs one at "
            "every observation",
        )


def _group(spec: CovariatesIn, name: str) -> str:
    return next(g for g in ("future", "past", "static") if name in getattr(spec, g))


def _one_series(session: Session, dataset: str, uid: str, name: str) -> pd.DataFrame:
    frame = read_frame(session, dataset, [uid], [name])
    return frame[frame["y"].notna()]


def _first_missing(session: Session, dataset: str, uid: str, name: str) -> str:
    frame = _one_series(session, dataset, uid, name)
    missing = frame[frame[name].isna()]
    return pd.Timestamp(missing["ds"].iloc[0] if len(missing) else frame["ds"].iloc[0]).isoformat()


def _first_change(session: Session, dataset: str, uid: str, name: str) -> str:
    frame = _one_series(session, dataset, uid, name).dropna(subset=[name])
    changed = frame[frame[name] != frame[name].iloc[0]]
    return pd.Timestamp(changed["ds"].iloc[0]).isoformat()


def _check_future_rows(session: Session, body: TrainSpec, future: Sequence[str], freq: str) -> None:
    """Each future-known column needs a value at each of the ``horizon`` steps after each
    series' last observation (the dataset's future rows: empty y, known covariates)."""
    frame = read_frame(session, body.dataset, body.unique_ids, list(future), last=1)
    last = frame.loc[frame["y"].notna()].set_index("unique_id")["ds"]
    offset = parse_freq(freq)
    ahead = frame[frame["y"].isna()]
    for uid, stamp in last.items():
        steps = pd.date_range(stamp, periods=body.horizon + 1, freq=offset)[1:]
        rows = ahead[ahead["unique_id"] == uid].set_index("ds")
        for name in future:
            known = rows[name].dropna().index if len(rows) else pd.DatetimeIndex([])
            missing = steps.difference(known)
            if len(missing):
                raise InvalidFieldError(
                    "body.covariates.future",
                    f"series {uid!r}, column {name!r}: no future value at "
                    f"{missing[0].isoformat()}; the dataset's future rows (empty y) must "
                    f"cover the {body.horizon} steps after each series' last observation",
                )
