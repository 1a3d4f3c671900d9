"""POST /v1/forecast: stored models by name, version and alias; errors; no writes; jobs."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import event

from api.app import create_app
from migrations.runner import upgrade
from models.settings import Settings
from tests.api.conftest import (
    HORIZON,
    TestClient,
    TrainedModel,
    make_settings,
    register,
    series_frame,
    series_payload,
)
from worker.runner import Worker


@pytest.fixture
def model_name(db_url: str, trained: TrainedModel, unique_name: Callable[[str], str]) -> str:
    """A model with versions 1 and 2 (the same weights), ``production`` pointing at 1."""
    name = unique_name("fc")
    register(db_url, name, trained, alias="production")
    register(db_url, name, trained)
    return name


def _forecast(client: TestClient, **body: Any) -> Any:
    return client.post("/v1/forecast", json=body)


@pytest.mark.parametrize(("suffix", "version"), [("", 2), ("@1", 1), ("@production", 1)])
def test_forecast_by_reference(
    any_client: TestClient, model_name: str, trained: TrainedModel, suffix: str, version: int
) -> None:
    series = series_payload(trained.history)
    response = _forecast(any_client, model=model_name + suffix, horizon=HORIZON, series=series)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == {
        "name": model_name,
        "version": version,
        "artifact_sha256": trained.sha256,
    }
    assert [f["unique_id"] for f in body["forecasts"]] == ["s0", "s1", "s2"]
    first = body["forecasts"][0]
    last_seen = trained.history["ds"].max()
    expected = [(last_seen + pd.Timedelta(hours=h)).isoformat() + "Z" for h in range(1, 7)]
    assert first["ds"] == expected
    assert len(first["mean"]) == HORIZON
    assert set(first["quantiles"]) == {"0.025", "0.1", "0.5", "0.9", "0.975"}


def test_quantiles_are_monotone(
    any_client: TestClient, model_name: str, trained: TrainedModel
) -> None:
    series = series_payload(trained.history)
    body = _forecast(any_client, model=model_name, horizon=HORIZON, series=series).json()
    for forecast in body["forecasts"]:
        levels = sorted(forecast["quantiles"], key=float)
        table = np.array([forecast["quantiles"][q] for q in levels])  # [quantile, step]
        assert np.all(np.diff(table, axis=0) >= 0)
        assert np.all(np.isfinite(table))


def test_predicts_what_the_model_predicts(
    client: TestClient, api_pg_url: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("fc")
    register(api_pg_url, name, trained)
    series = series_payload(trained.history)
    body = _forecast(client, model=name, horizon=3, series=series, quantiles=[0.1, 0.9]).json()
    direct = trained.model.predict(trained.history, horizon=3)
    s1 = direct[direct["unique_id"] == "s1"]
    answer = body["forecasts"][1]
    assert answer["unique_id"] == "s1"
    np.testing.assert_allclose(answer["mean"], s1["mean"].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(answer["quantiles"]["0.9"], s1["q0.9"].to_numpy(), rtol=1e-6)
    assert set(answer["quantiles"]) == {"0.1", "0.9"}


def test_forecast_from_a_stored_dataset(
    client: TestClient, api_pg_url: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name, dataset = unique_name("fc"), unique_name("fc-ds")
    register(api_pg_url, name, trained)
    csv = trained.history.assign(ds=trained.history["ds"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    client.put(
        f"/v1/datasets/{dataset}/observations",
        content=csv.to_csv(index=False),
        headers={"content-type": "text/csv"},
    )
    body = _forecast(client, model=name, horizon=2, dataset=dataset, unique_ids=["s2"]).json()
    assert [f["unique_id"] for f in body["forecasts"]] == ["s2"]
    assert len(body["forecasts"][0]["mean"]) == 2


def _error(response: Any, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    error: dict[str, str] = response.json()["errors"][0] if status == 422 else {}
    return error


def test_horizon_beyond_training_is_a_422(
    client: TestClient, api_pg_url: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("fc")
    register(api_pg_url, name, trained)
    series = series_payload(trained.history)
    error = _error(_forecast(client, model=name, horizon=HORIZON + 1, series=series), 422)
    assert error["field"] == "body.horizon"
    assert "trained for" in error["reason"]


def test_forecast_errors(
    client: TestClient, api_pg_url: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("fc")
    register(api_pg_url, name, trained)
    series = series_payload(trained.history)
    _error(_forecast(client, model="nobody", horizon=2, series=series), 404)
    _error(_forecast(client, model=f"{name}@7", horizon=2, series=series), 404)
    _error(_forecast(client, model=f"{name}@nolabel", horizon=2, series=series), 404)
    _error(_forecast(client, model=name, horizon=2, dataset="no-such-data"), 404)
    bad_ref = _error(_forecast(client, model="a@@b", horizon=2, series=series), 422)
    assert bad_ref["field"] == "body.model"
    bad_q = _error(_forecast(client, model=name, horizon=2, series=series, quantiles=[0.33]), 422)
    assert bad_q["field"] == "body.quantiles"
    short = [{"unique_id": "tiny", "ds": ["2024-01-01T00:00:00"], "y": [1.0]}]
    too_short = _error(_forecast(client, model=name, horizon=2, series=short), 422)
    assert "tiny" in too_short["field"] + too_short["reason"]
    twice = [{"unique_id": "d", "ds": ["2024-01-01T00:00:00"] * 30, "y": [1.0] * 30}]
    duplicated = _error(_forecast(client, model=name, horizon=2, series=twice), 422)
    assert "d" in duplicated["field"] + duplicated["reason"]
    mismatch = [{"unique_id": "m", "ds": ["2024-01-01T00:00:00"], "y": [1.0, 2.0]}]
    _error(_forecast(client, model=name, horizon=2, series=mismatch), 422)
    nan = client.post(
        "/v1/forecast",
        content=b'{"model": "x", "horizon": 2, "series": [{"unique_id": "a", "ds": '
        b'["2024-01-01T00:00:00"], "y": [NaN]}]}',
        headers={"content-type": "application/json"},
    )
    assert _error(nan, 422)["field"].startswith("body.series.0.y")
    _error(_forecast(client, model=name, horizon=2), 422)  # no history given


def test_stored_model_path_writes_nothing_and_caches(
    api_pg_url: str, artifact_dir: Path, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("fc")
    register(api_pg_url, name, trained)
    # With the forecast log off (tests/api/test_forecast_log.py covers it on).
    app = create_app(make_settings(api_pg_url, artifact_dir, forecast_log=False))
    services = app.state.services
    statements: list[str] = []

    @event.listens_for(services.engine, "before_cursor_execute")
    def _record(*args: Any) -> None:
        statements.append(str(args[2]).lstrip().split()[0].upper())

    series = series_payload(trained.history)
    with TestClient(app) as client:
        for _ in range(3):
            assert _forecast(client, model=name, horizon=2, series=series).status_code == 200
        metrics = client.get("/metrics").text
    assert statements
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements)
    assert len(services.model_cache) == 1
    assert 'forecaster_model_cache_lookups_total{result="hit"} 2.0' in metrics


def test_without_a_model_answers_202_with_the_job(client: TestClient) -> None:
    series = series_payload(series_frame(n_series=1, points=48))
    response = _forecast(client, horizon=2, series=series, wait_seconds=0)
    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["kind"] == "forecast"
    assert job["spec"]["horizon"] == 2
    assert client.post(f"/v1/jobs/{job['id']}/cancel").json()["status"] == "cancelled"


@pytest.fixture
def fresh_sqlite_settings(tmp_path: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'inline.db'}"
    upgrade(url)
    return make_settings(url, tmp_path / "artifacts", forecast_wait_seconds=120.0)


@pytest.fixture
def worker_thread(fresh_sqlite_settings: Settings) -> Iterator[None]:
    stop = threading.Event()
    worker = Worker(fresh_sqlite_settings.model_copy(update={"worker_poll_seconds": 0.1}))
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    yield
    stop.set()
    thread.join(timeout=60)


@pytest.mark.slow
def test_without_a_model_trains_on_the_series_and_answers_200(
    fresh_sqlite_settings: Settings, worker_thread: None, trained: TrainedModel
) -> None:
    config = {"hidden_size": 4, "num_layers": 1, "epochs": 1, "ensemble": 1, "lookback": 24}
    body = {"horizon": 3, "series": series_payload(trained.history), "config": config}
    with TestClient(create_app(fresh_sqlite_settings)) as client:
        response = client.post("/v1/forecast", json={**body, "wait_seconds": 120})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"] is None
    assert [f["unique_id"] for f in answer["forecasts"]] == ["s0", "s1", "s2"]
    assert all(len(f["mean"]) == 3 for f in answer["forecasts"])
    last_seen = trained.history["ds"].max()
    assert answer["forecasts"][0]["ds"][0] == (last_seen + pd.Timedelta(hours=1)).isoformat() + "Z"


def test_a_tampered_artifact_is_refused_with_a_problem_document(
    api_pg_url: str, trained: TrainedModel, artifact_dir: Path, tmp_path: Path
) -> None:
    """The API never predicts from weights whose digest changed; it says which version failed."""
    store_root = tmp_path / "artifacts"
    shutil.copytree(artifact_dir, store_root)
    weights = next(store_root.rglob(f"{trained.sha256}/weights.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-8] + b"tampered")
    name = f"tampered-{tmp_path.name}"[:60]
    register(api_pg_url, name, trained)
    app = create_app(make_settings(api_pg_url, store_root))
    with TestClient(app) as client:
        series = series_payload(trained.history)
        response = _forecast(client, model=name, horizon=HORIZON, series=series)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "failed verification" in response.json()["detail"]
