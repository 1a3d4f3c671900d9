"""Schemas of datasets and their observations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from api.schemas.common import NO_NUL_PATTERN, TIMESTAMP_HELP, Schema, Timestamp

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
UniqueId = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]
UNIQUE_ID_HELP = "The series' identifier (1-200 characters)."


class ObservationRow(Schema):
    """One observation in long format (the pandas/Nixtla convention)."""

    unique_id: UniqueId = Field(description=UNIQUE_ID_HELP)
    ds: Timestamp = Field(description=TIMESTAMP_HELP)
    y: FiniteFloat = Field(description="The observed value (a finite number).")


class ObservationsIn(Schema):
    """A JSON ingest body: rows in long format."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rows": [
                        {"unique_id": "store-1", "ds": "2024-01-01T00:00:00Z", "y": 12.5},
                        {"unique_id": "store-1", "ds": "2024-01-01T01:00:00Z", "y": 13.1},
                    ]
                }
            ]
        }
    )

    rows: list[ObservationRow] = Field(min_length=1, description="Observations to upsert.")


class IngestOut(Schema):
    """What an ingest stored."""

    dataset: str = Field(description="The dataset written to.")
    rows: int = Field(description="Rows received.")
    series: int = Field(description="Distinct series in the request.")
    new_series: int = Field(description="Series that did not exist before.")
    written: int = Field(description="Rows inserted or changed.")


class DatasetOut(Schema):
    """A dataset and a summary of its contents."""

    name: str = Field(description="The dataset's name.")
    created_at: datetime | None = Field(default=None, description="When it was created.")
    series: int = Field(description="Number of series.")
    points: int = Field(description="Number of observations over all series.")
    first_ds: datetime | None = Field(default=None, description="Earliest timestamp.")
    last_ds: datetime | None = Field(default=None, description="Latest timestamp.")
    freq: str | None = Field(
        default=None, description="Pandas frequency of the first series (single dataset only)."
    )


class SeriesOut(Schema):
    """The observations of one series, oldest first."""

    dataset: str = Field(description="The dataset.")
    unique_id: str = Field(description=UNIQUE_ID_HELP)
    ds: list[datetime] = Field(description="Timestamps, oldest first (UTC).")
    y: list[float] = Field(description="Values, one per timestamp.")


class SeriesSummaryOut(Schema):
    """One series of a dataset: its size and time span."""

    unique_id: str = Field(description=UNIQUE_ID_HELP)
    points: int = Field(description="Stored observations.")
    first_ds: datetime | None = Field(default=None, description="The first timestamp (UTC).")
    last_ds: datetime | None = Field(default=None, description="The last timestamp (UTC).")
