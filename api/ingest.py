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
from forecaster.errors import InvalidFrameError
from forecaster.frames import refuse_repeats, validate_long_frame

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
    """Typed, checked columns: ids of 1-200 characters, then the core's one validator of long
    frames (UTC-naive ISO 8601 timestamps, finite y, no duplicates), its errors worded per row."""
    frame = frame.rename(columns=lambda c: str(c).strip())
    ids = frame["unique_id"].astype(str).str.strip()
    bad_id = (ids.str.len() == 0) | (ids.str.len() > MAX_UNIQUE_ID)
    if bad_id.any():
        reason = f"row {_row(bad_id)}: 1-200 characters needed"
        raise InvalidFieldError(f"{source}.unique_id", reason)
    columns = {"unique_id": ids, "ds": frame["ds"], "y": frame["y"]}
    try:
        out = validate_long_frame(pd.DataFrame(columns), iso_only=True)
        refuse_repeats(out)
    except InvalidFrameError as exc:
        raise InvalidFieldError(f"{source}.{exc.column}", _reason(exc)) from exc
    return out


def _reason(exc: InvalidFrameError) -> str:
    """The API's wording of the core's refusal, led by the 1-based row of the body."""
    if exc.kind in ("unparseable", "missing") and exc.column == "ds":
        what = f"{exc.value!r} is not an ISO 8601 timestamp"
    elif exc.kind in ("non_numeric", "not_finite"):
        what = f"{exc.value!r} is not a finite number"
    elif exc.kind == "range":
        what = exc.reason
    else:
        what = exc.reason if exc.series is None else f"{exc.reason} for series {exc.series!r}"
    return what if exc.row is None else f"row {exc.row}: {what}"


def _row(mask: pd.Series) -> int:
    """The 1-based data row of the first True in ``mask``."""
    return int(np.flatnonzero(mask.to_numpy())[0]) + 1
