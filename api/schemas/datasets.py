"""Schemas of datasets and their observations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from api.schemas.common import NO_NUL_PATTERN, TIMESTAMP_HELP, Schema, Timestamp

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
UniqueId = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]


class ObservationRow(Schema):
    """One observation in long format (the pandas/Nixtla convention)."""

    unique_id: UniqueId
    ds: Timestamp = Field(description=TIMESTAMP_HELP)
    y: FiniteFloat


class ObservationsIn(Schema):
    """A JSON ingest body: rows in long format."""

    rows: list[ObservationRow] = Field(min_length=1)


class IngestOut(Schema):
    """What an ingest stored."""

    dataset: str
    rows: int = Field(description="Rows received.")
    series: int = Field(description="Distinct series in the request.")
    new_series: int = Field(description="Series that did not exist before.")
    written: int = Field(description="Rows inserted or changed.")


class DatasetOut(Schema):
    """A dataset and a summary of its contents."""

    name: str
    created_at: datetime | None = None
    series: int
    points: int
    first_ds: datetime | None = None
    last_ds: datetime | None = None
    freq: str | None = None


class SeriesOut(Schema):
    """The observations of one series, oldest first."""

    dataset: str
    unique_id: str
    ds: list[datetime]
    y: list[float]
