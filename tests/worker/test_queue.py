"""Claim, lease, heartbeat, fencing and expiry on real databases (PostgreSQL and SQLite)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_session_factory, session_scope
from models.tables import Job, JobStatus
from tests.worker.conftest import T0, add_job, get_job
from worker import queue
from worker.queue import ClaimedJob, LeaseLostError
from worker.retry import RetryPolicy

LEASE = 10.0
POLICY = RetryPolicy(base_seconds=5.0, factor=2.0, max_seconds=60.0)


def claim(sessions: sessionmaker[Session], worker: str, at: float = 0.0) -> ClaimedJob | None:
    with session_scope(sessions) as session:
        return queue.claim(session, worker, T0 + timedelta(seconds=at), LEASE)


def expire(sessions: sessionmaker[Session], at: float) -> list[int]:
    with session_scope(sessions) as session:
        return queue.requeue_expired(session, T0 + timedelta(seconds=at), POLICY)


def test_claim_takes_the_oldest_runnable_job_and_leases_it(
    sessions: sessionmaker[Session],
) -> None:
    later = add_job(sessions, run_after=T0 + timedelta(seconds=5))
    first = add_job(sessions)
    add_job(sessions, cancel_requested=True)
    add_job(sessions, status=JobStatus.SUCCEEDED)
    job = claim(sessions, "w1")
    assert job is not None
    assert (job.id, job.attempt, job.worker_id) == (first, 1, "w1")
    row = get_job(sessions, first)
    assert row.status == JobStatus.RUNNING
    assert row.worker_id == "w1"
    assert row.lease_expires_at == T0 + timedelta(seconds=LEASE)
    assert claim(sessions, "w2") is None  # `later` is not runnable yet
    second = claim(sessions, "w2", at=5)
    assert second is not None
    assert second.id == later


def test_each_job_is_claimed_once(sessions: sessionmaker[Session]) -> None:
    ids = {add_job(sessions) for _ in range(5)}
    claimed = [claim(sessions, f"w{i}") for i in range(7)]
    got = [job.id for job in claimed if job is not None]
    assert sorted(got) == sorted(ids)
    assert claimed[5:] == [None, None]


def test_skip_locked_lets_concurrent_claims_pass_each_other(pg_db: str) -> None:
    engine = make_engine(pg_db)  # PostgreSQL only: SQLite has a single writer
    sessions = make_session_factory(engine)
    a_id, b_id = add_job(sessions), add_job(sessions)
    holder = sessions()
    try:
        held = queue.claim(holder, "w1", T0, LEASE)  # transaction still open: row locked
        with session_scope(sessions) as other:
            passed = queue.claim(other, "w2", T0, LEASE)
        assert held is not None
        assert passed is not None
        assert {held.id, passed.id} == {a_id, b_id}
        holder.commit()
    finally:
        holder.close()
        engine.dispose()


def test_heartbeat_extends_the_lease_records_progress_and_reports_cancel(
    sessions: sessionmaker[Session],
) -> None:
    job_id = add_job(sessions)
    job = claim(sessions, "w1")
    assert job is not None
    with session_scope(sessions) as session:
        beat = queue.heartbeat(session, job, T0 + timedelta(seconds=8), LEASE, {"epoch": 3})
    assert beat.cancel_requested is False
    row = get_job(sessions, job_id)
    assert row.lease_expires_at == T0 + timedelta(seconds=18)
    assert row.progress == {"epoch": 3}
    assert expire(sessions, at=15) == []  # the heartbeat kept it alive
    with session_scope(sessions) as session:
        session.get_one(Job, job_id).cancel_requested = True
    with session_scope(sessions) as session:
        assert queue.heartbeat(session, job, T0 + timedelta(seconds=9), LEASE).cancel_requested


def test_expired_lease_requeues_with_backoff_and_fences_the_old_worker(
    sessions: sessionmaker[Session],
) -> None:
    job_id = add_job(sessions)
    stale = claim(sessions, "w1")
    assert stale is not None
    assert expire(sessions, at=LEASE + 1) == [job_id]
    row = get_job(sessions, job_id)
    assert (row.status, row.worker_id, row.attempts) == (JobStatus.QUEUED, None, 1)
    assert row.run_after == T0 + timedelta(seconds=LEASE + 1 + 5)
    assert "lease expired" in (row.error or "")
    fresh = claim(sessions, "w2", at=LEASE + 6)
    assert fresh is not None
    assert (fresh.id, fresh.attempt) == (job_id, 2)
    for write in (
        lambda s: queue.heartbeat(s, stale, T0, LEASE),
        lambda s: queue.lock(s, stale),
        lambda s: queue.complete(s, stale, T0, result={"version": 1}),
        lambda s: queue.fail(s, stale, T0, "boom", POLICY),
    ):
        with pytest.raises(LeaseLostError), session_scope(sessions) as session:
            write(session)
    with session_scope(sessions) as session:
        assert not queue.release(session, stale, T0)
        assert not queue.mark_cancelled(session, stale, T0)
        queue.lock(session, fresh)
        queue.complete(session, fresh, T0 + timedelta(seconds=20), result={"version": 1})
    row = get_job(sessions, job_id)
    assert (row.status, row.result, row.worker_id) == (JobStatus.SUCCEEDED, {"version": 1}, "w2")


def test_same_worker_reclaiming_is_fenced_by_the_attempt(sessions: sessionmaker[Session]) -> None:
    add_job(sessions)
    old = claim(sessions, "w1")
    expire(sessions, at=LEASE + 1)
    new = claim(sessions, "w1", at=LEASE + 60)
    assert old is not None
    assert new is not None
    with pytest.raises(LeaseLostError), session_scope(sessions) as session:
        queue.complete(session, old, T0, result=None)


@pytest.mark.parametrize(("max_attempts", "status"), [(1, JobStatus.FAILED), (2, JobStatus.QUEUED)])
def test_expiry_fails_a_job_out_of_attempts(
    sessions: sessionmaker[Session], max_attempts: int, status: JobStatus
) -> None:
    job_id = add_job(sessions, max_attempts=max_attempts)
    claim(sessions, "w1")
    expire(sessions, at=LEASE + 1)
    row = get_job(sessions, job_id)
    assert row.status == status
    assert (row.finished_at is not None) is (status == JobStatus.FAILED)


def test_expiry_of_a_job_with_cancel_requested_cancels_it(sessions: sessionmaker[Session]) -> None:
    job_id = add_job(sessions)
    claim(sessions, "w1")
    with session_scope(sessions) as session:
        session.get_one(Job, job_id).cancel_requested = True
    expire(sessions, at=LEASE + 1)
    assert get_job(sessions, job_id).status == JobStatus.CANCELLED


def test_fail_retries_with_backoff_then_fails_with_the_error(
    sessions: sessionmaker[Session],
) -> None:
    job_id = add_job(sessions, max_attempts=2)
    job = claim(sessions, "w1")
    assert job is not None
    with session_scope(sessions) as session:
        assert queue.fail(session, job, T0, "boom 1", POLICY) == JobStatus.QUEUED
    row = get_job(sessions, job_id)
    assert (row.status, row.error, row.run_after) == (
        JobStatus.QUEUED,
        "boom 1",
        T0 + timedelta(seconds=5),
    )
    assert claim(sessions, "w1", at=4) is None  # still backing off
    again = claim(sessions, "w1", at=5)
    assert again is not None
    assert again.attempt == 2
    with session_scope(sessions) as session:
        assert queue.fail(session, again, T0, "boom 2", POLICY) == JobStatus.FAILED
    row = get_job(sessions, job_id)
    assert (row.status, row.error, row.attempts) == (JobStatus.FAILED, "boom 2", 2)
    assert row.finished_at == T0


def test_release_returns_the_job_without_spending_an_attempt(
    sessions: sessionmaker[Session],
) -> None:
    job_id = add_job(sessions)
    job = claim(sessions, "w1")
    assert job is not None
    with session_scope(sessions) as session:
        assert queue.release(session, job, T0 + timedelta(seconds=1))
    row = get_job(sessions, job_id)
    assert (row.status, row.attempts, row.worker_id) == (JobStatus.QUEUED, 0, None)
    again = claim(sessions, "w2", at=1)
    assert again is not None
    assert again.attempt == 1


def test_mark_cancelled(sessions: sessionmaker[Session]) -> None:
    job_id = add_job(sessions)
    job = claim(sessions, "w1")
    assert job is not None
    with session_scope(sessions) as session:
        assert queue.mark_cancelled(session, job, T0)
    assert get_job(sessions, job_id).status == JobStatus.CANCELLED
