"""Schemas shared by every resource: pages, problem documents, health answers, names."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
NAME_HELP = "1-200 characters: letters, digits, '.', '_' and '-', starting with a letter or digit."
ALIAS_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
ALIAS_HELP = "1-64 characters: letters, digits, '_' and '-', starting with a letter."

DatasetName = Annotated[str, Path(pattern=NAME_PATTERN, description=NAME_HELP)]
ModelName = Annotated[str, Path(pattern=NAME_PATTERN, description=NAME_HELP)]
AliasName = Annotated[str, Path(pattern=ALIAS_PATTERN, description=ALIAS_HELP)]
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="Version number (1, 2...).")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="Opaque cursor from the previous page's next_cursor."),
]


class Schema(BaseModel):
    """Base of the API schemas: unknown fields are refused, so typos are reported."""

    model_config = ConfigDict(extra="forbid")


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
