"""The queue's fault tests, end to end: real `forecaster worker` / `scheduler` processes on a
real PostgreSQL database, with short leases and polls so that each runs in seconds."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from forecaster.artifact import WEIGHTS
from models.artifacts import ArtifactStore
from models.datasets import upsert_observations
from models.db import make_engine, make_session_factory, session_scope
from models.jobs import request_cancel
from models.registry import resolve_reference
from models.schedules import create_schedule
from models.tables import Job, JobStatus
from tests.worker.procs import (
    GOOD,
    TINY,
    UNTRAINED,
    Processes,
    add_dataset,
    add_train_job,
    job,
    job_in,
    long_running,
    noise_frame,
    service_env,
    versions,
    wait_for,
)

pytestmark = pytest.mark.slow

DONE = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@pytest.fixture
def sessions(pg_db: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on this test's fresh PostgreSQL database."""
    engine = make_engine(pg_db)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def procs(pg_db: str, tmp_path: Path) -> Iterator[Processes]:
    """Process launcher wired to this test's database and artifact directory."""
    launcher = Processes(tmp_path, service_env(pg_db, tmp_path / "artifacts"))
    yield launcher
    launcher.close()


def running_with_progress(sessions: sessionmaker[Session], job_id: int) -> Job | None:
    row = job(sessions, job_id)
    return row if row.status == JobStatus.RUNNING and row.progress else None


def test_killed_worker_job_is_finished_by_another_exactly_once(
    sessions: sessionmaker[Session], procs: Processes
) -> None:
    add_dataset(sessions, "d")
    job_id = add_train_job(sessions, "m", "d", long_running(2.0))
    workers = [procs.start("worker"), procs.start("worker")]
    first = wait_for(lambda: running_with_progress(sessions, job_id), what="training started")
    (doomed,) = [w for w in workers if f"-{w.pid}-" in (first.worker_id or "")]
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    done = wait_for(lambda: job_in(sessions, job_id, *DONE), what="job finished")
    assert done.status == JobStatus.SUCCEEDED, procs.logs()
    assert done.attempts == 2
    assert done.worker_id != first.worker_id
    assert done.error is None  # the expiry note is cleared on success
    (version,) = versions(sessions, "m")
    assert (version.version, version.job_id, done.result_version_id) == (1, job_id, version.id)
    assert done.result == {"model": "m", "version": 1}


def test_three_workers_thirty_jobs_each_succeeds_exactly_once(
    sessions: sessionmaker[Session], procs: Processes
) -> None:
    add_dataset(sessions, "d", series=1, length=60)
    ids = [add_train_job(sessions, "m", "d", {**TINY, "seed": i}, horizon=4) for i in range(30)]
    for _ in range(3):
        procs.start("worker", FORECASTER_LEASE_SECONDS="3")
    for job_id in ids:
        wait_for(lambda job_id=job_id: job_in(sessions, job_id, *DONE), timeout=150)
    rows = [job(sessions, job_id) for job_id in ids]
    assert {row.status for row in rows} == {JobStatus.SUCCEEDED}, procs.logs()
    found = versions(sessions, "m")
    assert sorted(v.version for v in found) == list(range(1, 31))
    assert sorted(v.job_id for v in found) == sorted(ids)
    assert sorted(row.result_version_id for row in rows) == sorted(v.id for v in found)
    assert len({row.worker_id for row in rows}) > 1  # the work was shared


def test_two_scheduler_replicas_enqueue_one_job_per_due_time(
    sessions: sessionmaker[Session], procs: Processes
) -> None:
    with session_scope(sessions) as session:
        schedule_id = create_schedule(
            session, model_name="m", cron="* * * * * */2", spec={"dataset": "d", "horizon": 2}
        ).id
    replicas = [procs.start("scheduler") for _ in range(2)]
    keys = wait_for(
        lambda: scheduled_keys(sessions) if len(scheduled_keys(sessions)) >= 4 else None
    )
    assert [procs.stop(replica) for replica in replicas] == [0, 0]
    keys = scheduled_keys(sessions)
    times = [due_time(key, schedule_id) for key in keys]
    assert len(times) == len(set(times))  # never two jobs for one due time
    assert all(t.second % 2 == 0 and t.microsecond == 0 for t in times)


