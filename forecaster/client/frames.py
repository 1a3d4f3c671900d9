"""DataFrames on the wire: long ``unique_id, ds, y`` frames as Parquet or JSON series, in chunks.

Ingest sends Parquet (typed columns, compact) in chunks of whole rows; forecasts post JSON
series, whole series per request. Both keep each request well under the service's body limit,
so the caller never thinks about size.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = ("unique_id", "ds", "y")
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"


def long_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The ``unique_id, ds, y`` columns of ``df`` (a ValueError names any missing one)."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"the frame needs the columns unique_id, ds, y; missing {missing}")
    return df.loc[:, list(COLUMNS)].reset_index(drop=True)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A long frame as a Parquet file (unique_id as text; ds and y keep their types)."""
    frame = frame.assign(unique_id=frame["unique_id"].astype(str))
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink, compression="zstd")
    return sink.getvalue()


def row_chunks(frame: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    """Consecutive slices of at most ``rows`` rows (at least one, even for an empty frame)."""
    for start in range(0, max(len(frame), 1), rows):
        yield frame.iloc[start : start + rows]


def series_chunks(frame: pd.DataFrame, points: int) -> Iterator[pd.DataFrame]:
    """Groups of whole series with about ``points`` rows each (a longer series goes alone)."""
    ordered = frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    ids = ordered["unique_id"].astype(str).to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.array([0])
    bounds = [*starts.tolist(), len(ordered)]
    first = 0
    for i in range(1, len(bounds)):
        if bounds[i] - bounds[first] > points and i - 1 > first:
            yield ordered.iloc[bounds[first] : bounds[i - 1]]
            first = i - 1
    yield ordered.iloc[bounds[first] :]


def series_payload(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The ``series`` list of a forecast request: one entry per series, ds as ISO 8601 text."""
    ordered = frame.sort_values(["unique_id", "ds"], kind="stable")
    ids = ordered["unique_id"].astype(str).to_numpy()
    stamps = _iso(ordered["ds"]).tolist()
    values = ordered["y"].to_numpy(dtype="float64").tolist()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]).tolist() if len(ids) else []
    bounds = list(zip(starts, [*starts[1:], len(ids)], strict=True))
    return [{"unique_id": ids[a], "ds": stamps[a:b], "y": values[a:b]} for a, b in bounds]


def _iso(values: pd.Series) -> np.ndarray:
    """Timestamps as ISO 8601 text; tz-naive ones are UTC, text passes through unchanged."""
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.astype(str).to_numpy()
    utc = pd.to_datetime(values, utc=True)
    return utc.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").str.replace(".000000Z", "Z").to_numpy()
