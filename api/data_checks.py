"""Checks of a request against the data it names, before anything is queued or answered.

A training spec is held against the stored dataset at submission (its frequency, series
lengths and the timestamp range its horizon reaches), and posted series against what training
needs, so a request that can never succeed is a 422 naming the field at once instead of a job
that fails later. Frequencies come from the core's own inference, the one the worker uses.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import InvalidFieldError
from api.forecasting import history_frame
from api.schemas.forecast import ForecastRequest
from api.schemas.models import TrainSpec
from forecaster import ForecastConfig
from forecaster.calendar import parse_freq, step_seconds
from forecaster.data import prepare
from forecaster.errors import HorizonError, InvalidDataError
from forecaster.feasibility import check_future, check_length, check_trainable
from models import datasets
from models.tables import Dataset, Series

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
    check_trainable(
        history_frame(body.series), body.horizon, body.freq, config.fill, config.backtest_windows
    )
