"""Queue mechanics on the ``jobs`` table: claim, heartbeat, fenced finish, release, expiry.

The database is the broker. A claim is one ``UPDATE ... RETURNING`` over a
``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent workers never wait for or
take the same row; on SQLite the same statement runs inside the ``BEGIN IMMEDIATE`` transaction
every session opens (one writer at a time). Every later write a worker makes to its job is
*fenced*: it matches ``id``, ``worker_id``, ``status = 'running'`` and the attempt number the
claim returned, so a worker whose lease expired (and whose job another worker may hold now) can
change nothing. Every function takes ``now``; none commits (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, select, update
from sqlalchemy.orm import Session

from models.tables import Job, JobKind, JobStatus
from worker.retry import RetryPolicy

MAX_ERROR_CHARS = 8000


class LeaseLostError(RuntimeError):
    """This worker no longer holds the job's lease; whatever it was about to write is dropped."""


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker holds: ``attempt`` is the fencing token of this claim."""

    id: int
    kind: JobKind
    model_name: str | None
    spec: dict[str, Any]
    attempt: int
    max_attempts: int
    worker_id: str


@dataclass(frozen=True)
class Beat:
    """The answer to a heartbeat: the lease is still ours; whether cancel was requested."""

    cancel_requested: bool


def _fence(job: ClaimedJob) -> ColumnElement[bool]:
    return and_(
        Job.id == job.id,
        Job.worker_id == job.worker_id,
        Job.status == JobStatus.RUNNING,
        Job.attempts == job.attempt,
    )


def _lease(now: datetime, lease_seconds: float) -> datetime:
    return now + timedelta(seconds=lease_seconds)


def claim(
    session: Session,
    worker_id: str,
    now: datetime,
    lease_seconds: float,
    kinds: Collection[JobKind] | None = None,
) -> ClaimedJob | None:
    """Take the oldest runnable queued job (of ``kinds``, any kind when None), lease it to
    ``worker_id``; None when there is none."""
    runnable = [
        Job.status == JobStatus.QUEUED,
        Job.run_after <= now,
        Job.cancel_requested.is_(False),
    ]
    if kinds is not None:
        runnable.append(Job.kind.in_(list(kinds)))
    pick = (
        select(Job.id)
        .where(*runnable)
        .order_by(Job.run_after, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(Job)
        .where(Job.id == pick, Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            worker_id=worker_id,
            attempts=Job.attempts + 1,
            lease_expires_at=_lease(now, lease_seconds),
            heartbeat_at=now,
            started_at=now,
            updated_at=now,
        )
        .returning(Job.id, Job.kind, Job.model_name, Job.spec, Job.attempts, Job.max_attempts)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(statement).one_or_none()
    if row is None:
        return None
    return ClaimedJob(
        id=row.id,
        kind=JobKind(row.kind),
        model_name=row.model_name,
        spec=dict(row.spec or {}),
        attempt=row.attempts,
        max_attempts=row.max_attempts,
        worker_id=worker_id,
    )


def _fenced_update(session: Session, job: ClaimedJob, **values: Any) -> bool:
    statement = (
        update(Job).where(_fence(job)).values(**values).execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount == 1


def heartbeat(
    session: Session,
    job: ClaimedJob,
    now: datetime,
    lease_seconds: float,
    progress: dict[str, Any] | None = None,
) -> Beat:
    """Extend the lease (and record ``progress`` when given); raise LeaseLostError if it is gone."""
    values: dict[str, Any] = {
        "heartbeat_at": now,
        "lease_expires_at": _lease(now, lease_seconds),
        "updated_at": now,
    }
    if progress is not None:
        values["progress"] = progress
    statement = (
        update(Job)
        .where(_fence(job))
        .values(**values)
        .returning(Job.cancel_requested)
        .execution_options(synchronize_session=False)
    )
    cancel = session.execute(statement).scalar_one_or_none()
    if cancel is None:
        raise LeaseLostError(f"job {job.id}: lease lost")
    return Beat(cancel_requested=bool(cancel))


def lock(session: Session, job: ClaimedJob) -> None:
    """Lock the job row for the rest of the transaction if we still hold it, else LeaseLostError.

    Taken first in the finishing transaction, so expiry cannot requeue the job between the
    check and the commit.
    """
    found = session.execute(select(Job.id).where(_fence(job)).with_for_update()).scalar()
    if found is None:
        raise LeaseLostError(f"job {job.id}: lease lost")


def complete(
    session: Session,
    job: ClaimedJob,
    now: datetime,
    *,
    result: dict[str, Any] | None,
    result_version_id: int | None = None,
    promotion: dict[str, Any] | None = None,
) -> None:
    """Mark the job succeeded with its result; raise LeaseLostError if we no longer hold it."""
    done = _fenced_update(
        session,
        job,
        status=JobStatus.SUCCEEDED,
        result=result,
        result_version_id=result_version_id,
        promotion=promotion,
        error=None,
        lease_expires_at=None,
        finished_at=now,
        updated_at=now,
    )
    if not done:
        raise LeaseLostError(f"job {job.id}: lease lost")


def fail(
    session: Session,
    job: ClaimedJob,
    now: datetime,
    error: str,
    policy: RetryPolicy,
    *,
    permanent: bool = False,
) -> JobStatus:
    """Record a failed attempt: back to the queue after a backoff, or failed for good
    (at once when the error is ``permanent``: another attempt would fail the same way).

    Returns the job's new status; raises LeaseLostError if we no longer hold it.
    """
    retry = not permanent and policy.should_retry(job.attempt, job.max_attempts)
    values: dict[str, Any] = {"error": error[:MAX_ERROR_CHARS], "lease_expires_at": None}
    if retry:
        values.update(
            status=JobStatus.QUEUED,
            worker_id=None,
            run_after=policy.next_run_after(now, job.attempt),
        )
    else:
        values.update(status=JobStatus.FAILED, finished_at=now)
    if not _fenced_update(session, job, updated_at=now, **values):
        raise LeaseLostError(f"job {job.id}: lease lost")
    return JobStatus.QUEUED if retry else JobStatus.FAILED


def mark_cancelled(session: Session, job: ClaimedJob, now: datetime) -> bool:
    """Mark a running job cancelled (it stopped at an epoch boundary); False if not ours."""
    return _fenced_update(
        session,
        job,
        status=JobStatus.CANCELLED,
        lease_expires_at=None,
        finished_at=now,
        updated_at=now,
        error="cancelled",
    )


def release(session: Session, job: ClaimedJob, now: datetime) -> bool:
    """Give the job back to the queue unharmed (graceful shutdown): the attempt is not counted.

    Returns False when the job was no longer ours (it finished or expired meanwhile).
    """
    return _fenced_update(
        session,
        job,
        status=JobStatus.QUEUED,
        worker_id=None,
        attempts=Job.attempts - 1,
        lease_expires_at=None,
        run_after=now,
        updated_at=now,
    )


def requeue_expired(session: Session, now: datetime, policy: RetryPolicy) -> list[int]:
    """Recover jobs whose lease expired (their worker died): requeue with backoff, or fail.

    A job whose cancel was requested ends cancelled. Returns the ids recovered. Rows another
    transaction holds are skipped; the next sweep gets them.
    """
    expired = session.execute(
        select(Job.id, Job.attempts, Job.max_attempts, Job.cancel_requested, Job.worker_id)
        .where(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now)
        .order_by(Job.id)
        .with_for_update(skip_locked=True)
    ).all()
    for row in expired:
        session.execute(
            update(Job)
            .where(Job.id == row.id, Job.status == JobStatus.RUNNING)
            .values(**_expiry_values(row, now, policy))
            .execution_options(synchronize_session=False)
        )
    return [row.id for row in expired]


def _expiry_values(row: Any, now: datetime, policy: RetryPolicy) -> dict[str, Any]:
    values: dict[str, Any] = {"worker_id": None, "lease_expires_at": None, "updated_at": now}
    if row.cancel_requested:
        return {**values, "status": JobStatus.CANCELLED, "finished_at": now, "error": "cancelled"}
    message = f"lease expired: worker {row.worker_id} stopped heartbeating (attempt {row.attempts})"
    if policy.should_retry(row.attempts, row.max_attempts):
        run_after = policy.next_run_after(now, row.attempts)
        return {**values, "status": JobStatus.QUEUED, "run_after": run_after, "error": message}
    return {**values, "status": JobStatus.FAILED, "finished_at": now, "error": message}
