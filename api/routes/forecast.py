"""``POST /v1/forecast``: predict with a stored model, or train on the posted series via a job.

With a model the path is read-only: one short read transaction (resolve the reference, maybe read
the dataset), then the cached model predicts every series in one call, outside any transaction.
Without a model the request is a "forecast" job in its own lane, answered within a deadline
(``api.instant``).
"""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from api.batching import batched_predict
from api.covariate_inputs import check_future_values, future_frame, posted_frames
from api.data_checks import check_posted_series
from api.deps import Services, ServicesDep
from api.errors import InvalidFieldError, field_of_store_errors
from api.forecast_csv import CSV_RESPONSE, csv_answer, wants_csv
from api.forecast_log import StoredModel
from api.forecasting import forecasts_json, panel_forecasts_json, recent, require_horizon
from api.instant import forecast_without_model
from api.openapi import request_body
from api.posted_panel import posted_panel
from api.responses import FastJSONResponse
from api.schemas.common import Problem
from api.schemas.forecast import ForecastOut, ForecastRequest
from api.schemas.jobs import JobOut
from forecaster import Forecaster
from models import registry
from models.dataset_frames import read_frame
from models.db import read_session

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
    with read_session(services.session_factory) as session:
        with field_of_store_errors("body.model"):
            version = registry.resolve_served(session, body.model)
        model = services.model_cache.get(version.artifact_sha256)
        posted = posted_panel(body.series, model) if body.series is not None else None
        if posted is None:
            history, future = _frames(session, body, model)
    stored = StoredModel(name, version.version, version.artifact_sha256, model.season)
    if posted is not None:  # plainly valid posted series: arrays, no frame (api.posted_panel)
        require_horizon(body.horizon, min(version.horizon, model.horizon))
        forecasts, timing = services.batcher.forecast(version.artifact_sha256, model, posted.panel)
        answer = panel_forecasts_json(posted.panel, forecasts, model, body.horizon, body.quantiles)
        traced = services.forecast_log.record_posted(body, stored, posted, forecasts, model)
        return FastJSONResponse({**traced, "forecasts": answer}, headers=timing.headers())
    given = recent(history, model.min_history)
    prediction, timing = batched_predict(
        services.batcher,
        version.artifact_sha256,
        model,
        given,
        body.horizon,
        version.horizon,
        future,
    )
    answer = forecasts_json(prediction, body.quantiles)
    traced = services.forecast_log.record(body, stored, history, given, prediction, future)
    return FastJSONResponse({**traced, "forecasts": answer}, headers=timing.headers())


def _frames(
    session: Session, body: ForecastRequest, model: Forecaster
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The history and future frames of the posted series or of the dataset."""
    if body.series is not None:
        return posted_frames(body.series, model.covariates, model.freq, body.horizon)
    history, future = dataset_frames(session, body, model)
    if history.empty:
        raise InvalidFieldError("body.dataset", "the dataset has no observations")
    return history, future


def dataset_frames(
    session: Session, body: ForecastRequest, model: Forecaster
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The dataset's recent history (with the model's covariates) and the future values: the
    body's ``future`` when given, else the dataset's future rows."""
    assert body.dataset is not None
    spec = model.covariates
    with field_of_store_errors("body.dataset"):
        frame = read_frame(
            session,
            body.dataset,
            body.unique_ids,
            spec.columns,
            last=model.min_history,
            static=spec.static,
        )
    if not spec:
        if body.future:
            raise InvalidFieldError("body.future", "the model reads no covariate")
        return frame, None
    observed = frame["y"].notna()
    history = frame.loc[observed].reset_index(drop=True)
    if not spec.future:
        if body.future:
            raise InvalidFieldError("body.future", "the model reads no future-known covariate")
        return history, None
    if body.future is None:
        stored = frame.loc[~observed, ["unique_id", "ds", *spec.future]]
        return history, stored.reset_index(drop=True)
    lasts = history.groupby("unique_id")["ds"].max()
    unknown = sorted(set(body.future) - set(lasts.index))
    if unknown:
        raise InvalidFieldError("body.future", f"series {unknown[0]!r} is not forecast")
    for uid, last in lasts.items():
        given = body.future.get(str(uid), {})
        check_future_values(str(uid), given, spec, last, model.freq, body.horizon)
    values = {str(uid): body.future.get(str(uid), {}) for uid in lasts.index}
    return history, future_frame(values, lasts.to_dict(), spec.future, model.freq)
