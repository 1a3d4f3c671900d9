"""``POST /v1/forecast`` without a model: a forecast job in its own lane, a deadline, a baseline.

The request's job is committed first; then its row is polled. With ``wait_seconds`` the caller
waits for the job (200 with its answer, or 202 with its URL). Otherwise a deadline applies
(``deadline_s``, by default ``forecast_deadline_seconds``): when it passes first, the answer is
200 with the baseline's forecast and ``fallback.reason = "deadline"``, and the job is cancelled
unless ``save_as`` asked to keep its network. Every answer has one shape (see ForecastOut).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import anyio
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.covariate_inputs import inferred_spec
from api.deps import Services
from api.errors import InvalidFieldError, problem
from api.forecasting import history_frame
from api.jobs import enqueue_forecast, job_out
from api.responses import FastJSONResponse
from api.schemas.forecast import ForecastRequest
from forecaster import DEFAULT_QUANTILES
from forecaster.quick import answer_record, deadline_answer
from models import jobs as job_store
from models.db import session_scope
from models.errors import Conflict
from models.job_specs import CovariateColumns, ForecastJobSpec
from models.settings import Settings
from models.tables import TERMINAL_JOB_STATUSES, Job, JobStatus

POLL_SECONDS = 0.05


async def forecast_without_model(services: Services, body: ForecastRequest) -> JSONResponse:
    """Queue the forecast job and answer within the wait or the deadline (see the module)."""
    waited = _bounded_wait(body, services.settings)
    job_id = await run_in_threadpool(_enqueue, services, job_spec(body))
    job = await _poll(services, job_id, time.monotonic() + waited)
    if job.status in TERMINAL_JOB_STATUSES:
        return _finished(job)
    if body.wait_seconds is not None:
        return _pending(job)
    return await run_in_threadpool(_deadline_fallback, services, body, job)


def _bounded_wait(body: ForecastRequest, settings: Settings) -> float:
    """The seconds this request may wait; a 422 above the server's limit (never cut silently)."""
    limit = settings.forecast_wait_seconds
    for field, value in (("deadline_s", body.deadline_s), ("wait_seconds", body.wait_seconds)):
        if value is not None and value > limit:
            raise InvalidFieldError(f"body.{field}", f"at most {limit:g} seconds on this server")
    if body.wait_seconds is not None:
        return body.wait_seconds
    return body.deadline_s or min(settings.forecast_deadline_seconds, limit)


def job_spec(body: ForecastRequest) -> dict[str, Any]:
    """The forecast job's spec: the request's series and knobs, plus their size and hash, and
    the covariate kinds read from the series' shape (None without covariates)."""
    assert body.series is not None
    fields = body.model_dump(mode="json", include={"horizon", "freq", "quantiles", "save_as"})
    # Without None: series without covariates are stored (and hashed) exactly as before.
    series = [s.model_dump(mode="json", exclude_none=True) for s in body.series]
    config = body.config.model_dump(mode="json", exclude_unset=True) if body.config else None
    summary = series_summary(series)
    covariates = None
    if any(s.has_covariates for s in body.series):
        covariates = CovariateColumns(**inferred_spec(body.series).model_dump(mode="json"))
    return ForecastJobSpec(
        **fields, series=series, config=config, series_summary=summary, covariates=covariates
    ).to_json()


def series_summary(series: list[dict[str, Any]]) -> dict[str, Any]:
    """What job reads show instead of the posted series: counts and a sha256 of their JSON."""
    canonical = json.dumps(series, sort_keys=True, separators=(",", ":")).encode()
    return {
        "series": len(series),
        "points": sum(len(s.get("y", [])) for s in series),
        "sha256": hashlib.sha256(canonical).hexdigest(),
    }


def _enqueue(services: Services, spec: dict[str, Any]) -> int:
    with session_scope(services.session_factory) as session:
        return enqueue_forecast(session, services.settings, spec).id


async def _poll(services: Services, job_id: int, deadline: float) -> Job:
    """Poll the status only; the whole row (with the posted series) is read once, at the end."""
    while True:
        status = await run_in_threadpool(_read_status, services, job_id)
        if status in TERMINAL_JOB_STATUSES or time.monotonic() >= deadline:
            return await run_in_threadpool(_read_job, services, job_id)
        await anyio.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _read_status(services: Services, job_id: int) -> JobStatus:
    with services.session_factory() as session:
        return job_store.get_status(session, job_id)


def _read_job(services: Services, job_id: int) -> Job:
    with services.session_factory() as session:
        return job_store.get_job(session, job_id)


def _deadline_fallback(services: Services, body: ForecastRequest, job: Job) -> JSONResponse:
    """The baseline's answer; the job is cancelled unless its network is to be kept."""
    assert body.series is not None
    config = body.config
    quantiles = body.quantiles or (config.quantiles if config else DEFAULT_QUANTILES)
    answer = deadline_answer(
        history_frame(body.series),
        body.horizon,
        tuple(sorted(set(quantiles))),
        body.freq,
        config.fill if config else "interpolate",
    )
    if body.save_as is None:
        try:
            with session_scope(services.session_factory) as session:
                job_store.request_cancel(session, job.id)
        except Conflict:  # it finished meanwhile: its own answer is better than the baseline
            return _finished(_read_job(services, job.id))
    return FastJSONResponse({"model": None, "job_id": job.id, **answer_record(answer)})


def _finished(job: Job) -> JSONResponse:
    instance = f"/v1/jobs/{job.id}"
    if job.status == JobStatus.SUCCEEDED:
        result = job.result or {}
        return FastJSONResponse({"model": result.get("model"), "job_id": job.id, **_answer(result)})
    if job.status == JobStatus.CANCELLED:
        return problem(409, f"forecast job {job.id} was cancelled", instance=instance)
    reason = job.error or "the forecast job failed"
    return problem(
        422,
        f"forecast job {job.id} failed: {reason}",
        instance=instance,
        errors=[{"field": "body.series", "reason": reason}],
    )


def _answer(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("method", "fallback", "held_out", "forecasts")
    return {key: result.get(key) for key in keys} | {"forecasts": result.get("forecasts", [])}


def _pending(job: Job) -> JSONResponse:
    body = job_out(job).model_dump(mode="json")
    return FastJSONResponse(body, status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})
