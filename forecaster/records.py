"""A prediction frame as per-series records: the JSON-ready shape services answer with.

Built column-wise with numpy (``tolist`` on 2-D blocks, ``datetime_as_string`` for timestamps),
never row by row: for large requests, turning the forecast into JSON is most of the cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

Record = dict[str, Any]


def quantile_keys(prediction: pd.DataFrame) -> dict[str, str]:
    """Every quantile of a prediction frame: record key ("0.1") -> frame column ("q0.1")."""
    return {col[1:]: col for col in prediction.columns if col.startswith("q")}


def forecast_records(
    prediction: pd.DataFrame, columns: Mapping[str, str] | None = None
) -> list[Record]:
    """One record per series: ``unique_id``, ``ds`` (ISO 8601, UTC, ``Z``), ``mean``, ``quantiles``.

    ``columns`` chooses the quantiles (record key -> frame column); all of them by default.
    Series come in ``unique_id`` order.
    """
    chosen = dict(quantile_keys(prediction) if columns is None else columns)
    frame = prediction
    if not frame["unique_id"].is_monotonic_increasing:
        frame = frame.sort_values(["unique_id", "ds"], kind="stable")
    ids, starts, counts = np.unique(
        frame["unique_id"].to_numpy(), return_index=True, return_counts=True
    )
    if len(ids) == 0:
        return []
    if not np.all(counts == counts[0]):
        return [_record(str(uid), group, chosen) for uid, group in frame.groupby("unique_id")]
    order = np.argsort(starts)  # keep the order of the sorted frame
    shape = (len(ids), int(counts[0]))  # [series, steps]

    def block(values: np.ndarray) -> np.ndarray:
        return values.reshape(shape)[order]

    return block_records(
        ids[order].tolist(),
        block(frame["ds"].to_numpy(dtype="datetime64[ns]")),
        block(frame["mean"].to_numpy(dtype="float64")),
        {k: block(frame[c].to_numpy(dtype="float64")) for k, c in chosen.items()},
    )


def block_records(
    names: list[Any], ds: np.ndarray, mean: np.ndarray, quantiles: Mapping[str, np.ndarray]
) -> list[Record]:
    """``forecast_records`` of series given as blocks [series, steps]: timestamps (UTC-naive
    datetime64), the mean and each quantile (record key -> block), one record per name."""
    stamps = _iso_utc(ds.reshape(-1)).reshape(ds.shape).tolist()
    means = np.asarray(mean, dtype="float64").tolist()
    levels = {key: np.asarray(rows, dtype="float64").tolist() for key, rows in quantiles.items()}
    return [
        {
            "unique_id": name,
            "ds": stamps[i],
            "mean": means[i],
            "quantiles": {key: rows[i] for key, rows in levels.items()},
        }
        for i, name in enumerate(names)
    ]


def _record(unique_id: str, group: pd.DataFrame, columns: Mapping[str, str]) -> Record:
    return {
        "unique_id": unique_id,
        "ds": _iso_utc(group["ds"].to_numpy(dtype="datetime64[ns]")).tolist(),
        "mean": group["mean"].to_numpy(dtype="float64").tolist(),
        "quantiles": {k: group[c].to_numpy(dtype="float64").tolist() for k, c in columns.items()},
    }


def _iso_utc(stamps: np.ndarray) -> np.ndarray:
    """UTC-naive datetimes as ISO 8601 strings with ``Z`` (vectorised).

    Series of one request mostly share their future timestamps, so each distinct one is
    formatted once (a thousand series x 48 steps: 48 strings instead of 48,000).
    """
    seconds = stamps.astype("datetime64[s]")
    distinct, where = np.unique(seconds, return_inverse=True)
    return np.datetime_as_string(distinct, unit="s", timezone="UTC")[where.reshape(-1)]


def records_frame(records: list[Record]) -> pd.DataFrame:
    """The inverse of ``forecast_records``: the long frame ``unique_id, ds, mean, q<key>...``.

    ``ds`` comes back UTC-naive (as ``Forecaster.predict`` returns it); quantile columns are
    named as the library names them (``"0.1"`` -> ``q0.1``), in increasing order.
    """
    keys = sorted({key for record in records for key in record.get("quantiles", {})}, key=float)
    lengths = [len(record["ds"]) for record in records]
    ids = np.repeat(np.array([str(r["unique_id"]) for r in records], dtype=object), lengths)
    stamps = [stamp for record in records for stamp in record["ds"]]
    columns: dict[str, Any] = {
        "unique_id": ids,
        "ds": pd.to_datetime(pd.Series(stamps, dtype=object), utc=True, format="ISO8601")
        .dt.tz_localize(None)
        .astype("datetime64[ns]")
        .to_numpy(),
        "mean": _flat(record["mean"] for record in records),
    }
    for key in keys:
        columns[f"q{key}"] = _flat(record["quantiles"][key] for record in records)
    return pd.DataFrame(columns)


def _flat(lists: Iterable[list[float | None]]) -> np.ndarray:
    """One float column from per-record lists; JSON nulls (NaN on the server) become NaN."""
    return np.asarray([np.nan if v is None else v for values in lists for v in values], "float64")
