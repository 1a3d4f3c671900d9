"""Parsing of ingest bodies (JSON rows or CSV) into a validated long DataFrame.

Everything is checked before the first write: a bad body is a 422 naming the column, the row and
the reason, and nothing is stored. Every column beside ``unique_id, ds, y`` is a covariate,
passed on as it came (the store fixes each column's kind); ``y`` may be empty where the body
has covariates (future rows: the store refuses an empty ``y`` inside a series' history).
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
from models.covariates import missing_mask

COLUMNS = ("unique_id", "ds", "y")
MAX_UNIQUE_ID = 200


def parse_json_rows(body: bytes) -> pd.DataFrame:
    """A JSON ``{"rows": [...]}`` body as a long frame; pydantic errors name the row and field."""
    try:
        parsed = ObservationsIn.model_validate_json(body)
    except ValidationError as exc:
        first = validation_errors(exc.errors(include_url=False), ("body",))[0]
        raise InvalidFieldError(first["field"], first["reason"]) from exc
    columns: dict[str, list[object]] = {
        "unique_id": [row.unique_id for row in parsed.rows],
        "ds": [row.ds for row in parsed.rows],
        "y": [row.y for row in parsed.rows],
    }
    extras = dict.fromkeys(key for row in parsed.rows for key in (row.model_extra or {}))
    for name in extras:
        columns[name] = [(row.model_extra or {}).get(name) for row in parsed.rows]
    if not extras:  # without covariates every row is an observation: y is required
        empty = next((i for i, row in enumerate(parsed.rows) if row.y is None), None)
        if empty is not None:
            raise InvalidFieldError(f"body.rows.{empty}.y", "a finite number is required")
    frame = pd.DataFrame(columns)
    if not extras:
        frame["y"] = frame["y"].astype("float64")
    return validate_frame(frame, source="body.rows")


def parse_csv(body: bytes, unique_id: str | None) -> pd.DataFrame:
    """A CSV body with header ``unique_id,ds,y`` (or ``ds,y`` plus ``?unique_id=``), and any
    covariate columns after them."""
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
    if not set(expected) <= set(stripped) or any(not name for name in stripped):
        raise InvalidFieldError(
            "csv.header",
            f"expected the columns {','.join(expected)} (then any covariates); "
            f"got {','.join(stripped)}",
        )
    if len(set(stripped)) != len(stripped):
        raise InvalidFieldError("csv.header", "a column name is repeated")


def validate_frame(frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Typed, checked columns: ids of 1-200 characters, then the core's one validator of long
    frames (UTC-naive ISO 8601 timestamps, finite y, no duplicates), its errors worded per row."""
    frame = frame.rename(columns=lambda c: str(c).strip())
    ids = frame["unique_id"].astype(str).str.strip()
    bad_id = (ids.str.len() == 0) | (ids.str.len() > MAX_UNIQUE_ID)
    if bad_id.any():
        reason = f"row {_row(bad_id)}: 1-200 characters needed"
        raise InvalidFieldError(f"{source}.unique_id", reason)
    extras = [str(c) for c in frame.columns if c not in COLUMNS]
    y = frame["y"]
    empty = missing_mask(y) if extras else np.zeros(len(y), dtype=bool)
    if empty.any():  # checked as the store decides: future rows after the history, or a 422
        y = y.where(~empty, 0.0)
    columns = {"unique_id": ids, "ds": frame["ds"], "y": y}
    try:
        out = validate_long_frame(pd.DataFrame(columns), iso_only=True)
        refuse_repeats(out)
    except InvalidFrameError as exc:
        raise InvalidFieldError(f"{source}.{exc.column}", _reason(exc)) from exc
    if extras:
        out.loc[empty, "y"] = np.nan
        for name in extras:
            out[name] = frame[name].to_numpy()
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
