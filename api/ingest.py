"""Parsing of ingest bodies (JSON rows or CSV) into a validated long DataFrame.

Everything is checked before the first write: a bad body is a 422 naming the column, the row and
the reason, and nothing is stored.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pydantic import ValidationError

from api.errors import InvalidFieldError, validation_errors
from api.schemas.datasets import ObservationsIn

COLUMNS = ("unique_id", "ds", "y")
MAX_UNIQUE_ID = 200


def parse_json_rows(body: bytes) -> pd.DataFrame:
    """A JSON ``{"rows": [...]}`` body as a long frame; pydantic errors name the row and field."""
    try:
        parsed = ObservationsIn.model_validate_json(body)
    except ValidationError as exc:
        first = validation_errors(exc.errors(include_url=False), ("body",))[0]
        raise InvalidFieldError(first["field"], first["reason"]) from exc
    frame = pd.DataFrame(
        {
            "unique_id": [row.unique_id for row in parsed.rows],
            "ds": [row.ds for row in parsed.rows],
            "y": [row.y for row in parsed.rows],
        }
    )
    return validate_frame(frame, source="body.rows")


def parse_csv(body: bytes, unique_id: str | None) -> pd.DataFrame:
    """A CSV body with header ``unique_id,ds,y`` (or ``ds,y`` plus ``?unique_id=``)."""
    if not body.strip():
        raise InvalidFieldError("csv", "the CSV body is empty")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidFieldError("csv", "the CSV body is not UTF-8 text") from exc
    frame = _read_csv(text)
    _check_columns(list(frame.columns), unique_id)
    if unique_id is not None:
        if "unique_id" in frame.columns:
            raise InvalidFieldError("query.unique_id", "the CSV already has a unique_id column")
        frame.insert(0, "unique_id", unique_id)
    if frame.empty:
        raise InvalidFieldError("csv", "the CSV has a header but no rows")
    return validate_frame(frame, source="csv")


def _read_csv(text: str) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # pandas only warns when a row has more fields than the header: make it an error.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                index_col=False,
            )
    except pd.errors.ParserWarning as exc:
        raise InvalidFieldError("csv", "a row has more fields than the header") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        raise InvalidFieldError("csv", f"the body is not valid CSV: {exc}") from exc


def _check_columns(columns: Sequence[str], unique_id: str | None) -> None:
    expected = ["ds", "y"] if unique_id is not None else list(COLUMNS)
    stripped = [str(c).strip() for c in columns]
    if sorted(stripped) != sorted(expected):
        raise InvalidFieldError(
            "csv.header", f"expected the columns {','.join(expected)}; got {','.join(stripped)}"
        )


def validate_frame(frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Typed, checked columns: non-empty ids, UTC-naive timestamps, finite y, no duplicates."""
    frame = frame.rename(columns=lambda c: str(c).strip())
    ids = frame["unique_id"].astype(str).str.strip()
    bad_id = (ids.str.len() == 0) | (ids.str.len() > MAX_UNIQUE_ID)
    if bad_id.any():
        reason = f"row {_row(bad_id)}: 1-200 characters needed"
        raise InvalidFieldError(f"{source}.unique_id", reason)
    out = pd.DataFrame({"unique_id": ids, "ds": parse_timestamps(frame["ds"], source)})
    out["y"] = _numbers(frame["y"], source)
    duplicated = out.duplicated(["unique_id", "ds"])
    if duplicated.any():
        row = _row(duplicated)
        raise InvalidFieldError(
            f"{source}.ds",
            f"row {row}: duplicate timestamp {out['ds'].iloc[row - 1]} "
            f"for series {out['unique_id'].iloc[row - 1]!r}",
        )
    return out


def parse_timestamps(values: pd.Series, source: str) -> pd.Series:
    """ISO 8601 timestamps as tz-naive UTC ``datetime64``; offsets are converted to UTC."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = pd.to_datetime(values, utc=True)
    else:
        text = values.astype(str).str.strip()
        parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
        bad = parsed.isna()
        if bad.any():
            row = _row(bad)
            raise InvalidFieldError(
                f"{source}.ds", f"row {row}: {text.iloc[row - 1]!r} is not an ISO 8601 timestamp"
            )
    try:
        return parsed.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    except (pd.errors.OutOfBoundsDatetime, OverflowError) as exc:
        raise InvalidFieldError(f"{source}.ds", f"a timestamp is out of range: {exc}") from exc


def _numbers(values: pd.Series, source: str) -> pd.Series:
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.astype("float64")
    else:
        numbers = pd.to_numeric(values.astype(str).str.strip(), errors="coerce").astype("float64")
    bad = ~np.isfinite(numbers.to_numpy())
    if bad.any():
        row = _row(pd.Series(bad))
        raise InvalidFieldError(
            f"{source}.y", f"row {row}: {values.iloc[row - 1]!r} is not a finite number"
        )
    return numbers


def _row(mask: pd.Series) -> int:
    """The 1-based data row of the first True in ``mask``."""
    return int(np.flatnonzero(mask.to_numpy())[0]) + 1
