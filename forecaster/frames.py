"""The one validator of long ``unique_id, ds, y`` frames: every layer checks content here.

``validate_long_frame`` refuses missing columns, no rows, missing ids, unparseable or missing
timestamps, timestamps outside pandas' nanosecond range, non-numeric and NaN/infinite values.
Then one of two per-series checks completes it (every caller runs one): ``refuse_repeats``
refuses a repeated (unique_id, ds) in input order, ``sort_without_repeats`` does so while
sorting by (unique_id, ds); both refuse NUL in ids, checked on the distinct names (cheap).
Errors are ``InvalidFrameError``: the series, the column, the 1-based input row and the kind of
problem, so each caller (the API) can word them for its users.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from forecaster import heap
from forecaster.errors import InvalidFrameError

REQUIRED_COLUMNS = ("unique_id", "ds", "y")
NAT = np.iinfo(np.int64).min  # NaT among datetime64 stamps viewed as int64


def validate_long_frame(
    df: pd.DataFrame, *, iso_only: bool = False, own_unit: bool = False
) -> pd.DataFrame:
    """DF's columns typed (str ids, tz-naive UTC ``datetime64[ns]`` ds, float64 y), in input
    order with a fresh index; InvalidFrameError names the first bad row.

    Text timestamps are ISO 8601 (offsets converted to UTC); unless ISO_ONLY, other formats
    pandas can read are accepted too. With OWN_UNIT a datetime ``ds`` keeps its unit (``s``
    to ``ns``) and is not copied, every stamp still within the nanosecond range: pandas 3
    makes microseconds, and their copy in nanoseconds was 80 MB at 10M rows (bench/scale.py,
    "Memory at scale"); whoever reads the stamps then reads their unit.
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidFrameError("expected a pandas DataFrame")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InvalidFrameError(f"missing column(s) {missing}; expected unique_id, ds, y")
    if len(df) == 0:
        raise InvalidFrameError("no rows: the data is empty")
    if not df.index.equals(pd.RangeIndex(len(df))):  # rows are named by position: 0..n-1
        df = df[list(REQUIRED_COLUMNS)].reset_index(drop=True)
    ids = _ids(df["unique_id"])
    frame = pd.DataFrame({"unique_id": ids}, copy=False)
    frame["ds"] = _parse_ds(df["ds"], ids, iso_only, own_unit)
    frame["y"] = _parse_y(df["y"], ids)
    return frame


def validate_with_future(
    df: pd.DataFrame, *, iso_only: bool = False
) -> tuple[pd.DataFrame, np.ndarray]:
    """``validate_long_frame`` for frames that may hold *future rows*: rows whose ``y`` is
    missing after their series' last observed ``y`` (they carry future covariate values). Their
    ``y`` stays NaN and the mask of them is returned with the frame; a missing ``y`` anywhere
    else is refused as before."""
    y = df["y"] if "y" in df.columns else None
    if y is None or not y.isna().to_numpy().any():  # the usual case: one pass, as before
        return validate_long_frame(df, iso_only=iso_only), np.zeros(len(df), dtype=bool)
    missing = y.isna().to_numpy()
    keys = validate_long_frame(df.assign(y=0.0), iso_only=iso_only)
    observed = keys["ds"].where(~missing)
    last = observed.groupby(keys["unique_id"].to_numpy(), sort=False).transform("max")
    future = missing & (keys["ds"] > last).to_numpy()  # NaT (never observed): not future
    keys["y"] = _parse_y(y.reset_index(drop=True).where(~future, 0.0), keys["unique_id"])
    keys.loc[future, "y"] = np.nan
    return keys, future


# Each row's series as an integer, numbered in the order the names sort, and the names.
SeriesCodes = tuple[npt.NDArray[np.signedinteger[Any]], npt.NDArray[np.object_]]
NEIGHBOUR_BLOCK = 1 << 20  # rows compared with their predecessors at a time (memory at scale)


