"""The forecast lane end to end: a real `forecaster worker` process beside the API app.

A long training job holds the worker's only general slot; a forecast posted then is still
answered by the network (its own lane), and ``save_as`` keeps that network as a version that
forecasts the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from models.db import make_engine, make_session_factory, session_scope
from models.jobs import request_cancel
from models.tables import JobStatus
from tests.api.conftest import TestClient, make_settings, series_payload
from tests.worker.procs import (
    Processes,
    add_dataset,
    add_train_job,
    job,
    job_in,
    long_running,
    service_env,
    versions,
    wait_for,
)

pytestmark = pytest.mark.slow

# Small enough to train in seconds, big enough to beat seasonal naive on a trend.
QUICK = {"hidden_size": 16, "epochs": 30, "ensemble": 1, "lookback": 24, "time_budget_s": None}


@pytest.fixture
def sessions(pg_db: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on this test's fresh PostgreSQL database."""
    engine = make_engine(pg_db)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def procs(pg_db: str, tmp_path: Path) -> Iterator[Processes]:
    """A launcher of worker processes with one general slot and one forecast-lane slot."""
    env = service_env(
        pg_db,
        tmp_path / "artifacts",
        FORECASTER_WORKER_CONCURRENCY="1",
        FORECASTER_WORKER_FORECAST_SLOTS="1",
    )
    launcher = Processes(tmp_path, env)
    yield launcher
    launcher.close()


@pytest.fixture
def client(pg_db: str, tmp_path: Path) -> Iterator[TestClient]:
    """The API on the same database and artifact store as the worker."""
    app = create_app(make_settings(pg_db, tmp_path / "artifacts", forecast_wait_seconds=300))
    with TestClient(app) as test_client:
        yield test_client


def trending_series() -> list[dict[str, Any]]:
    """Two hourly series with a daily season on a steep trend (seasonal naive lags behind)."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(2):
        t = np.arange(240)
        y = 10 * (i + 1) + 3 * np.sin(2 * np.pi * t / 24) + 2.0 * t + rng.normal(0, 0.1, 240)
        ds = pd.date_range("2024-01-01", periods=240, freq="h")
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return series_payload(pd.concat(frames, ignore_index=True))


def test_a_forecast_is_answered_while_a_training_job_holds_the_worker(
    sessions: sessionmaker[Session], procs: Processes, client: TestClient
) -> None:
    add_dataset(sessions, "big", series=2, length=200)
    train_id = add_train_job(sessions, "slow", "big", long_running(600))
    procs.start("worker")
    wait_for(lambda: job_in(sessions, train_id, JobStatus.RUNNING), what="training started")
    body = {"horizon": 6, "series": trending_series(), "config": QUICK, "wait_seconds": 240}
    response = client.post("/v1/forecast", json=body)
    assert response.status_code == 200, response.text + procs.logs()
    answer = response.json()
    assert answer["method"] in ("network", "seasonal_naive")
    assert answer["forecasts"]
    assert answer["held_out"]["metric"] == "mase"  # the network ran and was checked
    assert job(sessions, train_id).status == JobStatus.RUNNING  # not queued behind it
    with session_scope(sessions) as session:
        request_cancel(session, train_id)
    wait_for(lambda: job_in(sessions, train_id, JobStatus.CANCELLED), what="training cancelled")


def test_save_as_keeps_the_network_and_it_forecasts_the_same_numbers(
    sessions: sessionmaker[Session], procs: Processes, client: TestClient
) -> None:
    procs.start("worker")
    series = trending_series()
    body = {"horizon": 6, "series": series, "config": QUICK, "save_as": "kept"}
    first = client.post("/v1/forecast", json={**body, "wait_seconds": 240})
    assert first.status_code == 200, first.text + procs.logs()
    answer = first.json()
    assert answer["method"] == "network"
    assert answer["fallback"] is None
    assert answer["model"] == {"name": "kept", "version": 1}
    result = client.get(f"/v1/jobs/{answer['job_id']}").json()["result"]
    assert result == {key: value for key, value in answer.items() if key != "job_id"}
    [version] = versions(sessions, "kept")
    assert version.job_id == answer["job_id"]
    assert version.horizon == 6
    assert version.metrics["mase"] == pytest.approx(answer["held_out"]["network"])
    assert version.metrics["seasonal_naive"]["mase"] == pytest.approx(
        answer["held_out"]["baseline"]
    )
    again = client.post("/v1/forecast", json={"model": "kept", "horizon": 6, "series": series})
    assert again.status_code == 200, again.text
    stored = again.json()
    assert {k: stored["model"][k] for k in ("name", "version")} == {"name": "kept", "version": 1}
    for new, old in zip(stored["forecasts"], answer["forecasts"], strict=True):
        assert new["ds"] == old["ds"]
        np.testing.assert_allclose(new["mean"], old["mean"], rtol=1e-6)
        for key, values in old["quantiles"].items():
            np.testing.assert_allclose(new["quantiles"][key], values, rtol=1e-6)
