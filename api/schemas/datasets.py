"""Schemas of datasets and their observations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from api.schemas.common import NO_NUL_PATTERN, TIMESTAMP_HELP, Schema, Timestamp

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
UniqueId = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]
UNIQUE_ID_HELP = "The series' identifier (1-200 characters)."


CovariateLabel = Annotated[str, Field(max_length=200, pattern=NO_NUL_PATTERN)]
# A covariate cell: a number (booleans count as 0/1), a category label, or null (no value).
CovariateCell = bool | FiniteFloat | CovariateLabel | None
COVARIATE_HELP = (
    "Covariates: every other key of a row is a column of the dataset, numeric (numbers, "
    "booleans) or categorical (text); null leaves the cell empty."
)


class ObservationRow(Schema):
    """One row in long format (the pandas/Nixtla convention); any further key is a covariate
    column (``"promo": 1``, ``"region": "north"``)."""

    model_config = ConfigDict(extra="allow", strict=True)
    __pydantic_extra__: dict[str, CovariateCell] = Field(init=False)

    unique_id: UniqueId = Field(description=UNIQUE_ID_HELP)
    ds: Timestamp = Field(description=TIMESTAMP_HELP)
    y: FiniteFloat | None = Field(
        default=None,
        description=(
            "The observed value (a finite number); null or left out in a future row (after "
            "the series' last observation, holding covariate values only)."
        ),
    )


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
                },
                {
                    "rows": [
                        {
                            "unique_id": "store-1",
                            "ds": "2024-01-01T00:00:00Z",
                            "y": 12.5,
                            "promo": 0,
                            "region": "north",
                        },
                        {
                            "unique_id": "store-1",
                            "ds": "2024-01-01T01:00:00Z",
                            "y": None,
                            "promo": 1,
                            "region": "north",
                        },
                    ]
                },
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
    written: int = Field(description="Observations inserted or changed.")
    future_rows: int | None = Field(
        default=None,
        description="With covariates: rows with an empty y (future values, no observation).",
    )
    covariate_values: int | None = Field(
        default=None, description="With covariates: covariate values inserted or changed."
    )


class ColumnOut(Schema):
    """A covariate column of a dataset."""

    name: str = Field(description="The column's name.")
    kind: str = Field(description="numeric or categorical.")
    categories: int = Field(default=0, description="Distinct labels of a categorical column.")


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
    columns: list[ColumnOut] = Field(
        default_factory=list,
        description="Covariate columns (every column beside unique_id, ds, y); single dataset "
        "only.",
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
