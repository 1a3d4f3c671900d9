"""Running jobs in-process: progress reports, the forecast answer, train + forecast on SQLite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from forecaster import EpochProgress
from forecaster.estimator import resolve_device
from models.db import session_scope
from models.jobs import enqueue
from models.registry import resolve_reference
from models.settings import Settings
from models.tables import JobKind, JobStatus
from tests.worker.procs import TINY, add_dataset, add_train_job, job, versions
from worker.runner import Worker
from worker.training import ProgressReporter, series_frame


def test_progress_snapshot_estimates_the_remaining_time() -> None:
    report = EpochProgress(
        epoch=2, epochs=4, train_loss=0.5, val_score=0.25, elapsed_s=9.0, member=1, members=2
    )
    snap = ProgressReporter.snapshot(report, elapsed_s=12.0)
    # 6 of 8 epochs done (member 2 of 2, epoch 2 of 4) in 12 s: 4 s left.
    assert snap == {
        "epoch": 2,
        "epochs": 4,
        "member": 1,
        "members": 2,
        "train_loss": 0.5,
        "val_score": 0.25,
        "elapsed_s": 12.0,
        "eta_s": 4.0,
    }


def test_series_frame_reads_inline_series() -> None:
    frame = series_frame([{"unique_id": 7, "ds": ["2024-01-01T00:00:00Z"], "y": [1]}])
    assert list(frame.columns) == ["unique_id", "ds", "y"]
    assert frame["unique_id"].tolist() == ["7"]
    assert frame["ds"].dt.tz is None
    assert frame["y"].dtype == np.float64


def test_resolve_device() -> None:
    assert str(resolve_device("cpu")) == "cpu"
    assert str(resolve_device("auto")) in {"cpu", "cuda"}


@pytest.mark.slow
def test_worker_runs_a_train_and_a_forecast_job_on_sqlite(
    sqlite_db: str, tmp_path: Path, sessions_sqlite: sessionmaker[Session]
) -> None:
    sessions = sessions_sqlite
    add_dataset(sessions, "d", series=2, length=80)
    train_id = add_train_job(
        sessions, "m", "d", TINY, horizon=4, promote={"alias": "prod", "policy": "if_better"}
    )
    series = [
        {
            "unique_id": "x",
            "ds": [f"2024-01-0{1 + i // 24} {i % 24:02d}:00" for i in range(72)],
            "y": [float(np.sin(i / 4)) for i in range(72)],
        }
    ]
    with session_scope(sessions) as session:
        forecast_id = enqueue(
            session,
            None,
            {"series": series, "horizon": 3, "config": TINY, "quantiles": [0.1, 0.9]},
            max_attempts=1,
            kind=JobKind.FORECAST,
        ).id
    worker = Worker(
        Settings(database_url=sqlite_db, artifact_dir=tmp_path / "a", device="cpu"),
        sessions=sessions,
    )
    assert worker.run_once()
    assert worker.run_once()
    assert not worker.run_once()
    trained = job(sessions, train_id)
    assert trained.status == JobStatus.SUCCEEDED
    assert trained.result == {"model": "m", "version": 1}
    assert trained.progress is not None
    assert trained.progress["epoch"] == trained.progress["epochs"] == 1
    # One epoch of one member: the loss-curve history holds exactly that epoch's figures.
    progress = trained.progress
    assert progress["history"] == [[0, 1, progress["train_loss"], progress["val_score"]]]
    assert trained.promotion is not None
    # A one-epoch network is promoted only if its backtest beats seasonal naive (the gate).
    skill = trained.promotion["challenger"]["skill"]
    assert trained.promotion["promoted"] is (skill > 0)
    (version,) = versions(sessions, "m")
    assert version.promotion == trained.promotion
    assert (version.job_id, version.device, version.horizon) == (train_id, "cpu", 4)
    assert version.backtest is not None
    assert version.backtest["skill"]["mase"] == skill
    assert version.metrics["mase"] == version.backtest["metrics"]["mase"]
    if skill > 0:
        with session_scope(sessions) as session:
            assert resolve_reference(session, "m@prod").version == 1
    forecast = job(sessions, forecast_id)
    assert forecast.status == JobStatus.SUCCEEDED, forecast.error
    assert forecast.result is not None
    (entry,) = forecast.result["forecasts"]
    assert entry["unique_id"] == "x"
    assert len(entry["ds"]) == len(entry["mean"]) == 3
    assert set(entry["quantiles"]) == {"0.1", "0.9"}
    assert forecast.result_version_id is None
