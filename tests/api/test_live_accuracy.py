"""Live accuracy: logged forecasts scored against actuals, beside the backtest, with drift."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from migrations.runner import is_at_head
from tests.api.conftest import HORIZON, TrainedModel, make_settings, register, series_payload


@pytest.fixture
def app_client(db_url: str, artifact_dir: Path) -> Iterator[TestClient]:
    """An app whose drift window is the last forecast alone."""
    settings = make_settings(db_url, artifact_dir, drift_window=1)
    with TestClient(create_app(settings, at_head=is_at_head)) as client:
        yield client


def _ingest(client: TestClient, dataset: str, frame: pd.DataFrame) -> None:
    rows = [
        {"unique_id": uid, "ds": ds.isoformat(), "y": float(y)}
        for uid, ds, y in frame[["unique_id", "ds", "y"]].itertuples(index=False)
    ]
    response = client.put(f"/v1/datasets/{dataset}/observations", json={"rows": rows})
    assert response.status_code == 200, response.text


def _actuals(answer: dict[str, Any], make: Callable[[np.ndarray, int], np.ndarray]) -> pd.DataFrame:
    """Actuals at the answer's timestamps: ``make(mean, series index)`` gives the values."""
    frames = [
        pd.DataFrame(
            {
                "unique_id": f["unique_id"],
                "ds": pd.to_datetime(f["ds"]).tz_localize(None),
                "y": make(np.array(f["mean"]), i),
            }
        )
        for i, f in enumerate(answer["forecasts"])
    ]
    return pd.concat(frames, ignore_index=True)


def _hand_figures(
    answer: dict[str, Any], actuals: pd.DataFrame, history: pd.DataFrame, season: int
) -> dict[str, float]:
    scaled, smape, in80, in95 = [], [], [], []
    for forecast in answer["forecasts"]:
        uid = forecast["unique_id"]
        past = history[history["unique_id"] == uid]["y"].to_numpy()
        scale = np.mean(np.abs(past[season:] - past[:-season]))
        y = actuals[actuals["unique_id"] == uid]["y"].to_numpy()
        f, q = (
            np.array(forecast["mean"]),
            {k: np.array(v) for k, v in forecast["quantiles"].items()},
        )
        scaled += list(np.abs(y - f) / scale)
        smape += list(200 * np.abs(y - f) / (np.abs(y) + np.abs(f)))
        in80 += list((q["0.1"] <= y) & (y <= q["0.9"]))
        in95 += list((q["0.025"] <= y) & (y <= q["0.975"]))
    return {
        "mase": float(np.mean(scaled)),
        "smape": float(np.mean(smape)),
        "0.8": float(np.mean(in80)),
        "0.95": float(np.mean(in95)),
    }


def test_live_mase_equals_a_hand_computation(
    app_client: TestClient,
    db_url: str,
    trained: TrainedModel,
    unique_name: Callable[[str], str],
) -> None:
    model, dataset = unique_name("live"), unique_name("sales")
    register(db_url, model, trained)
    _ingest(app_client, dataset, trained.history)
    answer = app_client.post(
        "/v1/forecast", json={"model": model, "horizon": HORIZON, "dataset": dataset}
    ).json()
    offsets = np.array([0.0, 0.05, -0.2, 0.4, -1.0, 2.0])
    actuals = _actuals(answer, lambda mean, i: mean + offsets * (i + 1))
    _ingest(app_client, dataset, actuals)
    accuracy = app_client.get(f"/v1/models/{model}/accuracy").json()
    assert trained.model.season == 24
    hand = _hand_figures(answer, actuals, trained.history, trained.model.season)
    assert accuracy["model"] == model
    assert accuracy["version"] == 1
    assert accuracy["points"] == 3 * HORIZON
    assert accuracy["live"]["mase"] == pytest.approx(hand["mase"], rel=1e-9)
    assert accuracy["live"]["smape"] == pytest.approx(hand["smape"], rel=1e-9)
    assert accuracy["live"]["coverage"] == pytest.approx({"0.8": hand["0.8"], "0.95": hand["0.95"]})
    assert trained.model.backtest_report is not None  # the version's own held-out promise
    expected = trained.model.backtest_report["metrics"]["mase"]
    assert accuracy["backtest"]["mase"] == pytest.approx(expected, rel=1e-9)
    (day,) = accuracy["by_day"]
    assert day["day"] == actuals["ds"].iloc[0].date().isoformat()
    assert day["points"] == 3 * HORIZON
    assert day["mase"] == pytest.approx(hand["mase"], rel=1e-9)
    # A point is scored once: sending its actual again (even changed) scores nothing new.
    _ingest(app_client, dataset, actuals.assign(y=actuals["y"] + 100.0))
    again = app_client.get(f"/v1/models/{model}/accuracy", params={"version": 1}).json()
    assert again["points"] == 3 * HORIZON
    assert again["live"]["mase"] == accuracy["live"]["mase"]
    empty = app_client.get(f"/v1/models/{model}/accuracy", params={"since": "2030-01-01"}).json()
    assert empty["points"] == 0
    assert empty["live"]["mase"] is None


