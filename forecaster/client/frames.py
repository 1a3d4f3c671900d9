"""DataFrames on the wire: long ``unique_id, ds, y`` frames as Parquet or JSON series, in chunks.

Ingest sends Parquet (typed columns, compact) in chunks of whole rows; forecasts post JSON
series, whole series per request. Both keep each request well under the service's body limit,
so the caller never thinks about size. Every other column of a frame is a covariate, as in a
dataset: rows with an empty ``y`` after a series' last observation hold future values.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = ("unique_id", "ds", "y")
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"


def long_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``unique_id, ds, y`` and any covariate columns of ``df``, sorted by series and time so
    that future rows follow their history (a ValueError names any missing key column)."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"the frame needs the columns unique_id, ds, y; missing {missing}")
    extras = [c for c in df.columns if c not in COLUMNS]
    frame = df.loc[:, [*COLUMNS, *extras]].reset_index(drop=True)
    if not extras:
        return frame
    order = frame["unique_id"].astype(str).to_numpy()
    return frame.iloc[np.lexsort((frame["ds"].to_numpy(), order))].reset_index(drop=True)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A long frame as a Parquet file (unique_id and categorical columns as text; ds, y and
    numeric covariates keep their types)."""
    frame = frame.assign(unique_id=frame["unique_id"].astype(str))
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(str).where(frame[name].notna(), None)
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


def series_payload(
    frame: pd.DataFrame, static: Sequence[str] = (), future: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """The ``series`` list of a forecast request: one entry per series, ds as ISO 8601 text.

    Covariate columns go with each series: STATIC ones as one value, the others as
    ``covariates`` (one value per observed ds); future values come from FUTURE (``unique_id,
    ds`` and columns, oldest first) or else from the rows with an empty ``y``.
    """
    extras = [c for c in frame.columns if c not in COLUMNS]
    observed = frame if not extras else frame[frame["y"].notna()]
    ordered = observed.sort_values(["unique_id", "ds"], kind="stable")
    ids = ordered["unique_id"].astype(str).to_numpy()
    stamps = _iso(ordered["ds"]).tolist()
    values = ordered["y"].to_numpy(dtype="float64").tolist()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]).tolist() if len(ids) else []
    bounds = list(zip(starts, [*starts[1:], len(ids)], strict=True))
    payload = [{"unique_id": ids[a], "ds": stamps[a:b], "y": values[a:b]} for a, b in bounds]
    if not extras and future is None:
        return payload
    ahead = future if future is not None else frame[frame["y"].isna()].drop(columns="y")
    ahead_by_id = dict(iter(ahead.sort_values(["unique_id", "ds"]).groupby("unique_id")))
    for entry, (a, b) in zip(payload, bounds, strict=True):
        rows = ordered.iloc[a:b]
        dynamic = {c: _cells(rows[c]) for c in extras if c not in static}
        entry["covariates"] = dynamic
        entry["static"] = {c: _cells(rows[c].iloc[:1])[0] for c in static}
        mine = ahead_by_id.get(entry["unique_id"])
        if mine is not None:
            columns = [c for c in mine.columns if c not in (*COLUMNS, *static)]
            entry["future"] = {c: _cells(mine[c]) for c in columns if mine[c].notna().any()}
    return payload


def future_payload(future: pd.DataFrame) -> dict[str, dict[str, list[Any]]]:
    """A dataset forecast's ``future``: unique_id -> column -> values, oldest first."""
    ordered = future.sort_values(["unique_id", "ds"], kind="stable")
    columns = [c for c in ordered.columns if c not in COLUMNS]
    return {
        str(uid): {c: _cells(rows[c]) for c in columns}
        for uid, rows in ordered.groupby("unique_id", sort=False)
    }


def _cells(values: pd.Series) -> list[Any]:
    """JSON values: numbers as floats, labels as text, missing as null."""
    out: list[Any] = []
    for value in values.tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
        elif isinstance(value, bool | np.bool_):
            out.append(bool(value))
        elif isinstance(value, int | float | np.number):
            out.append(float(value))
        else:
            out.append(str(value))
    return out


def _iso(values: pd.Series) -> np.ndarray:
    """Timestamps as ISO 8601 text; tz-naive ones are UTC, text passes through unchanged."""
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.astype(str).to_numpy()
    utc = pd.to_datetime(values, utc=True)
    return utc.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").str.replace(".000000Z", "Z").to_numpy()