def scheduled_keys(sessions: sessionmaker[Session]) -> list[str]:
    with session_scope(sessions) as session:
        return [key or "" for key in session.scalars(select(Job.idempotency_key).order_by(Job.id))]


def due_time(key: str, schedule_id: int) -> datetime:
    prefix = f"schedule:{schedule_id}:"
    assert key.startswith(prefix)
    return datetime.fromisoformat(key.removeprefix(prefix))


def test_cancel_a_queued_and_a_running_job(
    sessions: sessionmaker[Session], procs: Processes
) -> None:
    add_dataset(sessions, "d")
    running = add_train_job(sessions, "m", "d", long_running(60.0))
    queued = add_train_job(sessions, "m", "d", TINY)
    procs.start("worker")
    wait_for(lambda: running_with_progress(sessions, running), what="training started")
    with session_scope(sessions) as session:
        assert request_cancel(session, queued).status == JobStatus.CANCELLED
        assert request_cancel(session, running).status == JobStatus.RUNNING
    stopped = wait_for(lambda: job_in(sessions, running, *DONE), what="running job stopped")
    assert stopped.status == JobStatus.CANCELLED, procs.logs()
    assert stopped.finished_at is not None
    assert job(sessions, queued).status == JobStatus.CANCELLED
    assert job(sessions, queued).attempts == 0  # never ran
    assert versions(sessions, "m") == []


def test_a_transient_failure_is_retried_with_backoff_then_failed_with_its_error(
    sessions: sessionmaker[Session], pg_db: str, tmp_path: Path
) -> None:
    # The artifact store cannot be written (its root is a file): an environment fault that
    # another attempt, or another worker, may not meet.
    blocked = tmp_path / "blocked-artifacts"
    blocked.write_text("not a directory")
    launcher = Processes(tmp_path, service_env(pg_db, blocked))
    try:
        add_dataset(sessions, "d", length=40)
        job_id = add_train_job(sessions, "m", "d", TINY, horizon=2, max_attempts=3)
        launcher.start("worker")
        done = wait_for(lambda: job_in(sessions, job_id, *DONE), what="job failed")
        logs = launcher.logs()
    finally:
        launcher.close()
    assert done.status == JobStatus.FAILED
    assert done.attempts == 3
    assert done.error
    assert "Error" in done.error  # the exception's type and message are kept
    assert done.finished_at is not None
    assert logs.count("job requeued") == 2
    assert versions(sessions, "m") == []


@pytest.mark.parametrize(
    ("horizon", "freq", "error"),
    [(200, None, "InvalidDataError"), (2, "bogus", "InvalidDataError")],
)
def test_a_data_or_spec_error_fails_at_once_without_retries(
    sessions: sessionmaker[Session],
    procs: Processes,
    horizon: int,
    freq: str | None,
    error: str,
) -> None:
    add_dataset(sessions, "d", length=40)
    job_id = add_train_job(sessions, "m", "d", TINY, horizon=horizon, max_attempts=3, freq=freq)
    procs.start("worker")
    done = wait_for(lambda: job_in(sessions, job_id, *DONE), what="job failed")
    assert done.status == JobStatus.FAILED
    assert done.attempts == 1
    assert done.error is not None
    assert done.error.startswith(error)
    assert "job requeued" not in procs.logs()