def sort_without_repeats(frame: pd.DataFrame) -> pd.DataFrame:
    """FRAME (as ``validate_long_frame`` returns it) sorted by (unique_id, ds) (reordered rows
    have the ids as a Categorical); a timestamp repeated within a series, or a NUL in an id,
    is an InvalidFrameError naming its input row."""
    return sort_series(frame)[0]


def sort_series(frame: pd.DataFrame) -> tuple[pd.DataFrame, SeriesCodes]:
    """``sort_without_repeats``, with the sorted rows' series codes (``series_codes``), so a
    caller that needs them does not factorize the ids again."""
    codes, names = series_codes(frame["unique_id"])
    stamps = frame["ds"].to_numpy().view(np.int64)  # in the column's own unit
    ordered = frame
    if not _ordered_without_repeats(codes, stamps):  # the usual case skips the sort
        order = _sort_order(codes, stamps)
        # One column at a time, each unsorted copy dropped before the next is taken.
        codes = _take(codes, order)
        stamps = _take(stamps, order)
        # Sorted, a repeat sits next to its twin: a comparison of neighbours, no hash table.
        repeats = _repeats(codes, stamps)
        if len(repeats):
            raise _repeat(frame, int(order[repeats].min()))  # the earliest in input order
        rest = {c: _take_column(frame[c], order) for c in frame.columns if c not in _KEYS}
        del order
        ordered = _sorted_rows(frame, rest, (codes, names), stamps)
    _refuse_nul(frame, names)
    return ordered, (codes, names)


_KEYS = ("unique_id", "ds")


def _sort_order(
    codes: npt.NDArray[np.signedinteger[Any]], stamps: npt.NDArray[np.int64]
) -> npt.NDArray[np.signedinteger[Any]]:
    """The rows in (series, ds) order, a repeat after its earlier twin (a stable sort); int32
    where the rows allow it, half the memory of 10M int64 positions."""
    order = np.lexsort((stamps, codes))
    return order.astype(np.int32) if len(order) <= np.iinfo(np.int32).max else order


def _take(values: np.ndarray, order: npt.NDArray[np.signedinteger[Any]]) -> np.ndarray:
    """``values[order]``, NEIGHBOUR_BLOCK rows at a time: numpy widens an int32 ``order`` to
    intp before it gathers, which at once would be an 80 MB copy of 10M positions."""
    out = np.empty(len(order), dtype=values.dtype)
    for start in range(0, len(order), NEIGHBOUR_BLOCK):
        part = slice(start, start + NEIGHBOUR_BLOCK)
        np.take(values, order[part], out=out[part])
    return out


def _take_column(
    column: pd.Series, order: npt.NDArray[np.signedinteger[Any]]
) -> np.ndarray | pd.Series:
    """COLUMN's values in ORDER (numpy's in blocks, ``_take``; others by pandas)."""
    if isinstance(column.dtype, np.dtype):
        return _take(column.to_numpy(), order)
    return column.take(order).reset_index(drop=True)


def _sorted_rows(
    frame: pd.DataFrame,
    rest: dict[str, np.ndarray | pd.Series],
    series: SeriesCodes,
    stamps: np.ndarray,
) -> pd.DataFrame:
    """FRAME's rows sorted, given the sorted rows' SERIES and STAMPS and the REST of the
    columns: the ids come back as a Categorical of the codes and ds from the stamps, neither
    taken again. Arrow's take of 10M ids was a 210 MB copy that its allocator kept after the
    fit (bench/scale.py --shuffled)."""
    codes, names = series
    given = {
        "unique_id": pd.Categorical.from_codes(codes, categories=names),
        "ds": stamps.view(frame["ds"].dtype),
    }
    columns = {name: given[name] if name in given else rest[name] for name in frame.columns}
    return pd.DataFrame(columns, copy=False)


