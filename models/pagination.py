"""Keyset pagination, newest first, with an opaque cursor over ``(created_at, id)``."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from models.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and the cursor of the next page (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, row_id: int) -> str:
    """An opaque cursor pointing just after the row (CREATED_AT, ROW_ID)."""
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor points after; InvalidInput when it was not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, row_id = json.loads(raw)
        created_at = datetime.fromisoformat(stamp)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidInput("invalid cursor") from exc
    if created_at.tzinfo is None or not isinstance(row_id, int):
        raise InvalidInput("invalid cursor")
    return created_at, row_id


def check_limit(limit: int) -> int:
    """LIMIT, validated against 1..MAX_LIMIT."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def paginate(
    session: Session,
    stmt: Select[Any],
    created_at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[int],
    *,
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    """Run STMT (a select of one entity) newest first, one page of LIMIT rows after CURSOR
    (None or empty: the first page)."""
    check_limit(limit)
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        stmt = stmt.where(
            or_(created_at < after_at, and_(created_at == after_at, row_id < after_id))
        )
    stmt = stmt.order_by(created_at.desc(), row_id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    if len(rows) <= limit:
        return Page(items=rows, next_cursor=None)
    last = rows[limit - 1]
    token = encode_cursor(getattr(last, created_at.key), getattr(last, row_id.key))
    return Page(items=rows[:limit], next_cursor=token)