def test_drift_flips_on_when_actuals_are_worse_than_promised_and_off_again(
    app_client: TestClient,
    db_url: str,
    trained: TrainedModel,
    unique_name: Callable[[str], str],
) -> None:
    model, dataset = unique_name("drift"), unique_name("sales")
    register(db_url, model, trained)  # backtest MASE 1.0; drift above 1.5
    _ingest(app_client, dataset, trained.history)
    request = {"model": model, "horizon": HORIZON, "dataset": dataset}
    first = app_client.post("/v1/forecast", json=request).json()
    _ingest(app_client, dataset, _actuals(first, lambda mean, i: mean + 10.0))
    worse = app_client.get(f"/v1/models/{model}/accuracy").json()
    assert worse["live"]["mase"] > 1.5
    assert worse["drift"] is True
    label = f'{{model="{model}",version="1"}}'
    assert f"forecaster_drift{label} 1.0" in app_client.get("/metrics").text
    second = app_client.post("/v1/forecast", json=request).json()
    _ingest(app_client, dataset, _actuals(second, lambda mean, i: mean))
    better = app_client.get(f"/v1/models/{model}/accuracy").json()
    assert better["points"] == 2 * 3 * HORIZON
    assert better["drift"] is False
    metrics = app_client.get("/metrics").text
    assert f"forecaster_drift{label} 0.0" in metrics
    assert f"forecaster_live_mase{label} {better['live']['mase']}" in metrics


def test_posted_history_naming_a_dataset_is_scored(
    app_client: TestClient,
    db_url: str,
    trained: TrainedModel,
    unique_name: Callable[[str], str],
) -> None:
    model, dataset = unique_name("posted"), unique_name("sales")
    register(db_url, model, trained)
    posted = trained.history.assign(unique_id="p-" + trained.history["unique_id"])
    body = {
        "model": model,
        "horizon": HORIZON,
        "series": series_payload(posted),
        "dataset": dataset,
        "unique_ids": ["s0", "s1", "s2"],
    }
    answer = app_client.post("/v1/forecast", json=body).json()
    assert [f["unique_id"] for f in answer["forecasts"]] == ["p-s0", "p-s1", "p-s2"]
    actuals = _actuals(answer, lambda mean, i: mean + 1.0)
    _ingest(app_client, dataset, actuals.assign(unique_id=actuals["unique_id"].str[2:]))
    accuracy = app_client.get(f"/v1/models/{model}/accuracy").json()
    hand = _hand_figures(answer, actuals, posted, trained.model.season)
    assert accuracy["points"] == 3 * HORIZON
    assert accuracy["live"]["mase"] == pytest.approx(hand["mase"], rel=1e-9)
    bad = app_client.post("/v1/forecast", json={**body, "unique_ids": ["s0"]})
    assert bad.status_code == 422


def test_accuracy_refuses_version_and_alias_together(
    app_client: TestClient, db_url: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    model = unique_name("both")
    register(db_url, model, trained, alias="production")
    by_alias = app_client.get(f"/v1/models/{model}/accuracy", params={"alias": "production"})
    assert by_alias.json()["points"] == 0
    both = app_client.get(
        f"/v1/models/{model}/accuracy", params={"alias": "production", "version": 1}
    )
    assert both.status_code == 422
    assert app_client.get("/v1/models/nope-x/accuracy").status_code == 404
