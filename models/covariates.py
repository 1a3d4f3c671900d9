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
    labels appended. InvalidInput names the column, series and timestamp of a bad value.

    Text is handled per distinct value (``pd.factorize``), not per row, so a label repeated
    over a million rows costs one conversion."""
    existing = columns_of(session, dataset_id, lock=True)
    coded = []
    for name in names:
        raw = frame[name]
        stored = existing.get(name)
        distinct = None if _typed(raw) else Distinct.of(raw)
        kind = ColumnKind(stored.kind) if stored is not None else infer_kind(raw, distinct)
        if kind is None:  # a new column without a single value: nothing to store yet
            continue
        if kind == ColumnKind.NUMERIC:
            values = _numbers(raw, distinct, name, where)
        else:
            distinct = distinct or Distinct.of(raw)
            labels = _labels(distinct, name, where)
        if stored is None:
            stored = DatasetColumn(dataset_id=dataset_id, name=name, kind=kind, categories=[])
            session.add(stored)
            session.flush()
        if kind == ColumnKind.CATEGORICAL:
            assert distinct is not None
            values = distinct.spread(_codes(stored, labels, name))
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


@dataclass(frozen=True)
class Distinct:
    """A column as its distinct values and each row's index into them (-1: missing, which
    includes blank text)."""

    codes: npt.NDArray[np.int64]
    values: list[object]

    @classmethod
    def of(cls, raw: pd.Series) -> Distinct:
        """Factorize RAW; blank text counts as missing."""
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        values = list(uniques)
        blank = [i for i, v in enumerate(values) if isinstance(v, str) and not v.strip()]
        codes = np.asarray(codes, dtype=np.int64)
        if blank:
            codes = np.where(np.isin(codes, blank), -1, codes)
        return cls(codes, values)

    def present(self) -> list[object]:
        """The distinct values some row holds (blank text left out)."""
        used = np.zeros(len(self.values), dtype=bool)
        used[self.codes[self.codes >= 0]] = True
        return [v for v, u in zip(self.values, used, strict=True) if u]

    def spread(self, per_value: Floats) -> Floats:
        """PER_VALUE (one float per distinct value) on every row (NaN where missing)."""
        padded = np.append(np.asarray(per_value, dtype=np.float64), np.nan)
        return padded[np.where(self.codes < 0, len(per_value), self.codes)]

    def first_row(self, value_index: int) -> int:
        """The first row holding distinct value VALUE_INDEX."""
        return int(np.argmax(self.codes == value_index))


def _typed(raw: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(raw.dtype) or pd.api.types.is_numeric_dtype(raw.dtype)


def missing_mask(raw: pd.Series) -> np.ndarray:
    """Cells that hold no value: null, NaN or blank text."""
    if _typed(raw):
        return raw.isna().to_numpy()
    return Distinct.of(raw).codes < 0


def infer_kind(raw: pd.Series, distinct: Distinct | None = None) -> ColumnKind | None:
    """Numeric when every value is a number or a boolean, categorical when some are text;
    None when the column holds no value at all."""
    if _typed(raw):
        return ColumnKind.NUMERIC if raw.notna().any() else None
    present = (distinct or Distinct.of(raw)).present()
    if not present:
        return None
    numbers = _as_numbers(present)
    return ColumnKind.NUMERIC if not np.isnan(numbers).any() else ColumnKind.CATEGORICAL


def _as_numbers(values: list[object]) -> Floats:
    """Each value as a float (booleans 0/1, text parsed), NaN where it is not a number."""
    out = np.full(len(values), np.nan)
    numbers = [i for i, v in enumerate(values) if isinstance(v, bool | int | float | np.number)]
    out[numbers] = [float(values[i]) for i in numbers]  # type: ignore[arg-type]
    texts = [i for i, v in enumerate(values) if isinstance(v, str)]
    if texts:
        parsed = pd.to_numeric(pd.Series([str(values[i]).strip() for i in texts]), errors="coerce")
        out[texts] = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _numbers(raw: pd.Series, distinct: Distinct | None, name: str, where: RowNamer) -> Floats:
    if distinct is None:  # a typed column: no text possible
        values = raw.astype("float64").to_numpy(na_value=np.nan) if len(raw) else np.empty(0)
    else:
        numbers = _as_numbers(distinct.values)
        present = set(distinct.codes[distinct.codes >= 0].tolist())
        bad = [i for i in sorted(present) if np.isnan(numbers[i])]
        if bad:
            row = min(distinct.first_row(i) for i in bad)
            raise InvalidInput(
                f"column {name!r}, {where(row)}: {raw.iloc[row]!r} is not a number "
                "(the column is numeric)"
            )
        values = distinct.spread(numbers)
    infinite = np.isinf(values)
    if infinite.any():
        raise InvalidInput(f"column {name!r}, {where(int(np.argmax(infinite)))}: not finite")
    return values.astype(np.float64, copy=True)


def _labels(distinct: Distinct, name: str, where: RowNamer) -> list[str | None]:
    """Each distinct value some row holds as a label (None: no row holds it); whole numbers
    read as ``3``, not ``3.0``."""
    used = np.zeros(len(distinct.values), dtype=bool)
    used[distinct.codes[distinct.codes >= 0]] = True
    labels = [_label(v) if u else None for v, u in zip(distinct.values, used, strict=True)]
    for i, label in enumerate(labels):
        if label is not None and len(label) > MAX_LABEL_LENGTH:
            row = distinct.first_row(i)
            raise InvalidInput(f"column {name!r}, {where(row)}: labels have at most 200 characters")
    return labels


def _label(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _codes(column: DatasetColumn, labels: list[str | None], name: str) -> Floats:
    """Each label's index in the column's categories, appending the new ones (NaN: None)."""
    known = {label: code for code, label in enumerate(column.categories)}
    fresh = sorted({label for label in labels if label is not None and label not in known})
    if fresh:
        if len(known) + len(fresh) > MAX_CATEGORIES:
            raise InvalidInput(f"column {name!r}: more than {MAX_CATEGORIES} distinct labels")
        column.categories = [*column.categories, *fresh]  # a new list: the JSON column is saved
        known.update({label: len(known) + i for i, label in enumerate(fresh)})
    return np.array([np.nan if x is None else known[x] for x in labels], np.float64)


def decode(values: Floats, info: ColumnInfo) -> np.ndarray | Floats:
    """Stored floats back to the column's values: numbers, or labels (None where missing)."""
    if info.kind == ColumnKind.NUMERIC:
        return values
    labels = np.array((*info.categories, None), dtype=object)
    codes = np.where(np.isnan(values), len(info.categories), values).astype(np.int64)
    return labels[codes]
