"""Job rows from the producers' side, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from models.base import utcnow
from models.errors import Conflict, InvalidInput, NotFound
from models.jobs import (
    count_by_status,
    enqueue,
    get_job,
    get_status,
    list_jobs,
    queue_depth,
    request_cancel,
)
from models.schedules import create_schedule
from models.tables import JobKind, JobStatus
from tests.models.conftest import unique_name

SPEC = {"dataset": "d", "horizon": 24}


def test_enqueue_creates_a_queued_job(session: Session) -> None:
    name = unique_name()
    job = enqueue(session, name, SPEC, max_attempts=3)
    got = get_job(session, job.id)
    assert (got.status, got.kind, got.attempts, got.max_attempts) == (
        JobStatus.QUEUED,
        JobKind.TRAIN,
        0,
        3,
    )
    assert got.spec == SPEC
    assert got.cancel_requested is False
    assert got.result is None
    assert got.created_at <= utcnow()
    forecast = enqueue(session, None, {"horizon": 3}, max_attempts=1, kind=JobKind.FORECAST)
    assert forecast.kind == JobKind.FORECAST
    with pytest.raises(NotFound):
        get_job(session, 10**12)


def test_enqueue_validates(session: Session) -> None:
    with pytest.raises(InvalidInput, match="max_attempts"):
        enqueue(session, "m", SPEC, max_attempts=0)
    with pytest.raises(InvalidInput, match="model name"):
        enqueue(session, None, SPEC, max_attempts=1)


def test_idempotency_key_returns_the_first_job(session: Session) -> None:
    key = unique_name("key")
    schedule = create_schedule(session, model_name="m", cron="0 * * * *", spec=SPEC)
    first = enqueue(
        session, "m", SPEC, max_attempts=3, idempotency_key=key, schedule_id=schedule.id
    )
    second = enqueue(session, "m", dict(SPEC), max_attempts=3, idempotency_key=key)
    assert second.id == first.id
    assert first.schedule_id == schedule.id
    with pytest.raises(Conflict, match="different"):
        enqueue(session, "m", {"dataset": "other"}, max_attempts=3, idempotency_key=key)


def test_list_filters_and_pages_newest_first(session: Session) -> None:
    model, other = unique_name(), unique_name()
    jobs = [enqueue(session, model, SPEC, max_attempts=1) for _ in range(5)]
    enqueue(session, other, SPEC, max_attempts=1)
    request_cancel(session, jobs[0].id)
    first = list_jobs(session, model=model, limit=2)
    assert [j.id for j in first.items] == [jobs[4].id, jobs[3].id]
    second = list_jobs(session, model=model, limit=2, cursor=first.next_cursor)
    third = list_jobs(session, model=model, limit=2, cursor=second.next_cursor)
    assert [j.id for j in second.items + third.items] == [jobs[2].id, jobs[1].id, jobs[0].id]
    assert third.next_cursor is None
    cancelled = list_jobs(session, model=model, status=JobStatus.CANCELLED)
    assert [j.id for j in cancelled.items] == [jobs[0].id]
    assert list_jobs(session, model=model, kind=JobKind.FORECAST).items == []


def test_cancel_queued_at_once_running_by_flag_finished_refused(session: Session) -> None:
    queued = enqueue(session, "m", SPEC, max_attempts=1)
    cancelled = request_cancel(session, queued.id)
    assert cancelled.status == JobStatus.CANCELLED
    assert cancelled.finished_at is not None
    assert request_cancel(session, queued.id).status == JobStatus.CANCELLED
    running = enqueue(session, "m", SPEC, max_attempts=1)
    running.status = JobStatus.RUNNING
    session.flush()
    flagged = request_cancel(session, running.id)
    assert (flagged.status, flagged.cancel_requested) == (JobStatus.RUNNING, True)
    done = enqueue(session, "m", SPEC, max_attempts=1)
    done.status = JobStatus.SUCCEEDED
    session.flush()
    with pytest.raises(Conflict, match="succeeded"):
        request_cancel(session, done.id)
    with pytest.raises(NotFound):
        request_cancel(session, 10**12)


def test_counts_and_queue_depth(session: Session) -> None:
    before = count_by_status(session)
    assert set(before) == {s.value for s in JobStatus}
    depth = queue_depth(session)
    enqueue(session, "m", SPEC, max_attempts=1)
    enqueue(session, "m", SPEC, max_attempts=1, run_after=utcnow() + timedelta(hours=1))
    request_cancel(session, enqueue(session, "m", SPEC, max_attempts=1).id)
    after = count_by_status(session)
    assert after["queued"] == before["queued"] + 2
    assert after["cancelled"] == before["cancelled"] + 1
    assert queue_depth(session) == depth + 1


def test_get_status_reads_only_the_status(session: Session) -> None:
    job = enqueue(session, unique_name(), {"dataset": "d", "horizon": 1}, max_attempts=1)
    assert get_status(session, job.id) == JobStatus.QUEUED
    request_cancel(session, job.id)
    assert get_status(session, job.id) == JobStatus.CANCELLED
    with pytest.raises(NotFound):
        get_status(session, 2**62)
