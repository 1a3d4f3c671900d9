"""Helpers for the end-to-end tests: real worker/scheduler processes, data, waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from forecaster import ForecastConfig
from models.datasets import upsert_observations
from models.db import session_scope
from models.jobs import enqueue
from models.tables import Job, JobStatus, ModelVersion, RegisteredModel

FORECASTER = Path(sys.executable).with_name("forecaster")
T = TypeVar("T")
# Tiny networks: these tests are about the queue, not about forecasting well.
TINY = {"hidden_size": 4, "num_layers": 1, "epochs": 1, "ensemble": 1, "batch_size": 64}


GOOD = ForecastConfig(
    hidden_size=8,
    lookback=48,
    epochs=10,
    learning_rate=1e-2,
    batch_size=64,
    ensemble=1,
    patience=100,
    time_budget_s=None,
    device="cpu",
)
UNTRAINED = GOOD.model_copy(update={"epochs": 1, "learning_rate": 1e-5})


def noise_frame(length: int = 300, noise: float = 1.0, seasonal: float = 0.0) -> pd.DataFrame:
    """Four hourly series: a level, an optional daily sine and Gaussian noise. On pure noise
    seasonal naive copies last day's noise; a model that averages the window beats it."""
    rng = np.random.default_rng(0)
    t = np.arange(length)
    ds = pd.date_range("2024-01-01", periods=length, freq="h")
    return pd.concat(
        pd.DataFrame(
            {
                "unique_id": f"s{i}",
                "ds": ds,
                "y": 10 + i + seasonal * np.sin(2 * np.pi * t / 24) + rng.normal(0, noise, length),
            }
        )
        for i in range(4)
    )


def long_running(seconds: float) -> dict[str, Any]:
    """A config that trains epoch after epoch until its time budget is spent."""
    return {**TINY, "epochs": 100_000, "patience": 100_000, "time_budget_s": seconds}


class Processes:
    """Starts forecaster subprocesses with a test's settings; kills leftovers at teardown."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.directory = directory
        self.env = env
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, command: str, **env: str) -> subprocess.Popen[bytes]:
        """Run ``forecaster COMMAND`` with the test settings (plus ``env``)."""
        log = self.directory / f"{command}-{len(self.started)}.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [str(FORECASTER), command],
                env={**os.environ, **self.env, **env},
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        self.started.append(proc)
        return proc

    def logs(self) -> str:
        """Everything the processes printed so far."""
        return "\n".join(p.read_text() for p in sorted(self.directory.glob("*.log")))

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 60) -> int:
        """SIGTERM ``proc`` and return its exit status."""
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout)

    def close(self) -> None:
        """Kill whatever is still running."""
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


def service_env(db_url: str, artifact_dir: Path, **overrides: str) -> dict[str, str]:
    """Settings for test processes: short leases and polls, fast retries, CPU, one thread."""
    env = {
        "FORECASTER_DATABASE_URL": db_url,
        "FORECASTER_ARTIFACT_DIR": str(artifact_dir),
        "FORECASTER_LEASE_SECONDS": "2",
        "FORECASTER_WORKER_POLL_SECONDS": "0.2",
        "FORECASTER_SCHEDULER_POLL_SECONDS": "0.2",
        "FORECASTER_RETRY_BACKOFF_SECONDS": "0.2",
        "FORECASTER_SHUTDOWN_GRACE_SECONDS": "30",
        "FORECASTER_DEVICE": "cpu",
        "FORECASTER_LOG_LEVEL": "INFO",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    return {**env, **overrides}


def wait_for(probe: Callable[[], T | None], timeout: float = 90, what: str = "") -> T:
    """Poll ``probe`` until it returns something truthy (generous timeout, not a measurement)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or probe}")


def add_dataset(
    sessions: sessionmaker[Session], name: str, series: int = 2, length: int = 96, seed: int = 0
) -> None:
    """An hourly dataset of noisy daily sines (noise keeps seasonal-naive errors non-zero)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-01-01", periods=length, freq="h")
    steps = np.arange(length)
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"s{i}",
                "ds": ds,
                "y": 10 + i + 3 * np.sin(2 * np.pi * steps / 24) + rng.normal(0, 0.3, length),
            }
        )
        for i in range(series)
    ]
    with session_scope(sessions) as session:
        upsert_observations(session, name, pd.concat(frames, ignore_index=True))


def add_train_job(
    sessions: sessionmaker[Session],
    model: str,
    dataset: str,
    config: dict[str, Any],
    horizon: int = 6,
    max_attempts: int = 3,
    **spec: Any,
) -> int:
    """Queue a training job; returns its id."""
    body = {"dataset": dataset, "horizon": horizon, "config": config, **spec}
    with session_scope(sessions) as session:
        return enqueue(session, model, body, max_attempts=max_attempts).id


def job(sessions: sessionmaker[Session], job_id: int) -> Job:
    """A fresh copy of a job row."""
    with session_scope(sessions) as session:
        return session.get_one(Job, job_id)


def job_in(sessions: sessionmaker[Session], job_id: int, *statuses: JobStatus) -> Job | None:
    """The job when its status is one of ``statuses``."""
    row = job(sessions, job_id)
    return row if row.status in statuses else None


def versions(sessions: sessionmaker[Session], model: str) -> list[ModelVersion]:
    """Every version of ``model``, by number."""
    with session_scope(sessions) as session:
        return list(
            session.scalars(
                select(ModelVersion)
                .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
                .where(RegisteredModel.name == model)
                .order_by(ModelVersion.version)
            )
        )


def count_jobs(sessions: sessionmaker[Session], status: JobStatus) -> int:
    """How many jobs are in ``status``."""
    with session_scope(sessions) as session:
        return session.scalar(select(func.count()).where(Job.status == status)) or 0
