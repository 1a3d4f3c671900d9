"""``POST /v1/forecast``: predict with a stored model, or train on the posted series via a job.

With a model the path is read-only: one short read transaction (resolve the reference, maybe read
the dataset), then the cached model predicts every series in one call, outside any transaction.
Without a model the request is a "forecast" job in its own lane, answered within a deadline
(``api.instant``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.batching import batched_predict
from api.data_checks import check_posted_series
from api.deps import Services, ServicesDep
from api.errors import InvalidFieldError, field_of_store_errors
from api.forecast_csv import CSV_RESPONSE, csv_answer, wants_csv
from api.forecast_log import StoredModel
from api.forecasting import forecasts_json, history_frame, recent
from api.instant import forecast_without_model
from api.openapi import request_body
from api.responses import FastJSONResponse
from api.schemas.common import Problem
from api.schemas.forecast import ForecastOut, ForecastRequest
from api.schemas.jobs import JobOut
from models import datasets, registry

router = APIRouter(tags=["forecast"])


@router.post(
    "/forecast",
    response_model=ForecastOut,
    openapi_extra=request_body(ForecastRequest),
    responses={
        202: {"model": JobOut, "description": "wait_seconds ran out: poll the job at Location."},
        409: {"model": Problem, "description": "The forecast job was cancelled."},
        **CSV_RESPONSE,
    },
)
async def forecast(request: Request, services: ServicesDep) -> Response:
    """Forecast ``horizon`` steps for each series, with the model's quantiles.

    The body is parsed straight from bytes by pydantic-core (about twice as fast as decoding the
    JSON to Python objects first), which matters for requests of thousands of series.
    With ``Accept: text/csv`` the answer is one long CSV table (``unique_id, ds, mean, q...``).
    """
    raw = await request.body()
    outcome = await run_in_threadpool(_parse_and_predict, services, raw)
    if isinstance(outcome, ForecastRequest):
        outcome = await forecast_without_model(services, outcome)
    return await run_in_threadpool(csv_answer, outcome) if wants_csv(request) else outcome


def _parse_and_predict(services: Services, raw: bytes) -> JSONResponse | ForecastRequest:
    """Parse the body; with a model, answer at once (one thread hop for the whole request).

    The work runs in one of the process's compute slots (``MicroBatcher.slot``), given up while
    the request waits for its batch."""
    with services.batcher.slot():
        body = ForecastRequest.model_validate_json(raw or b"null")
        if body.model is not None:
            return forecast_with_model(services, body)
        check_posted_series(body)  # a series that can never train is a 422 now, not a failed job
        return body


def forecast_with_model(services: Services, body: ForecastRequest) -> JSONResponse:
    """Resolve the reference, gather the history, predict in one batch; then trace the answer
    (provenance fields, and the forecast queued for the log's background writer)."""
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
        model = services.model_cache.get(sha256)
        if body.series is not None:
            history = history_frame(body.series)
        else:
            assert body.dataset is not None
            history = datasets.read_observations(
                session, body.dataset, unique_ids=body.unique_ids, last=model.min_history
            )
    if history.empty:
        raise InvalidFieldError("body.dataset", "the dataset has no observations")
    given = recent(history, model.min_history)
    prediction, timing = batched_predict(
        services.batcher, sha256, model, given, body.horizon, trained_horizon
    )
    forecasts = forecasts_json(prediction, body.quantiles)
    stored = StoredModel(name, number, sha256, model.season)
    traced = services.forecast_log.record(body, stored, history, given, prediction)
    return FastJSONResponse({**traced, "forecasts": forecasts}, headers=timing.headers())
