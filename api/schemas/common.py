"""Schemas shared by every resource: pages, problem documents, health answers, names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from models.names import ALIAS_PATTERN_TEXT, NAME_PATTERN_TEXT

T = TypeVar("T")

NAME_PATTERN = NAME_PATTERN_TEXT
NAME_HELP = "1-200 characters: letters, digits, '.', '_' and '-', starting with a letter or digit."
ALIAS_PATTERN = ALIAS_PATTERN_TEXT
ALIAS_HELP = "1-64 characters: letters, digits, '_' and '-', starting with a letter."

DatasetName = Annotated[str, Path(pattern=NAME_PATTERN, description=NAME_HELP)]
ModelName = Annotated[str, Path(pattern=NAME_PATTERN, description=NAME_HELP)]
AliasName = Annotated[str, Path(pattern=ALIAS_PATTERN, description=ALIAS_HELP)]
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="Version number (1, 2...).")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=512,
        description="Opaque cursor from the previous page's next_cursor; empty: the first page.",
    ),
]

# Timestamps the service can store and forecast from (pandas' nanosecond range, whole days).
MIN_TIMESTAMP = datetime(1677, 9, 22, tzinfo=UTC)
MAX_TIMESTAMP = datetime(2262, 4, 11, tzinfo=UTC)
TIMESTAMP_HELP = "ISO 8601 timestamp (UTC if no offset), from 1677-09-22 to before 2262-04-11."
# PostgreSQL text cannot hold NUL; every request carrying one is refused (422), so say so.
NO_NUL_PATTERN = r"^[^\x00]*$"


def _in_range(value: datetime) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not MIN_TIMESTAMP <= aware < MAX_TIMESTAMP:
        raise ValueError(
            f"timestamp {value.isoformat()} is outside the supported range "
            f"{MIN_TIMESTAMP.date()} to {MAX_TIMESTAMP.date()}"
        )
    return value


# Lax on purpose: JSON has no timestamp type, so a timestamp arrives as a string.
LaxTimestamp = Annotated[
    datetime,
    Field(
        strict=False,
        json_schema_extra={
            "formatMinimum": MIN_TIMESTAMP.isoformat(),
            "formatExclusiveMaximum": MAX_TIMESTAMP.isoformat(),
        },
    ),
]
Timestamp = Annotated[LaxTimestamp, AfterValidator(_in_range)]


def timestamps_in_range(values: list[datetime]) -> list[datetime]:
    """``values`` when every one is in the supported range; else ``_in_range``'s error for the
    first one outside it. For a list of a thousand series' timestamps a Python call per value
    (``Timestamp``) is a third of the parse: all naive or all aware (the usual case), ``min``
    and ``max`` compare them in C; a mixed list is checked one by one."""
    if not values:
        return values
    try:
        low, high = min(values), max(values)
        aware = low.tzinfo is not None
        lowest = MIN_TIMESTAMP if aware else MIN_TIMESTAMP.replace(tzinfo=None)
        highest = MAX_TIMESTAMP if aware else MAX_TIMESTAMP.replace(tzinfo=None)
        if lowest <= low and high < highest:
            return values
    except TypeError:  # naive and aware timestamps mixed: one by one below
        pass
    for value in values:
        _in_range(value)
    return values


class Schema(BaseModel):
    """Base of the API schemas: unknown fields are refused, so typos are reported, and values
    are strict (no ``"12"`` for a number, no ``true`` for 1.0, no ``"yes"`` for a boolean)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Page(Schema, Generic[T]):
    """One page of a list, newest first; pass ``next_cursor`` back for the next page."""

    items: list[T] = Field(description="The items of this page.")
    next_cursor: str | None = Field(description="Cursor of the next page; null on the last page.")


class FieldError(Schema):
    """One invalid field and why."""

    field: str = Field(description="Where: body.horizon, query.limit, csv.y, parquet.ds...")
    reason: str = Field(description="Why the value is refused.")


class Problem(Schema):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str = Field(default="about:blank", description="Problem type URI (about:blank).")
    title: str = Field(description="The standard phrase of the status, e.g. Not Found.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong, in words.")
    instance: str | None = Field(default=None, description="The path of the request.")
    errors: list[FieldError] | None = Field(
        default=None, description="For invalid input: each offending field and the reason."
    )


class HealthOut(Schema):
    """A health or readiness answer."""

    status: str = Field(description='"ok", or what is not ready.')
