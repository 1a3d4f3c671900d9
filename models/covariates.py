"""A dataset's covariate columns: their kinds, the coding of their values, their frames.

Every column of an ingested frame beside ``unique_id, ds, y`` is a covariate. The first ingest
that gives a column a value fixes its kind: numeric (numbers, booleans as 0/1) or categorical
(text). Values are stored as float64 in ``covariate_values``: numbers as they are, labels as
their index in the column's ``categories`` (which only grows). A missing cell (null, NaN,
empty text) stores nothing, and leaves a value stored earlier as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.errors import InvalidInput
from models.tables import ColumnKind, DatasetColumn

RESERVED = ("unique_id", "ds", "y")
MAX_NAME_LENGTH = 200
MAX_LABEL_LENGTH = 200
MAX_CATEGORIES = 100_000
MAX_COLUMNS = 100

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ColumnInfo:
    """A covariate column of a dataset: its name, kind and (categorical) labels."""

    name: str
    kind: ColumnKind
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodedColumn:
    """One column of an ingest coded for storage: one float per row, NaN where missing."""

    column_id: int
    name: str
    values: Floats


def covariate_names(columns: Sequence[object]) -> list[str]:
    """The covariate columns among COLUMNS (every one but unique_id, ds, y), checked."""
    names = [str(c) for c in columns if str(c) not in RESERVED]
    if len(names) > MAX_COLUMNS:
        raise InvalidInput(f"{len(names)} covariate columns; at most {MAX_COLUMNS}")
    for name in names:
        if not 0 < len(name) <= MAX_NAME_LENGTH or "\x00" in name:
            raise InvalidInput(f"covariate column {name[:50]!r}: names need 1-200 characters")
    return names


def columns_of(
    session: Session, dataset_id: int, *, lock: bool = False
) -> dict[str, DatasetColumn]:
    """The dataset's column rows by name; LOCK them (ingests that may add categories)."""
    stmt = select(DatasetColumn).where(DatasetColumn.dataset_id == dataset_id)
    if lock:
        stmt = stmt.with_for_update()
    return {c.name: c for c in session.scalars(stmt.order_by(DatasetColumn.id))}


def column_infos(session: Session, dataset_id: int) -> list[ColumnInfo]:
    """The dataset's covariate columns in the order they were first ingested."""
    return [
        ColumnInfo(c.name, ColumnKind(c.kind), tuple(c.categories))
        for c in columns_of(session, dataset_id).values()
    ]


def code_columns(
    session: Session,
    dataset_id: int,
    frame: pd.DataFrame,
    names: Sequence[str],
    where: RowNamer,
) -> list[CodedColumn]:
    """FRAME's covariate columns NAMES coded for storage; new columns are created and new
    labels appended. InvalidInput names the column, series and timestamp of a bad value."""
    existing = columns_of(session, dataset_id, lock=True)
    coded = []
    for name in names:
        raw = frame[name]
        stored = existing.get(name)
        kind = ColumnKind(stored.kind) if stored is not None else infer_kind(raw)
        if kind is None:  # a new column without a single value: nothing to store yet
            continue
        if kind == ColumnKind.NUMERIC:
            values = _numbers(raw, name, where)
        else:
            labels = _labels(raw, name, where)
        if stored is None:
            stored = DatasetColumn(dataset_id=dataset_id, name=name, kind=kind, categories=[])
            session.add(stored)
            session.flush()
        if kind == ColumnKind.CATEGORICAL:
            values = _codes(stored, labels, name)
        coded.append(CodedColumn(int(stored.id), name, values))
    return coded


class RowNamer:
    """Names a row of an ingest in errors: its series and timestamp."""

    def __init__(self, labels: np.ndarray, codes: np.ndarray, ts_us: np.ndarray) -> None:
        self.labels, self.codes, self.ts_us = labels, codes, ts_us

    def __call__(self, row: int) -> str:
        """``series 's' at 2024-01-01T00:00:00``."""
        stamp = pd.Timestamp(int(self.ts_us[row]), unit="us").isoformat()
        return f"series {self.labels[self.codes[row]]!r} at {stamp}"