def series_codes(ids: pd.Series) -> SeriesCodes:
    """Each row's series as an integer, numbered in the order the names sort, and the names.

    Rows are compared and sorted by these codes, never as Python strings: an Arrow-backed
    string column (pandas' default) turned into 10M Python objects takes about 800 MB, the
    codes 80 MB (bench/scale.py, "Memory at scale"). Such a column is encoded by Arrow itself
    (int16 codes below 32,768 names, else int32): pandas' factorize of 10M ids peaked 256 MB
    above the frame and kept 178 MB (int64 codes and Arrow's temporaries), Arrow's encoding
    95 MB.
    """
    if getattr(ids.dtype, "storage", None) == "pyarrow":
        return _arrow_codes(pa.array(ids))  # the column's own buffers: no copy
    codes, names = pd.factorize(ids, sort=True)
    return codes.astype(np.int64, copy=False), np.asarray(names, dtype=object)


def _arrow_codes(ids: pa.Array | pa.ChunkedArray) -> SeriesCodes:
    """``series_codes`` of Arrow strings; names sort by their UTF-8 bytes, which is the code
    point order pandas sorts Python strings in."""
    encoded = pc.dictionary_encode(ids)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()  # one dictionary for every chunk
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    # int16 codes where the names allow it: 20 MB at 10M rows, kept while the rows sort.
    small = len(order) <= np.iinfo(np.int16).max
    rank = np.empty(len(order), dtype=np.int16 if small else np.int32)
    rank[order] = np.arange(len(order), dtype=rank.dtype)
    codes = rank[encoded.indices.to_numpy()]
    names = np.asarray(encoded.dictionary.take(order).to_pylist(), dtype=object)
    del encoded
    if len(codes) > NEIGHBOUR_BLOCK:  # a trim takes the allocators' locks: large frames only
        heap.release()  # the encoding's buffers, kept by Arrow's pool: 80 MB at 10M rows
    return codes, names


def neighbour_blocks(rows: int) -> Iterator[tuple[slice, slice]]:
    """Rows 1..ROWS-1 and their predecessors, NEIGHBOUR_BLOCK rows at a time: comparisons of
    neighbours over 10M rows without full-length temporaries (a ``np.diff`` of int64 stamps
    is 80 MB)."""
    for start in range(1, rows, NEIGHBOUR_BLOCK):
        stop = min(start + NEIGHBOUR_BLOCK, rows)
        yield slice(start - 1, stop - 1), slice(start, stop)


def refuse_repeats(frame: pd.DataFrame) -> None:
    """InvalidFrameError naming the first input row of FRAME (as ``validate_long_frame``
    returns it) that repeats an earlier (unique_id, ds) or has a NUL in its id; the order is
    left as it is."""
    codes, names = pd.factorize(frame["unique_id"])
    _refuse_nul(frame, names)
    keys = pd.DataFrame({"code": codes, "ds": frame["ds"].to_numpy()})
    repeated = keys.duplicated().to_numpy()
    if repeated.any():
        raise _repeat(frame, int(np.argmax(repeated)))


def _ordered_without_repeats(
    codes: npt.NDArray[np.signedinteger[Any]], stamps: npt.NDArray[np.int64]
) -> bool:
    """True when rows are sorted by (series, ds) and no series repeats a timestamp."""
    for before, row in neighbour_blocks(len(codes)):
        if not np.all(codes[row] >= codes[before]):
            return False
        if not np.all((stamps[row] > stamps[before]) | (codes[row] != codes[before])):
            return False
    return True


def _repeats(
    codes: npt.NDArray[np.signedinteger[Any]], stamps: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp]:
    """The rows of sorted CODES and STAMPS that repeat the row before them."""
    found = [
        row.start + np.flatnonzero((stamps[row] == stamps[before]) & (codes[row] == codes[before]))
        for before, row in neighbour_blocks(len(codes))
    ]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.intp)


def _refuse_nul(frame: pd.DataFrame, names: Iterable[str]) -> None:
    """PostgreSQL text cannot hold NUL: checked on the distinct NAMES, not on every row."""
    if any("\x00" in name for name in names):
        row = int(np.argmax(frame["unique_id"].str.contains("\x00", regex=False).to_numpy()))
        value = frame["unique_id"].iloc[row]
        raise InvalidFrameError(
            "NUL characters are not allowed", None, "unique_id", row + 1, "nul", value
        )


