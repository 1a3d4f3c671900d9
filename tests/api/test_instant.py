"""POST /v1/forecast without a model, with no worker running: the deadline's baseline answer,
the wait limits stated by the schema and the settings, and job reads without the series."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from api.app import create_app
from models.settings import MAX_WAIT_SECONDS
from tests.api.conftest import TestClient, make_settings, series_frame, series_payload


def _series() -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    history = series_frame(n_series=2, points=144)
    return history, series_payload(history)


def test_a_passed_deadline_answers_200_with_the_baseline_and_says_so(client: TestClient) -> None:
    history, series = _series()
    body = {"horizon": 30, "series": series, "deadline_s": 0.5, "quantiles": [0.1, 0.9]}
    response = client.post("/v1/forecast", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["method"] == "seasonal_naive"
    assert answer["fallback"] == {"method": "seasonal_naive", "reason": "deadline"}
    assert answer["model"] is None
    assert answer["held_out"] is None
    first = answer["forecasts"][0]
    season = history[history["unique_id"] == "s0"]["y"].to_numpy()[-24:]
    np.testing.assert_allclose(first["mean"], np.tile(season, 2)[:30])
    assert sorted(first["quantiles"]) == ["0.1", "0.9"]
    assert all(lo <= hi for lo, hi in zip(*first["quantiles"].values(), strict=True))
    job = client.get(f"/v1/jobs/{answer['job_id']}").json()
    assert job["status"] == "cancelled"  # nobody will read the network's answer


def test_a_deadline_with_save_as_keeps_the_job(client: TestClient) -> None:
    _, series = _series()
    body = {"horizon": 3, "series": series, "deadline_s": 0.2, "save_as": "kept-model"}
    answer = client.post("/v1/forecast", json=body).json()
    assert answer["fallback"]["reason"] == "deadline"
    job = client.get(f"/v1/jobs/{answer['job_id']}").json()
    assert job["status"] == "queued"
    assert job["model"] == "kept-model"
    client.post(f"/v1/jobs/{answer['job_id']}/cancel")


def test_job_reads_show_sizes_and_a_hash_instead_of_the_series(client: TestClient) -> None:
    _, series = _series()
    response = client.post("/v1/forecast", json={"horizon": 2, "series": series, "wait_seconds": 0})
    assert response.status_code == 202
    for job in (response.json(), client.get(response.headers["location"]).json()):
        assert "series" not in job["spec"]
        summary = job["spec"]["series_summary"]
        assert summary["series"] == 2
        assert summary["points"] == 288
        assert len(summary["sha256"]) == 64
    listed = client.get("/v1/jobs", params={"kind": "forecast"}).json()["items"]
    assert listed
    assert all("series" not in job["spec"] for job in listed)
    again = client.post("/v1/forecast", json={"horizon": 2, "series": series, "wait_seconds": 0})
    assert again.json()["spec"]["series_summary"]["sha256"] == summary["sha256"]


def test_waits_above_the_server_limit_are_refused_not_cut(
    api_pg_url: str, artifact_dir: Any
) -> None:
    _, series = _series()
    app = create_app(make_settings(api_pg_url, artifact_dir, forecast_wait_seconds=5.0))
    with TestClient(app) as client:
        for field in ("wait_seconds", "deadline_s"):
            response = client.post("/v1/forecast", json={"horizon": 2, "series": series, field: 6})
            assert response.status_code == 422, response.text
            error = response.json()["errors"][0]
            assert error["field"] == f"body.{field}"
            assert "at most 5" in error["reason"]
        too_long = {"horizon": 2, "series": series, "wait_seconds": MAX_WAIT_SECONDS + 1}
        assert client.post("/v1/forecast", json=too_long).status_code == 422


def test_instant_fields_are_checked(client: TestClient) -> None:
    _, series = _series()
    both = {"horizon": 2, "series": series, "deadline_s": 1, "wait_seconds": 1}
    assert client.post("/v1/forecast", json=both).status_code == 422
    with_model = {"model": "m", "horizon": 2, "series": series, "save_as": "x"}
    assert client.post("/v1/forecast", json=with_model).status_code == 422
    bad_name = {"horizon": 2, "series": series, "save_as": "no spaces allowed"}
    assert client.post("/v1/forecast", json=bad_name).status_code == 422
