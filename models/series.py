"""The series of a dataset: a searchable, paginated list with each series' size and span.

Ordered by ``unique_id``; the cursor is the last ``unique_id`` of the previous page (keyset
pagination), so a page costs one indexed range scan plus one grouped query over its own series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.datasets import get_dataset, series_stats
from models.pagination import Page, check_limit
from models.tables import Series

LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class SeriesSummary:
    """One series: its name, number of points and first/last timestamps (UTC)."""

    unique_id: str
    points: int
    first_ds: datetime | None
    last_ds: datetime | None


def list_series(
    session: Session,
    dataset: str,
    *,
    contains: str | None = None,
    limit: int = 50,
    after: str | None = None,
) -> Page[SeriesSummary]:
    """Series of DATASET whose ``unique_id`` contains CONTAINS (case-insensitive), by name."""
    check_limit(limit)
    stmt = select(Series.id, Series.unique_id).where(
        Series.dataset_id == get_dataset(session, dataset).id
    )
    if contains:
        pattern = f"%{_escape_like(contains.lower())}%"
        stmt = stmt.where(func.lower(Series.unique_id).like(pattern, escape=LIKE_ESCAPE))
    if after is not None:
        stmt = stmt.where(Series.unique_id > after)
    rows = session.execute(stmt.order_by(Series.unique_id).limit(limit + 1)).all()
    page, more = rows[:limit], len(rows) > limit
    stats = series_stats(session, [int(row[0]) for row in page])
    items = [_summary(str(uid), stats.get(int(sid))) for sid, uid in page]
    return Page(items=items, next_cursor=items[-1].unique_id if more else None)


def _summary(unique_id: str, stats: tuple[int, datetime, datetime] | None) -> SeriesSummary:
    if stats is None:
        return SeriesSummary(unique_id, 0, None, None)
    return SeriesSummary(unique_id, stats[0], stats[1], stats[2])


def _escape_like(text: str) -> str:
    for char in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(char, LIKE_ESCAPE + char)
    return text
