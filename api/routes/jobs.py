"""Jobs: list, inspect (status, attempts, progress, error, result), cancel."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api.deps import SessionDep
from api.errors import field_of_store_errors
from api.jobs import job_out
from api.schemas.common import Cursor, Limit, Page
from api.schemas.jobs import JobOut
from models import jobs as store
from models.tables import JobKind, JobStatus

router = APIRouter(prefix="/jobs", tags=["jobs"])

JobId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Job id.")]
StatusFilter = Literal["queued", "running", "succeeded", "failed", "cancelled"]
KindFilter = Literal["train", "forecast"]


@router.get("", response_model=Page[JobOut])
def list_jobs(
    session: SessionDep,
    status: Annotated[StatusFilter | None, Query(description="Only jobs in this status.")] = None,
    model: Annotated[str | None, Query(max_length=200, description="Only this model's.")] = None,
    kind: Annotated[KindFilter | None, Query(description="Only jobs of this kind.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[JobOut]:
    """Jobs, newest first, optionally filtered by status, model and kind."""
    with field_of_store_errors("query.cursor"):
        page = store.list_jobs(
            session,
            status=JobStatus(status) if status else None,
            model=model,
            kind=JobKind(kind) if kind else None,
            limit=limit,
            cursor=cursor,
        )
    return Page(items=[job_out(job) for job in page.items], next_cursor=page.next_cursor)


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: JobId, session: SessionDep) -> JobOut:
    """One job: status, attempts, progress (epoch, loss, validation score), error, result."""
    return job_out(store.get_job(session, job_id))


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: JobId, session: SessionDep) -> JobOut:
    """Cancel a job: a queued one at once, a running one at its next epoch; 409 when finished."""
    return job_out(store.request_cancel(session, job_id))
