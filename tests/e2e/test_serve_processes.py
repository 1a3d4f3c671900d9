"""``forecaster serve --processes N``: N API processes on one port, background work once."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
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
STARTUP_S = 240  # two fresh interpreters importing torch and pandas on shared cores


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def test_two_api_processes_share_the_port_and_one_inline_worker_trains(
    fresh_pg_url: str,  # noqa: F811
    service_env: Callable[[str], Service],  # noqa: F811
) -> None:
    service = service_env(fresh_pg_url)
    port = free_port()
    assert service.run("migrate").returncode == 0
    args = ["serve", "--processes", "2", "--workers-inline", "1", "--no-scheduler"]
    supervisor = service.start("serve", *args, "--port", str(port))
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        _wait_ready(client, service, STARTUP_S)
        api_processes = [p for p in _children(supervisor.pid) if _is_api_process(p)]
        assert len(api_processes) == 2, service.output()
        client.put(
            "/v1/datasets/sales/observations",
            content=_csv(),
            headers={"content-type": "text/csv"},
        ).raise_for_status()
        promote = {"alias": "production", "policy": "always"}
        train = {"dataset": "sales", "horizon": 12, "config": TINY, "promote": promote}
        job = client.post("/v1/models/demand/train", json=train).json()
        _wait_job(client, job["id"], service, "succeeded")  # the supervisor's inline worker
        body = {"model": "demand@production", "horizon": 12, "dataset": "sales"}
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: client.post("/v1/forecast", json=body), range(16)))
    assert [a.status_code for a in answers] == [200] * 16, service.output()
    numbers = [a.json()["forecasts"] for a in answers]  # provenance differs per request
    assert all(n == numbers[0] for n in numbers)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=60) == 0, service.output()
    assert not any(Path(f"/proc/{p}").exists() and _is_api_process(p) for p in api_processes)


def _is_api_process(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_processes_must_be_positive(service_env: Callable[[str], Service]) -> None:  # noqa: F811
    service = service_env("sqlite:///unused.db")
    done: subprocess.CompletedProcess[str] = service.run("serve", "--processes", "0")
    assert done.returncode != 0
    assert "--processes" in done.stderr
