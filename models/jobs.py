"""The job queue's rows from the producers' side: enqueue, look up, list, cancel, count.

Claiming, heartbeats and completion belong to ``worker.queue``. Enqueue is a plain INSERT in
the caller's transaction, so a job is committed together with whatever caused it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.dialects import insert_for
from models.errors import Conflict, InvalidInput, NotFound
from models.pagination import DEFAULT_LIMIT, Page, paginate
from models.tables import Job, JobKind, JobStatus


def enqueue(
    session: Session,
    model_name: str | None,
    spec: dict[str, Any],
    *,
    max_attempts: int,
    kind: JobKind = JobKind.TRAIN,
    idempotency_key: str | None = None,
    schedule_id: int | None = None,
    run_after: datetime | None = None,
) -> Job:
    """Queue a job. With IDEMPOTENCY_KEY, a second enqueue returns the first job (the same
    request) or raises Conflict (a different request under the same key)."""
    if max_attempts < 1:
        raise InvalidInput("max_attempts must be at least 1")
    if kind == JobKind.TRAIN and not model_name:
        raise InvalidInput("a train job needs a model name")
    values = {
        "kind": kind,
        "model_name": model_name,
        "status": JobStatus.QUEUED,
        "spec": spec,
        "attempts": 0,
        "max_attempts": max_attempts,
        "idempotency_key": idempotency_key,
        "schedule_id": schedule_id,
        "run_after": run_after or utcnow(),
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    if idempotency_key is None:
        job = Job(**values)
        session.add(job)
        session.flush()
        return job
    return _enqueue_once(session, values)


def _enqueue_once(session: Session, values: dict[str, Any]) -> Job:
    stmt = insert_for(session, Job).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=["idempotency_key"])
    session.execute(stmt)
    key = values["idempotency_key"]
    job = session.scalar(
        select(Job).where(Job.idempotency_key == key).execution_options(populate_existing=True)
    )
    if job is None:  # the conflicting job was deleted in between
        raise Conflict(f"idempotency key {key!r} is in use")
    same = (job.kind, job.model_name, job.spec) == (
        values["kind"],
        values["model_name"],
        values["spec"],
    )
    if not same:
        raise Conflict(f"idempotency key {key!r} was used for a different job")
    return job


def get_job(session: Session, job_id: int) -> Job:
    """The job JOB_ID; NotFound otherwise."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def get_status(session: Session, job_id: int) -> JobStatus:
    """Only the status of job JOB_ID (what a poll needs; the row may carry large JSON)."""
    status = session.scalar(select(Job.status).where(Job.id == job_id))
    if status is None:
        raise NotFound(f"job {job_id} not found")
    return JobStatus(status)


def list_jobs(
    session: Session,
    *,
    status: JobStatus | None = None,
    model: str | None = None,
    kind: JobKind | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Job]:
    """Jobs newest first, optionally filtered by STATUS, MODEL (name) and KIND."""
    stmt = select(Job)
    if status is not None:
        stmt = stmt.where(Job.status == status)
    if model is not None:
        stmt = stmt.where(Job.model_name == model)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    return paginate(session, stmt, Job.created_at, Job.id, limit=limit, cursor=cursor)


def request_cancel(session: Session, job_id: int) -> Job:
    """Cancel JOB_ID: a queued job is cancelled at once, a running one is flagged and stops at
    its next epoch boundary. Cancelling a cancelled job is a no-op; a finished one is Conflict."""
    job = session.scalar(
        select(Job)
        .where(Job.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if job is None:
        raise NotFound(f"job {job_id} not found")
    if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        raise Conflict(f"job {job_id} has already {job.status}")
    if job.status == JobStatus.QUEUED:
        job.status = JobStatus.CANCELLED
        job.finished_at = utcnow()
    job.cancel_requested = True
    session.flush()
    return job


def count_by_status(session: Session) -> dict[str, int]:
    """Number of jobs in each status (every status present, zeros included)."""
    counts = dict.fromkeys((status.value for status in JobStatus), 0)
    rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
    for status, count in rows:
        counts[str(status)] = int(count)
    return counts


def queue_depth(session: Session, now: datetime | None = None) -> int:
    """Queued jobs that are due (``run_after <= now``): the backlog workers should drain."""
    due = now or utcnow()
    count = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.status == JobStatus.QUEUED, Job.run_after <= due)
    )
    return int(count or 0)