def _repeat(frame: pd.DataFrame, row: int) -> InvalidFrameError:
    return _at(
        frame["unique_id"], row, "ds", "duplicate", f"duplicate timestamp {frame['ds'].iloc[row]}"
    )


def _ids(ids: pd.Series) -> pd.Series:
    missing = ids.isna().to_numpy()
    if missing.any():
        row = int(np.argmax(missing))
        raise InvalidFrameError(
            "unique_id has missing values", None, "unique_id", row + 1, "missing"
        )
    if not (ids.dtype == object and pd.api.types.infer_dtype(ids, skipna=False) == "string"):
        ids = ids.astype(str)  # already strings: no copy (memory at scale)
    return ids


def _parse_ds(ds: pd.Series, ids: pd.Series, iso_only: bool, own_unit: bool) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(ds):  # the usual case: no copy of naive stamps
        naive = ds if getattr(ds.dt, "tz", None) is None else ds.dt.tz_convert(None)
        parsed = _in_ns_range(naive) if own_unit else _to_naive_ns(naive)
    else:
        text = ds.astype(str).str.strip() if iso_only else ds
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
        if parsed.isna().any() and not iso_only:
            parsed = pd.to_datetime(ds, errors="coerce", utc=True, format="mixed")
        parsed = _to_naive_ns(parsed.dt.tz_localize(None))
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        value = ds.iloc[row]
        kind = "missing" if pd.isna(value) else "unparseable"
        raise _at(
            ids,
            row,
            "ds",
            kind,
            f"unparseable timestamp {value!r}",
            value,
        )
    return parsed


def _in_ns_range(ds: pd.Series) -> pd.Series:
    """Tz-naive DS as it is, once its earliest and latest stamps (NaT aside) are known to fit
    ``datetime64[ns]`` (else refused as ``_to_naive_ns`` refuses them)."""
    if ds.dtype == "datetime64[ns]":
        return ds
    stamps = ds.to_numpy().view(np.int64)
    present = stamps != NAT
    if present.any():
        low = stamps.min(where=present, initial=np.iinfo(np.int64).max)
        high = stamps.max(where=present, initial=NAT)
        _to_naive_ns(pd.Series(np.array([low, high]).view(ds.dtype)))
    return ds


def _to_naive_ns(ds: pd.Series) -> pd.Series:
    """Tz-naive stamps as ``datetime64[ns]``; outside its range (1677-2262) is refused."""
    try:
        return ds.astype("datetime64[ns]")
    except (pd.errors.OutOfBoundsDatetime, OverflowError) as exc:
        reason = f"a timestamp is out of range (1677-09-22 to 2262-04-11): {exc}"
        raise InvalidFrameError(reason, None, "ds", None, "range") from exc


def _parse_y(y: pd.Series, ids: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(y.dtype):  # the usual case: nothing can be text
        numeric = y if y.dtype == np.float64 else y.astype("float64")  # float64: no copy
    else:
        numeric = pd.to_numeric(y, errors="coerce").astype("float64")
        text = (numeric.isna() & y.notna()).to_numpy()
        if text.any():
            row = int(np.argmax(text))
            value = y.iloc[row]
            raise _at(
                ids,
                row,
                "y",
                "non_numeric",
                f"non-numeric value {value!r}",
                value,
            )
    bad = ~np.isfinite(numeric.to_numpy())
    if bad.any():
        row = int(np.argmax(bad))
        value = y.iloc[row]
        raise _at(
            ids,
            row,
            "y",
            "not_finite",
            "contains NaN or infinite values",
            value,
        )
    return numeric


def _at(
    ids: pd.Series, row: int, column: str, kind: str, reason: str, value: object = None
) -> InvalidFrameError:
    """The error for 0-based ROW (its series, from IDS, named)."""
    series = str(ids.iloc[row])
    return InvalidFrameError(reason, series, column, row + 1, kind, value)