def test_if_better_promotion_keeps_a_worse_challenger_and_promotes_a_better_one(
    sessions: sessionmaker[Session], procs: Processes
) -> None:
    with session_scope(sessions) as session:
        upsert_observations(session, "d", noise_frame())
    promote = {"alias": "production", "metric": "mase", "min_improvement": 0.0}
    if_better = {**promote, "policy": "if_better"}
    good = GOOD.model_dump(mode="json", exclude={"device"})
    champion = add_train_job(
        sessions, "m", "d", {**good, "epochs": 2}, 12, promote={**promote, "policy": "always"}
    )
    # One epoch at a tiny learning rate: all but untrained.
    untrained = UNTRAINED.model_dump(mode="json", exclude={"device"})
    worse = add_train_job(sessions, "m", "d", untrained, 12, promote=if_better)
    better = add_train_job(sessions, "m", "d", good, 12, promote=if_better)
    procs.start("worker")
    wait_for(lambda: job_in(sessions, better, *DONE), timeout=300, what="last job done")
    rows = {name: job(sessions, i) for name, i in [("c", champion), ("w", worse), ("b", better)]}
    assert {r.status for r in rows.values()} == {JobStatus.SUCCEEDED}, procs.logs()
    w, b = rows["w"].promotion, rows["b"].promotion
    assert w is not None
    assert b is not None
    assert (w["promoted"], w["champion"]["version"], w["challenger"]["version"]) == (False, 1, 2)
    assert (b["promoted"], b["champion"]["version"], b["challenger"]["version"]) == (True, 1, 3)
    # The worse one loses to seasonal naive or to the champion, with the numbers recorded.
    assert w["challenger"]["skill"] <= 0 or w["challenger"]["score"] >= w["champion"]["score"]
    assert b["challenger"]["skill"] > 0
    assert b["champion"]["state"] == "scored"
    assert b["challenger"]["score"] < b["champion"]["score"]
    with session_scope(sessions) as session:
        assert resolve_reference(session, "m@production").version == 3
    assert [v.promotion for v in versions(sessions, "m")][1:] == [w, b]


def test_a_champion_with_a_corrupt_artifact_does_not_block_retraining(
    sessions: sessionmaker[Session], procs: Processes, tmp_path: Path
) -> None:
    """Reproduces the hardening report: a flipped byte in the champion's weights made every
    if_better job fail in full, leaving the alias on the broken version for ever."""
    with session_scope(sessions) as session:
        upsert_observations(session, "d", noise_frame())
    good = GOOD.model_dump(mode="json", exclude={"device"})
    first = add_train_job(
        sessions,
        "m",
        "d",
        {**good, "epochs": 1},
        12,
        promote={"alias": "production", "policy": "always"},
    )
    worker = procs.start("worker")
    wait_for(lambda: job_in(sessions, first, *DONE), what="champion trained")
    procs.stop(worker)
    (champion,) = versions(sessions, "m")
    weights = ArtifactStore(tmp_path / "artifacts").open(champion.artifact_sha256) / WEIGHTS
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    second = add_train_job(
        sessions,
        "m",
        "d",
        good,
        12,
        max_attempts=1,
        promote={"alias": "production", "policy": "if_better"},
    )
    procs.start("worker")
    done = wait_for(lambda: job_in(sessions, second, *DONE), timeout=300, what="retrained")
    assert done.status == JobStatus.SUCCEEDED, done.error
    record = done.promotion
    assert record is not None
    assert record["champion"]["state"] == "broken"
    assert "cannot be loaded" in record["champion"]["reason"]
    assert record["challenger"]["skill"] > 0
    assert (record["promoted"], record["outcome"]) == (True, "promoted")
    assert "champion v1 cannot be used" in record["decision"]
    with session_scope(sessions) as session:
        assert resolve_reference(session, "m@production").version == 2


@pytest.mark.parametrize(("grace", "outcome"), [("0.5", "released"), ("60", "finished")])
def test_sigterm_exits_zero_with_the_job_finished_or_back_in_the_queue(
    sessions: sessionmaker[Session], procs: Processes, grace: str, outcome: str
) -> None:
    add_dataset(sessions, "d")
    seconds = 60.0 if outcome == "released" else 1.0
    job_id = add_train_job(sessions, "m", "d", long_running(seconds))
    worker = procs.start("worker", FORECASTER_SHUTDOWN_GRACE_SECONDS=grace)
    wait_for(lambda: running_with_progress(sessions, job_id), what="training started")
    assert procs.stop(worker) == 0, procs.logs()
    row = job(sessions, job_id)
    if outcome == "released":
        assert (row.status, row.worker_id, row.attempts) == (JobStatus.QUEUED, None, 0)
        assert versions(sessions, "m") == []
    else:
        assert row.status == JobStatus.SUCCEEDED
        assert len(versions(sessions, "m")) == 1
