"""``POST /v1/forecast``: predict with a stored model, or train on the posted series via a job.

With a model the path is read-only: one short read transaction (resolve the reference, maybe read
the dataset), then the cached model predicts every series in one call, outside any transaction.
Without a model a "forecast" job is committed first, then its row is polled until it finishes or
the wait runs out (200 with the forecast, or 202 with the job's URL).
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.batching import batched_predict
from api.deps import Services, ServicesDep
from api.errors import InvalidFieldError, field_of_store_errors, problem
from api.forecasting import forecasts_json, history_frame, recent
from api.jobs import enqueue_forecast, job_out
from api.openapi import request_body
from api.responses import FastJSONResponse
from api.schemas.common import Problem
from api.schemas.forecast import ForecastOut, ForecastRequest
from api.schemas.jobs import JobOut
from models import datasets, registry
from models import jobs as job_store
from models.db import session_scope
from models.tables import Job, JobStatus

router = APIRouter(tags=["forecast"])

POLL_SECONDS = 0.1


@router.post(
    "/forecast",
    response_model=ForecastOut,
    openapi_extra=request_body(ForecastRequest),
    responses={
        202: {"model": JobOut, "description": "Still training: poll the job at Location."},
        409: {"model": Problem, "description": "The forecast job was cancelled."},
    },
)
async def forecast(request: Request, services: ServicesDep) -> JSONResponse:
    """Forecast ``horizon`` steps for each series, with the model's quantiles.

    The body is parsed straight from bytes by pydantic-core (about twice as fast as decoding the
    JSON to Python objects first), which matters for requests of thousands of series.
    """
    raw = await request.body()
    outcome = await run_in_threadpool(_parse_and_predict, services, raw)
    if isinstance(outcome, ForecastRequest):
        return await forecast_with_job(services, outcome)
    return outcome


def _parse_and_predict(services: Services, raw: bytes) -> JSONResponse | ForecastRequest:
    """Parse the body; with a model, answer at once (one thread hop for the whole request)."""
    body = ForecastRequest.model_validate_json(raw or b"null")
    return forecast_with_model(services, body) if body.model is not None else body


def forecast_with_model(services: Services, body: ForecastRequest) -> JSONResponse:
    """Resolve the reference, gather the history, predict in one batch; no database write."""
    assert body.model is not None
    name, _ = registry.parse_reference(body.model)
    with services.session_factory() as session:  # closed without commit: read-only
        with field_of_store_errors("body.model"):
            version = registry.resolve_reference(session, body.model)
        sha256, number, trained_horizon = (
            version.artifact_sha256,
            version.version,
            version.horizon,
        )
        if body.series is not None:
            history = history_frame(body.series)
        else:
            assert body.dataset is not None
            history = datasets.read_observations(session, body.dataset, unique_ids=body.unique_ids)
    if history.empty:
        raise InvalidFieldError("body.dataset", "the dataset has no observations")
    model = services.model_cache.get(sha256)
    prediction, timing = batched_predict(
        services.batcher,
        sha256,
        model,
        recent(history, model.min_history),
        body.horizon,
        trained_horizon,
    )
    forecasts = forecasts_json(prediction, body.quantiles)
    return FastJSONResponse(
        {"model": {"name": name, "version": number}, "forecasts": forecasts},
        headers=timing.headers(),
    )


async def forecast_with_job(services: Services, body: ForecastRequest) -> JSONResponse:
    """Queue a forecast job and wait for it, within the configured bound."""
    settings = services.settings
    job_id = await run_in_threadpool(_enqueue, services, _job_spec(body))
    limit = settings.forecast_wait_seconds
    wait = min(body.wait_seconds, limit) if body.wait_seconds is not None else limit
    deadline = time.monotonic() + wait
    while True:
        job = await run_in_threadpool(_read_job, services, job_id)
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
            return _finished(job)
        if time.monotonic() >= deadline:
            return _pending(job)
        await anyio.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _job_spec(body: ForecastRequest) -> dict[str, Any]:
    spec = body.model_dump(mode="json", include={"series", "horizon", "freq", "quantiles"})
    spec["config"] = (
        body.config.model_dump(mode="json", exclude_unset=True) if body.config else None
    )
    return spec


def _enqueue(services: Services, spec: dict[str, Any]) -> int:
    with session_scope(services.session_factory) as session:
        return enqueue_forecast(session, services.settings, spec).id


def _read_job(services: Services, job_id: int) -> Job:
    with services.session_factory() as session:
        return job_store.get_job(session, job_id)


def _finished(job: Job) -> JSONResponse:
    instance = f"/v1/jobs/{job.id}"
    if job.status == JobStatus.SUCCEEDED:
        forecasts = (job.result or {}).get("forecasts", [])
        return FastJSONResponse({"model": None, "job_id": job.id, "forecasts": forecasts})
    if job.status == JobStatus.CANCELLED:
        return problem(409, f"forecast job {job.id} was cancelled", instance=instance)
    reason = job.error or "the forecast job failed"
    return problem(
        422,
        f"forecast job {job.id} failed: {reason}",
        instance=instance,
        errors=[{"field": "body.series", "reason": reason}],
    )


def _pending(job: Job) -> JSONResponse:
    location = f"/v1/jobs/{job.id}"
    body = job_out(job).model_dump(mode="json")
    return FastJSONResponse(body, status_code=202, headers={"Location": location})
