"""Scoring is exactly-once across concurrent scorers, bounded after an ingest, and pickle-free."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.forecast_log import ForecastLog, mase_scales
from api.live_scorer import LiveScorer
from forecaster.metrics import naive_scale
from models import datasets
from models.db import make_engine, make_session_factory, session_scope
from models.errors import InvalidInput
from models.forecast_log import LogRow, TargetRow, write_batch
from models.forecast_payload import ForecastPayload, decode, encode
from models.live_scoring import score_pending
from models.tables import ForecastScore, ForecastTarget
from tests.api.conftest import HORIZON, TrainedModel, make_settings


def test_a_payload_round_trips_and_a_pickled_one_is_refused(trained: TrainedModel) -> None:
    prediction = trained.model.predict(trained.history)
    scale = np.array([1.0, 2.0, 3.0])
    back = decode(encode(ForecastPayload(trained.history, prediction, scale)))
    nanoseconds = {"ds": "datetime64[ns]"}
    expected = trained.history.reset_index(drop=True).astype(nanoseconds)
    pd.testing.assert_frame_equal(back.history, expected)
    pd.testing.assert_frame_equal(back.prediction, prediction.astype(nanoseconds))
    assert back.scale is not None
    assert back.scale.tolist() == [1.0, 2.0, 3.0]
    pickled = io.BytesIO()
    np.savez(pickled, h_ids=np.array([{"code": "runs on load"}], dtype=object))
    with pytest.raises(InvalidInput):
        decode(pickled.getvalue())


def _log_forecast(
    factory: sessionmaker[Session], dataset: str, trained: TrainedModel, name: str
) -> tuple[str, pd.DataFrame]:
    """Log a forecast of ``trained.history`` made now, scored against DATASET."""
    prediction = trained.model.predict(trained.history)
    forecast_id = str(uuid.uuid4())
    scale = mase_scales(trained.history, prediction, trained.model.season)
    stamps = sorted(prediction["ds"].unique())
    first, last = (
        pd.Timestamp(t).tz_localize(UTC).to_pydatetime() for t in (stamps[0], stamps[-1])
    )
    targets = [
        TargetRow(forecast_id, row, dataset, f"s{row}", first, last, HORIZON) for row in range(3)
    ]
    row = LogRow(
        forecast_id=forecast_id,
        model_name=name,
        version=1,
        artifact_sha256=trained.sha256,
        input_sha256="0" * 64,
        horizon=HORIZON,
        request={},
        dataset=dataset,
        n_series=3,
        payload=encode(ForecastPayload(trained.history, prediction, scale)),
        created_at=datetime.now(UTC),
        targets=targets,
    )
    with session_scope(factory) as session:
        write_batch(session, [row])
    return forecast_id, prediction


def _scored(factory: sessionmaker[Session], forecast_id: str) -> tuple[int, int]:
    """(points scored, points the targets still wait for) of one logged forecast."""
    with factory() as session:
        points = session.scalar(
            select(func.count()).where(ForecastScore.forecast_id == forecast_id)
        )
        remaining = session.scalar(
            select(func.sum(ForecastTarget.remaining)).where(
                ForecastTarget.forecast_id == forecast_id
            )
        )
    return int(points or 0), int(remaining or 0)


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test's database."""
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_concurrent_scorers_count_each_point_once(
    factory: sessionmaker[Session], trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name, dataset = unique_name("claim"), unique_name("sales")
    forecast_id, prediction = _log_forecast(factory, dataset, trained, name)
    with session_scope(factory) as session:
        datasets.upsert_observations(session, dataset, prediction.rename(columns={"mean": "y"}))

    def one_pass(_: int) -> int:
        with session_scope(factory) as session:
            return score_pending(session, dataset)

    with ThreadPoolExecutor(max_workers=4) as pool:
        looked = list(pool.map(one_pass, range(4)))
    assert sum(looked) >= 3 * HORIZON
    assert _scored(factory, forecast_id) == (3 * HORIZON, 0)
    assert one_pass(0) == 0  # nothing left to look at


def test_an_ingest_scores_a_bounded_number_of_points_and_leaves_the_rest(
    db_url: str,
    artifact_dir: Path,
    factory: sessionmaker[Session],
    trained: TrainedModel,
    unique_name: Callable[[str], str],
) -> None:
    name, dataset = unique_name("bound"), unique_name("sales")
    forecast_id, prediction = _log_forecast(factory, dataset, trained, name)
    with session_scope(factory) as session:
        datasets.upsert_observations(session, dataset, prediction.rename(columns={"mean": "y"}))
    forecast_log = ForecastLog(factory, make_settings(db_url, artifact_dir))
    scorer = LiveScorer(factory, forecast_log, inline_points=5)
    assert scorer.after_ingest(dataset) == 5
    assert _scored(factory, forecast_id) == (5, 3 * HORIZON - 5)
    assert scorer.score_all() >= 3 * HORIZON - 5
    assert _scored(factory, forecast_id) == (3 * HORIZON, 0)


def test_mase_scales_follow_the_core_definition_in_any_row_order(trained: TrainedModel) -> None:
    history = trained.history.iloc[::-1].reset_index(drop=True)  # series and time reversed
    short = pd.DataFrame(
        {"unique_id": "short", "ds": pd.date_range("2024-01-01", periods=5, freq="h"), "y": 1.0}
    ).assign(y=[1.0, 3.0, 2.0, 5.0, 4.0])
    prediction = pd.DataFrame({"unique_id": ["short", "s2", "s0", "s1"]})
    scales = mase_scales(pd.concat([history, short]), prediction, 24)
    by_series = dict(tuple(trained.history.groupby("unique_id")["y"]))
    expected = [np.mean([2.0, 1.0, 3.0, 1.0])]  # too short for lag 24: lag 1
    expected += [naive_scale(by_series[uid].to_numpy(), 24) for uid in ("s2", "s0", "s1")]
    assert scales.tolist() == pytest.approx(expected, rel=1e-12)
