"""The series of a dataset: search by name and page through thousands of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.schemas.common import DatasetName, Limit, Page
from api.schemas.datasets import SeriesSummaryOut
from models import series as store

router = APIRouter(prefix="/datasets", tags=["datasets"])


@router.get("/{dataset}/series", response_model=Page[SeriesSummaryOut])
def list_series(
    dataset: DatasetName,
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Only series whose unique_id contains this text."),
    ] = None,
    limit: Limit = 50,
    cursor: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="next_cursor of the previous page."),
    ] = None,
) -> Page[SeriesSummaryOut]:
    """Series of a dataset by unique_id, with points and first/last timestamps."""
    page = store.list_series(session, dataset, contains=q, limit=limit, after=cursor)
    items = [
        SeriesSummaryOut(
            unique_id=s.unique_id, points=s.points, first_ds=s.first_ds, last_ds=s.last_ds
        )
        for s in page.items
    ]
    return Page(items=items, next_cursor=page.next_cursor)
