"""End to end, as a user would: real `forecaster` processes over HTTP on real databases."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.conftest import free_port, postgres_database

ROOT = Path(__file__).resolve().parents[2]
CLI = str(ROOT / ".venv" / "bin" / "forecaster")
TINY = {
    "hidden_size": 4,
    "num_layers": 1,
    "epochs": 1,
    "ensemble": 1,
    "lookback": 24,
    "device": "cpu",
}
pytestmark = pytest.mark.slow


@pytest.fixture
def fresh_pg_url(postgres_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test."""
    with postgres_database(postgres_url, "forecaster_e2e") as url:
        yield url


@dataclass
class Service:
    """Processes started by a test and the environment they share."""

    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen[bytes]]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a CLI command to completion."""
        return subprocess.run(
            [CLI, *args], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """Start a long-running CLI command, its output in ``logs/<name>.log``."""
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [CLI, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        return process

    def output(self) -> str:
        """Everything the processes logged, for failure messages."""
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.logs.glob("*.log"))


@pytest.fixture
def service_env(tmp_path: Path) -> Iterator[Callable[[str], Service]]:
    """A factory of services on a database URL; every process is stopped at the end."""
    started: list[Service] = []

    def make(url: str) -> Service:
        env = dict(os.environ)
        env.update(
            FORECASTER_DATABASE_URL=url,
            FORECASTER_ARTIFACT_DIR=str(tmp_path / "artifacts"),
            FORECASTER_DEVICE="cpu",
            FORECASTER_WORKER_POLL_SECONDS="0.2",
            FORECASTER_FORECAST_WAIT_SECONDS="60",
            FORECASTER_SHUTDOWN_GRACE_SECONDS="5",
            FORECASTER_LOG_FORMAT="json",
            OMP_NUM_THREADS="1",
        )
        logs = tmp_path / "logs"
        logs.mkdir(exist_ok=True)
        service = Service(env, logs, [])
        started.append(service)
        return service

    yield make
    for service in started:
        for process in service.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in service.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_ready(client: httpx.Client, service: Service, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"service did not become ready\n{service.output()}")


def _wait_job(client: httpx.Client, job_id: int, service: Service, want: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            assert job["status"] == want, f"{job}\n{service.output()}"
            return job
        time.sleep(0.25)
    pytest.fail(f"job {job_id} did not finish\n{service.output()}")


def _csv(series: int = 4, points: int = 96) -> str:
    rng = np.random.default_rng(1)
    ds = pd.date_range("2024-05-01", periods=points, freq="h")
    season = np.sin(np.arange(points) * 2 * np.pi / 24)
    frame = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": f"store-{i}", "ds": ds, "y": 50 + 5 * i + 3 * season}
            ).assign(y=lambda f: f["y"] + rng.normal(0, 0.2, points))
            for i in range(series)
        ]
    )
    frame["ds"] = frame["ds"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return frame.to_csv(index=False)


def test_user_journey_on_postgresql(
    fresh_pg_url: str, service_env: Callable[[str], Service]
) -> None:
    service = service_env(fresh_pg_url)
    port = free_port()
    assert service.run("migrate").returncode == 0
    service.start("serve", "serve", "--workers-inline", "0", "--port", str(port))
    service.start("worker", "worker")
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        _wait_ready(client, service)
        _journey(client, service)


def _journey(client: httpx.Client, service: Service) -> None:
    ingest = client.put(
        "/v1/datasets/sales/observations", content=_csv(), headers={"content-type": "text/csv"}
    )
    assert ingest.json()["series"] == 4, ingest.text
    assert client.get("/v1/datasets/sales").json()["freq"] == "h"
    promote = {"alias": "production", "policy": "always"}
    train = {"dataset": "sales", "horizon": 12, "config": TINY, "promote": promote}
    first = client.post("/v1/models/demand/train", json=train)
    assert first.status_code == 202
    assert first.headers["location"] == f"/v1/jobs/{first.json()['id']}"
    done = _wait_job(client, first.json()["id"], service, "succeeded")
    assert done["result_version"] == 1
    answer = client.post(
        "/v1/forecast", json={"model": "demand@production", "horizon": 12, "dataset": "sales"}
    ).json()
    assert {k: answer["model"][k] for k in ("name", "version")} == {"name": "demand", "version": 1}
    assert len(answer["forecasts"]) == 4
    assert answer["forecasts"][0]["ds"][0] == "2024-05-05T00:00:00Z"
    second = client.post("/v1/models/demand/train", json={**train, "promote": None}).json()
    _wait_job(client, second["id"], service, "succeeded")
    assert (
        client.put("/v1/models/demand/aliases/production", json={"version": 2}).status_code == 200
    )
    answer = client.post(
        "/v1/forecast", json={"model": "demand@production", "horizon": 3, "dataset": "sales"}
    ).json()
    assert {k: answer["model"][k] for k in ("name", "version")} == {"name": "demand", "version": 2}
    versions = client.get("/v1/models/demand/versions").json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["aliases"] == ["production"]
    assert versions[1]["metrics"]
    schedule = {"model": "demand", "cron": "0 4 * * *", "timezone": "UTC", "train": train}
    created = client.post("/v1/schedules", json=schedule)
    assert created.status_code == 201
    assert len(created.json()["next_runs"]) == 3
    long_train = {**train, "config": {**TINY, "epochs": 5000, "time_budget_s": 300}}
    doomed = client.post("/v1/models/demand/train", json=long_train).json()
    client.post(f"/v1/jobs/{doomed['id']}/cancel")
    _wait_job(client, doomed["id"], service, "cancelled")
    metrics = client.get("/metrics").text
    assert 'forecaster_jobs{status="succeeded"} 2.0' in metrics


def test_make_run_smoke_on_sqlite(tmp_path: Path, service_env: Callable[[str], Service]) -> None:
    service = service_env(f"sqlite:///{tmp_path / 'forecaster.db'}")
    assert service.run("migrate").returncode == 0
    port = free_port()
    service.start("serve", "serve", "--port", str(port))
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=90) as client:
        _wait_ready(client, service)
        frame = pd.read_csv(io.StringIO(_csv(series=2)))
        series = [
            {"unique_id": uid, "ds": group["ds"].tolist(), "y": group["y"].tolist()}
            for uid, group in frame.groupby("unique_id")
        ]
        body = {"horizon": 6, "series": series, "config": TINY, "wait_seconds": 60}
        response = client.post("/v1/forecast", json=body)
        assert response.status_code in (200, 202), response.text
        if response.status_code == 202:
            _wait_job(client, response.json()["id"], service, "succeeded")
        else:
            assert len(response.json()["forecasts"]) == 2
        jobs = client.get("/v1/jobs", params={"kind": "forecast"}).json()["items"]
        assert [job["status"] for job in jobs] == ["succeeded"]
