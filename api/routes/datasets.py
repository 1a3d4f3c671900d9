"""Datasets: ingest observations (JSON, CSV or Parquet), list, summarise, read a series, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.data_checks import dataset_freq
from api.deps import ServicesDep, SessionDep
from api.errors import InvalidFieldError, field_of_store_errors
from api.ingest import parse_csv, parse_json_rows
from api.openapi import request_body
from api.parquet import PARQUET_MEDIA_TYPE, parse_parquet
from api.schemas.common import Cursor, DatasetName, Limit, Page
from api.schemas.datasets import ColumnOut, DatasetOut, IngestOut, ObservationsIn, SeriesOut
from models import datasets as store
from models.dataset_frames import dataset_columns
from models.datasets import DatasetSummary

router = APIRouter(prefix="/datasets", tags=["datasets"])

_CSV_EXAMPLE = (
    "unique_id,ds,y,promo,region\n"
    "store-1,2024-01-01T00:00:00Z,12.5,0,north\n"
    "store-1,2024-01-01T01:00:00Z,,1,north\n"
)
_PARQUET_BODY = {
    "schema": {"type": "string", "format": "binary"},
    "example": "(a Parquet file with the columns unique_id, ds, y and any covariates)",
}
_INGEST_BODY = request_body(
    ObservationsIn,
    text_csv={"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
    **{PARQUET_MEDIA_TYPE: _PARQUET_BODY},
)


@router.put(
    "/{dataset}/observations",
    response_model=IngestOut,
    response_model_exclude_none=True,
    openapi_extra=_INGEST_BODY,
)
async def put_observations(
    dataset: DatasetName,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    background: BackgroundTasks,
    unique_id: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Series of a ds,y CSV.")
    ] = None,
) -> IngestOut:
    """Upsert observations in long format (``unique_id, ds, y``) from JSON rows, CSV or Parquet.

    Every other column is a covariate (numeric or categorical, fixed by its first values); a
    row with an empty ``y`` after its series' last observation holds future covariate values.
    Logged forecasts of this dataset are scored against the new actuals after the answer.
    """
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    out = await run_in_threadpool(_ingest, session, dataset, body, content_type, unique_id)
    background.add_task(services.scorer.after_ingest, dataset)
    return out


def _ingest(
    session: Session, dataset: str, body: bytes, content_type: str, unique_id: str | None
) -> IngestOut:
    frame = _parse_body(body, content_type, unique_id)
    with field_of_store_errors("body"):
        result = store.upsert_observations(session, dataset, frame)
    return IngestOut(
        dataset=dataset,
        rows=result.rows,
        series=result.series,
        new_series=result.new_series,
        written=result.written,
        future_rows=result.future_rows if len(frame.columns) > 3 else None,
        covariate_values=result.covariate_values if len(frame.columns) > 3 else None,
    )


def _parse_body(body: bytes, content_type: str, unique_id: str | None) -> pd.DataFrame:
    media = content_type.split(";")[0].strip().lower()
    if media in ("text/csv", "application/csv"):
        return parse_csv(body, unique_id)
    if media == PARQUET_MEDIA_TYPE:
        return parse_parquet(body, unique_id)
    if media in ("application/json", "") or media.endswith("+json"):
        if unique_id is not None:
            raise InvalidFieldError("query.unique_id", "unique_id applies to a ds,y CSV body only")
        return parse_json_rows(body)
    reason = f"use application/json, text/csv or {PARQUET_MEDIA_TYPE}, not {media!r}"
    raise InvalidFieldError("header.content-type", reason)


@router.get("", response_model=Page[DatasetOut])
def list_datasets(
    session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[DatasetOut]:
    """Datasets with their sizes, newest first."""
    with field_of_store_errors("query.cursor"):
        page = store.list_datasets(session, limit=limit, cursor=cursor)
    summaries = store.summarize_datasets(session, page.items)
    items = [_dataset_out(session, summary, with_freq=False) for summary in summaries]
    return Page(items=items, next_cursor=page.next_cursor)


@router.get("/{dataset}", response_model=DatasetOut)
def get_dataset(dataset: DatasetName, session: SessionDep) -> DatasetOut:
    """Series count, points, first and last timestamps and frequency of a dataset."""
    return _dataset_out(session, store.get_dataset_summary(session, dataset), with_freq=True)


@router.get("/{dataset}/series/{unique_id}", response_model=SeriesOut)
def get_series(
    dataset: DatasetName,
    unique_id: Annotated[str, Path(min_length=1, max_length=200)],
    session: SessionDep,
    start: Annotated[datetime | None, Query(description="First timestamp (inclusive).")] = None,
    end: Annotated[datetime | None, Query(description="Last timestamp (inclusive).")] = None,
) -> SeriesOut:
    """The observations of one series, optionally between ``start`` and ``end``."""
    with field_of_store_errors("query"):
        frame = store.read_observations(
            session, dataset, unique_ids=[unique_id], start=start, end=end
        )
    stamps = frame["ds"].dt.tz_localize("UTC").dt.to_pydatetime().tolist()
    values = frame["y"].to_numpy(dtype="float64").tolist()
    return SeriesOut(dataset=dataset, unique_id=unique_id, ds=stamps, y=values)


@router.delete("/{dataset}", status_code=204, response_class=Response)
def delete_dataset(
    dataset: DatasetName,
    session: SessionDep,
    force: Annotated[
        bool, Query(description="Delete even while schedules or aliases depend on it.")
    ] = False,
) -> Response:
    """Delete a dataset with all its series and observations; 409 naming the schedules and
    aliases that depend on it, unless ``force=true``."""
    store.delete_dataset(session, dataset, force=force)
    return Response(status_code=204)


def _dataset_out(session: Session, summary: DatasetSummary, *, with_freq: bool) -> DatasetOut:
    return DatasetOut(
        name=summary.name,
        created_at=summary.created_at,
        series=summary.series,
        points=summary.observations,
        first_ds=summary.first_ds,
        last_ds=summary.last_ds,
        freq=dataset_freq(session, summary.name) if with_freq and summary.series else None,
        columns=[
            ColumnOut(name=c.name, kind=str(c.kind), categories=len(c.categories))
            for c in (dataset_columns(session, summary.name) if with_freq else [])
        ],
    )
