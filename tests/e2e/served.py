"""A served instance for client and CLI tests: `migrate`, then `serve` and a real `worker`."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CLI = str(ROOT / ".venv" / "bin" / "forecaster")
API_KEY = "client-test-key"
MAX_REQUEST_BYTES = 1_000_000  # small, so that the client's chunking meets a real limit
# Tiny networks: these tests are about the client, not about forecasting well.
TINY = {
    "hidden_size": 4,
    "num_layers": 1,
    "epochs": 2,
    "ensemble": 1,
    "lookback": 24,
    "device": "cpu",
    "batch_size": 64,
}


@dataclass(frozen=True)
class Served:
    """A running service: its URL, key and the environment of its processes."""

    url: str
    env: dict[str, str]
    logs: Path

    def output(self) -> str:
        """The processes' logs, for failure messages."""
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.logs.glob("*.log"))


def frame(series: int = 3, points: int = 96, seed: int = 0) -> pd.DataFrame:
    """Hourly daily sines with noise, in long format."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-05-01", periods=points, freq="h")
    season = 3 * np.sin(np.arange(points) * 2 * np.pi / 24)
    parts = [
        pd.DataFrame({"unique_id": f"store-{i}", "ds": ds, "y": 50 + 5 * i + season})
        for i in range(series)
    ]
    out = pd.concat(parts, ignore_index=True)
    return out.assign(y=out["y"] + rng.normal(0, 0.3, len(out)))


@contextmanager
def served(db_url: str, directory: Path) -> Iterator[Served]:
    """``forecaster serve --workers-inline 0`` and one ``forecaster worker`` on ``db_url``."""
    port = free_port()
    env = {
        **os.environ,
        "FORECASTER_DATABASE_URL": db_url,
        "FORECASTER_ARTIFACT_DIR": str(directory / "artifacts"),
        "FORECASTER_API_KEYS": API_KEY,
        "FORECASTER_MAX_REQUEST_BYTES": str(MAX_REQUEST_BYTES),
        "FORECASTER_DEVICE": "cpu",
        "FORECASTER_WORKER_POLL_SECONDS": "0.2",
        "FORECASTER_FORECAST_WAIT_SECONDS": "60",
        "FORECASTER_SHUTDOWN_GRACE_SECONDS": "5",
        "OMP_NUM_THREADS": "1",
    }
    env.pop("FORECASTER_URL", None)
    env.pop("FORECASTER_API_KEY", None)
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    subprocess.run([CLI, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    processes = [
        _start(env, logs / "serve.log", "serve", "--workers-inline", "0", "--port", str(port)),
        _start(env, logs / "worker.log", "worker"),
    ]
    service = Served(f"http://127.0.0.1:{port}", env, logs)
    try:
        _wait_ready(service, processes)
        yield service
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen([CLI, *args], env=env, stdout=sink, stderr=subprocess.STDOUT)


def _wait_ready(service: Served, processes: list[subprocess.Popen[bytes]]) -> None:
    """Until /readyz answers 200; fails at once when a process exits (generous on a busy host)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        exited = [p.returncode for p in processes if p.poll() is not None]
        if exited:
            raise AssertionError(f"a service process exited with {exited}\n{service.output()}")
        try:
            if httpx.get(f"{service.url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"service did not become ready\n{service.output()}")
