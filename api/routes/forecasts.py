"""The forecast log: read a logged forecast, list them, and replay one exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from api.deps import ServicesDep, SessionDep
from api.errors import field_of_store_errors, problem
from api.schemas.common import NAME_PATTERN, Cursor, Limit, Page
from api.schemas.forecasts import ForecastSummary, LoggedForecastOut, LoggedModel, ReplayOut
from forecaster.records import forecast_records
from models import forecast_log as store
from models.errors import ArtifactNotFound
from models.forecast_payload import decode
from models.tables import ForecastRecord

router = APIRouter(prefix="/forecasts", tags=["forecasts"])

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ForecastId = Annotated[str, Path(pattern=UUID_PATTERN, description="The answer's forecast_id.")]


@router.get("", response_model=Page[ForecastSummary])
def list_forecasts(
    services: ServicesDep,
    session: SessionDep,
    model: Annotated[str | None, Query(pattern=NAME_PATTERN, description="Model name.")] = None,
    since: Annotated[datetime | None, Query(description="Made at or after (UTC).")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ForecastSummary]:
    """Logged forecasts, newest first (this process's queued ones are written first)."""
    services.forecast_log.flush()
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    with field_of_store_errors("query.cursor"):
        page = store.list_forecasts(session, model=model, since=since, limit=limit, cursor=cursor)
    return Page(items=[_summary(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{forecast_id}", response_model=LoggedForecastOut)
def get_forecast(
    forecast_id: ForecastId, services: ServicesDep, session: SessionDep
) -> LoggedForecastOut:
    """A logged forecast: provenance, request and the answer (every quantile)."""
    services.forecast_log.flush()
    record = store.get_forecast(session, forecast_id)
    forecasts = forecast_records(decode(record.payload).prediction)
    fields = {**_summary(record).model_dump(), "forecasts": forecasts}
    return LoggedForecastOut.model_validate(fields, strict=False)  # lax: records are JSON-ready


@router.post(
    "/{forecast_id}/replay",
    response_model=ReplayOut,
    responses={410: {"description": "The logged version's artifact is gone."}},
)
def replay(forecast_id: ForecastId, services: ServicesDep, session: SessionDep) -> JSONResponse:
    """Recompute a logged forecast from its logged input with its logged artifact."""
    services.forecast_log.flush()
    record = store.get_forecast(session, forecast_id)
    logged = decode(record.payload)
    try:
        model = services.model_cache.get(record.artifact_sha256)
    except ArtifactNotFound:
        detail = (
            f"the artifact of {record.model_name} version {record.version} "
            f"({record.artifact_sha256}) is no longer stored; this forecast cannot be replayed"
        )
        return problem(410, detail, instance=f"/v1/forecasts/{forecast_id}/replay")
    again = model.predict(logged.history, horizon=record.horizon, future=logged.future)
    identical, diff = compare(logged.prediction, again)
    fields = {
        "forecast_id": record.forecast_id,
        "model": _model(record),
        "identical": identical,
        "max_abs_diff": diff,
        "forecasts": forecast_records(again),
    }
    out = ReplayOut.model_validate(fields, strict=False)  # lax: records are JSON-ready
    return JSONResponse(out.model_dump(mode="json"))


def compare(logged: pd.DataFrame, again: pd.DataFrame) -> tuple[bool, float]:
    """(bitwise identical, largest absolute difference) of two prediction frames."""
    columns = [c for c in logged.columns if c not in ("unique_id", "ds")]
    same_grid = (
        list(again.columns) == list(logged.columns)
        and len(again) == len(logged)
        and bool((again["unique_id"].to_numpy() == logged["unique_id"].to_numpy()).all())
        and bool((again["ds"].to_numpy() == logged["ds"].to_numpy()).all())
    )
    if not same_grid:
        return False, float("inf")
    a = logged[columns].to_numpy(dtype=np.float64)
    b = again[columns].to_numpy(dtype=np.float64)
    identical = a.tobytes() == b.tobytes()
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    return identical, diff


def _model(record: ForecastRecord) -> LoggedModel:
    return LoggedModel(
        name=record.model_name, version=record.version, artifact_sha256=record.artifact_sha256
    )


def _summary(record: ForecastRecord) -> ForecastSummary:
    return ForecastSummary(
        forecast_id=record.forecast_id,
        model=_model(record),
        input_sha256=record.input_sha256,
        created_at=record.created_at,
        horizon=record.horizon,
        dataset=record.dataset,
        series=record.n_series,
        request=record.request,
    )
