"""Job services of the API: validated enqueueing (training, inline forecasts) and job answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.data_checks import check_train_spec
from api.schemas.jobs import JobOut
from api.schemas.models import TrainSpec
from models import datasets
from models import jobs as job_store
from models.errors import Conflict
from models.settings import Settings
from models.tables import Job, JobKind

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def enqueue_training(
    session: Session,
    settings: Settings,
    model: str,
    body: TrainSpec,
    idempotency_key: str | None,
) -> tuple[Job, bool]:
    """Queue a training job after checking its dataset; ``(job, replayed)``.

    A key seen before returns the job it created (``replayed``), provided the request is the
    same; the same key with another request is a 409.
    """
    spec = body.to_job_spec().to_json()
    if idempotency_key is not None:
        existing = _job_by_key(session, idempotency_key)
        if existing is not None:
            if existing.model_name != model or existing.spec != spec:
                raise Conflict("this Idempotency-Key was used for a different request")
            return existing, True
    check_training_data(session, body)
    check_train_spec(session, body)
    # A concurrent twin with the same key is resolved by the store (one row, or a Conflict).
    job = job_store.enqueue(
        session, model, spec, max_attempts=settings.max_attempts, idempotency_key=idempotency_key
    )
    return job, False


def check_training_data(session: Session, body: TrainSpec) -> None:
    """404 unless the dataset (and every requested series) exists, before anything is queued."""
    datasets.get_dataset(session, body.dataset)
    if body.unique_ids:
        # An empty time window: only the existence of every series is checked (NotFound names
        # the missing ones), no observation is read.
        datasets.read_observations(
            session, body.dataset, unique_ids=body.unique_ids, start=_EPOCH, end=_EPOCH
        )


def _job_by_key(session: Session, key: str) -> Job | None:
    found: Job | None = session.scalar(select(Job).where(Job.idempotency_key == key))
    return found


def enqueue_forecast(session: Session, settings: Settings, spec: dict[str, Any]) -> Job:
    """Queue a "forecast" job: the worker fits on the posted series and stores the answer."""
    return job_store.enqueue(
        session,
        spec.get("save_as"),  # the model its network will be kept as, if any
        spec,
        max_attempts=settings.max_attempts,
        kind=JobKind.FORECAST,
    )


def light_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A job's spec as reads show it: posted series replaced by their counts and hash."""
    if "series" not in spec:
        return spec
    return {key: value for key, value in spec.items() if key != "series"}


def job_out(job: Job) -> JobOut:
    """A job row as the API schema."""
    result = job.result or {}
    version = result.get("version") if job.kind == JobKind.TRAIN else None
    return JobOut(
        id=job.id,
        kind=str(job.kind),
        model=job.model_name,
        status=str(job.status),
        spec=light_spec(job.spec),
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        cancel_requested=job.cancel_requested,
        progress=job.progress,
        error=job.error,
        result=job.result,
        result_version=version if isinstance(version, int) else None,
        promotion=job.promotion,
        schedule_id=job.schedule_id,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        updated_at=job.updated_at,
    )