def missing_mask(raw: pd.Series) -> np.ndarray:
    """Cells that hold no value: null, NaN or blank text."""
    missing = raw.isna().to_numpy()
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        blank = raw.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
        missing = missing | blank
    return missing


def infer_kind(raw: pd.Series) -> ColumnKind | None:
    """Numeric when every value is a number or a boolean, categorical when some are text;
    None when the column holds no value at all."""
    if pd.api.types.is_bool_dtype(raw.dtype) or pd.api.types.is_numeric_dtype(raw.dtype):
        return ColumnKind.NUMERIC if raw.notna().any() else None
    present = raw[~missing_mask(raw)]
    if present.empty:
        return None
    if present.map(lambda v: isinstance(v, bool | int | float | np.number)).all():
        return ColumnKind.NUMERIC
    numbers = pd.to_numeric(present.map(_text), errors="coerce")
    return ColumnKind.NUMERIC if numbers.notna().all() else ColumnKind.CATEGORICAL


def _text(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _numbers(raw: pd.Series, name: str, where: RowNamer) -> Floats:
    missing = missing_mask(raw)
    if pd.api.types.is_bool_dtype(raw.dtype) or pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.astype("float64").to_numpy(na_value=np.nan) if len(raw) else np.empty(0)
    else:
        cleaned = raw.map(lambda v: float(v) if isinstance(v, bool) else _text(v))
        values = pd.to_numeric(cleaned.where(~missing), errors="coerce").to_numpy(np.float64)
        text = np.isnan(values) & ~missing
        if text.any():
            row = int(np.argmax(text))
            raise InvalidInput(
                f"column {name!r}, {where(row)}: {raw.iloc[row]!r} is not a number "
                "(the column is numeric)"
            )
    infinite = np.isinf(values)
    if infinite.any():
        raise InvalidInput(f"column {name!r}, {where(int(np.argmax(infinite)))}: not finite")
    values = values.astype(np.float64, copy=True)
    values[missing] = np.nan
    return values


def _labels(raw: pd.Series, name: str, where: RowNamer) -> np.ndarray:
    """Labels as text (None where missing); whole numbers read as ``3``, not ``3.0``."""
    missing = missing_mask(raw)
    labels = np.array([None if m else _label(v) for v, m in zip(raw, missing, strict=True)])
    too_long = np.array([label is not None and len(label) > MAX_LABEL_LENGTH for label in labels])
    if too_long.any():
        row = int(np.argmax(too_long))
        raise InvalidInput(f"column {name!r}, {where(row)}: labels have at most 200 characters")
    return labels


def _label(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _codes(column: DatasetColumn, labels: np.ndarray, name: str) -> Floats:
    """Each label's index in the column's categories, appending the new ones (NaN: missing)."""
    known = {label: code for code, label in enumerate(column.categories)}
    fresh = sorted({label for label in labels if label is not None and label not in known})
    if fresh:
        if len(known) + len(fresh) > MAX_CATEGORIES:
            raise InvalidInput(f"column {name!r}: more than {MAX_CATEGORIES} distinct labels")
        column.categories = [*column.categories, *fresh]  # a new list: the JSON column is saved
        known.update({label: len(known) + i for i, label in enumerate(fresh)})
    return np.array([np.nan if label is None else known[label] for label in labels], np.float64)


def decode(values: Floats, info: ColumnInfo) -> np.ndarray | Floats:
    """Stored floats back to the column's values: numbers, or labels (None where missing)."""
    if info.kind == ColumnKind.NUMERIC:
        return values
    labels = np.array((*info.categories, None), dtype=object)
    codes = np.where(np.isnan(values), len(info.categories), values).astype(np.int64)
    return labels[codes]
