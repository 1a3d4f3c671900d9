"""Two API processes on one PostgreSQL: both log their forecasts (COPY), and actuals ingested
through both at once are scored exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pandas as pd
import pytest

from tests.conftest import free_port
from tests.e2e.test_service import (  # noqa: F401 - fixtures used by name
    TINY,
    Service,
    _csv,
    _wait_job,
    _wait_ready,
    fresh_pg_url,
    service_env,
)

pytestmark = pytest.mark.slow
HORIZON = 12


def _actuals_csv(answer: dict[str, Any]) -> str:
    frames = [
        pd.DataFrame(
            {"unique_id": f["unique_id"], "ds": f["ds"], "y": [m + 1.0 for m in f["mean"]]}
        )
        for f in answer["forecasts"]
    ]
    return pd.concat(frames).to_csv(index=False)


def _points(client: httpx.Client, want: int, service: Service) -> int:
    """The scored points once they reach WANT (scoring runs after the ingest has answered)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        points: int = client.get("/v1/models/demand/accuracy").json()["points"]
        if points >= want:
            return points
        time.sleep(0.25)
    pytest.fail(f"only {points} of {want} points were scored\n{service.output()}")


def test_two_api_processes_log_and_score_each_point_once(
    fresh_pg_url: str,  # noqa: F811 - the imported fixture
    service_env: Callable[[str], Service],  # noqa: F811 - the imported fixture
) -> None:
    service = service_env(fresh_pg_url)
    assert service.run("migrate").returncode == 0
    ports = [free_port(), free_port()]
    for i, port in enumerate(ports):
        service.start(f"serve-{i}", "serve", "--workers-inline", "0", "--port", str(port))
    service.start("worker", "worker")
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{p}", timeout=60) for p in ports]
    try:
        for client in clients:
            _wait_ready(client, service)
        a, b = clients
        csv = {"content-type": "text/csv"}
        assert a.put("/v1/datasets/sales/observations", content=_csv(), headers=csv).is_success
        train = {"dataset": "sales", "horizon": HORIZON, "config": TINY}
        _wait_job(
            a, a.post("/v1/models/demand/train", json=train).json()["id"], service, "succeeded"
        )
        request = {"model": "demand", "horizon": HORIZON, "dataset": "sales"}
        answers = [client.post("/v1/forecast", json=request).json() for client in clients]
        for client, answer in zip(clients, answers, strict=True):
            logged = client.get(f"/v1/forecasts/{answer['forecast_id']}")
            assert logged.status_code == 200, service.output()
            assert logged.json()["input_sha256"] == answer["input_sha256"]
        assert answers[0]["input_sha256"] == answers[1]["input_sha256"]  # same data, same hash
        listed = a.get("/v1/forecasts", params={"model": "demand"}).json()["items"]
        assert {item["forecast_id"] for item in listed} == {x["forecast_id"] for x in answers}
        body = _actuals_csv(answers[0])
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = list(
                pool.map(
                    lambda c: c.put("/v1/datasets/sales/observations", content=body, headers=csv),
                    clients,
                )
            )
        assert all(response.is_success for response in done)
        want = 2 * 4 * HORIZON  # two forecasts of four series, each step once
        assert _points(a, want, service) == want
        time.sleep(1.0)  # let any straggling pass finish: a double count would show now
        assert _points(b, want, service) == want
    finally:
        for client in clients:
            client.close()
