"""A version's backtest over HTTP: shown on the version, and re-run on a dataset's windows after
the version's training cut-off (409 naming the cut-off when there are none)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from tests.api.conftest import TestClient, TrainedModel, register, series_frame


def _put(client: TestClient, name: str, frame: pd.DataFrame) -> None:
    response = client.put(
        f"/v1/datasets/{name}/observations",
        content=frame.assign(ds=frame["ds"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(index=False),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def model(api_pg_url: str, trained: TrainedModel, unique_name: Callable[[str], str]) -> str:
    name = unique_name("bt")
    register(api_pg_url, name, trained)
    return name


def test_a_version_shows_its_backtest(
    client: TestClient, model: str, trained: TrainedModel
) -> None:
    body = client.get(f"/v1/models/{model}/versions/1").json()
    backtest = body["backtest"]
    assert set(backtest) >= {"windows", "metrics", "by_step", "baselines", "skill"}
    assert set(backtest["metrics"]) == {
        "mae",
        "rmse",
        "smape",
        "mase",
        "pinball",
        "msis",
        "coverage",
    }
    assert set(backtest["metrics"]["coverage"]) == {"0.8", "0.95"}
    assert set(backtest["baselines"]) == {"seasonal_naive", "naive"}
    assert len(backtest["by_step"]["mase"]) == 6
    assert trained.model.backtest_report is not None
    assert backtest["skill"]["mase"] == pytest.approx(
        trained.model.backtest_report["skill"]["mase"]
    )
    assert [w["points_from_end"] for w in backtest["windows"]] == [12, 6]


def test_backtest_scores_only_windows_after_the_cutoff(
    client: TestClient, model: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    dataset = unique_name("bt-ds")
    _put(client, dataset, trained.history)
    url = f"/v1/models/{model}/versions/1/backtest"
    response = client.post(url, json={"dataset": dataset, "n_windows": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model"], body["version"], body["dataset"]) == (model, 1, dataset)
    # Only the version's own two held-out windows lie after its cut-off.
    assert [w["points_from_end"] for w in body["windows"]] == [12, 6]
    report = trained.model.backtest_report
    assert report is not None
    assert body["metrics"]["mase"] == pytest.approx(report["metrics"]["mase"])
    cutoff = max(trained.model.cutoffs.values())
    assert pd.Timestamp(body["training_cutoff"]).tz_localize(None) == cutoff


def test_backtest_without_new_points_is_a_409_naming_the_cutoff(
    client: TestClient, model: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    dataset = unique_name("bt-old")
    _put(client, dataset, series_frame(points=88))  # 4 points after the cut-off: no window
    response = client.post(f"/v1/models/{model}/versions/1/backtest", json={"dataset": dataset})
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    cutoff = trained.model.cutoffs["s0"].isoformat()
    assert cutoff in response.json()["detail"]


def test_backtest_bad_requests(client: TestClient, model: str) -> None:
    url = f"/v1/models/{model}/versions/1/backtest"
    assert client.post(url, json={"dataset": "no-such-ds"}).status_code == 404
    assert client.post(url, json={"dataset": "x", "n_windows": 0}).status_code == 422
    assert client.post(url, json={"dataset": "x", "extra": 1}).status_code == 422
    missing = f"/v1/models/{model}/versions/99/backtest"
    assert client.post(missing, json={"dataset": "x"}).status_code == 404
