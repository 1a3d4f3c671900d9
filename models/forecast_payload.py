"""The binary payload of a logged forecast: input history and full prediction as one ``.npz``.

Only numeric and fixed-width text arrays go in, and ``np.load(..., allow_pickle=False)`` reads
them back, so loading a payload never executes code. Frames are stored column by column, the
``unique_id`` column as runs (a name and a length per run of equal ids: one run per series in
the usual series-by-series order, and exact for any order):

- history: ``h_names``, ``h_lengths``, ``h_ds`` (datetime64[ns] as int64), ``h_y`` (float64):
  exactly the frame the network was given;
- prediction: ``p_names``, ``p_lengths``, ``p_ds``, ``p_values`` [rows, columns] float64 and
  ``p_columns`` (``mean``, ``q0.1``...);
- ``scale`` (float64 per prediction series, optional): the MASE denominator fixed at forecast time;
- covariates, when the model reads some: the history's other columns (``h_columns`` in order,
  numeric ones in ``h_num`` [rows, k] float64, labels in ``h_cat`` [rows, k] text with
  ``h_cat_missing``), and the future values given (``f_names``, ``f_lengths``, ``f_ds`` and
  the same column arrays with prefix ``f``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.errors import InvalidInput


@dataclass(frozen=True)
class ForecastPayload:
    """The logged input and answer of one forecast (frames as the core reads and writes them)."""

    history: pd.DataFrame
    prediction: pd.DataFrame
    scale: np.ndarray | None = None
    future: pd.DataFrame | None = None  # the future covariate values the network was given


def id_runs(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(name of each run of equal consecutive ids, length of each run)."""
    if len(ids) == 0:
        return ids[:0], np.empty(0, dtype=np.int64)
    starts = np.concatenate(([0], np.flatnonzero(ids[1:] != ids[:-1]) + 1))
    lengths = np.diff(np.append(starts, len(ids)))
    return ids[starts], lengths


@dataclass(frozen=True)
class Runs:
    """The ``unique_id`` and ``ds`` columns of a long frame as arrays: the name and the length of
    each run of equal consecutive ids, and every row's timestamp (datetime64[ns] as int64)."""

    names: np.ndarray
    lengths: np.ndarray
    ds: np.ndarray

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Runs:
        """The runs of FRAME's rows, in its order."""
        names, lengths = id_runs(frame["unique_id"].to_numpy())
        return cls(names, lengths, frame["ds"].to_numpy(dtype="datetime64[ns]").view(np.int64))


def encode(payload: ForecastPayload) -> bytes:
    """The payload as ``.npz`` bytes (uncompressed: writing stays cheap)."""
    history, prediction = payload.history, payload.prediction
    arrays = _history_arrays(Runs.of(history), history["y"].to_numpy(dtype=np.float64))
    arrays |= _covariate_arrays("h", history)
    if payload.future is not None:
        arrays |= _runs_arrays("f", Runs.of(payload.future))
        arrays |= _covariate_arrays("f", payload.future)
    columns = [c for c in prediction.columns if c not in ("unique_id", "ds")]
    # Column by column: selecting a sub-frame first costs more than the copy (small forecasts).
    values = np.column_stack([prediction[c].to_numpy(np.float64) for c in columns])
    arrays |= _prediction_arrays(Runs.of(prediction), columns, values, payload.scale)
    return _npz(arrays)


def encode_runs(
    history: Runs,
    y: np.ndarray,
    prediction: Runs,
    columns: list[str],
    values: np.ndarray,
    scale: np.ndarray | None = None,
) -> bytes:
    """``encode`` of a forecast without covariates given as arrays instead of frames: the
    history's runs and values ``y``, the prediction's runs and ``values`` [rows, columns]."""
    arrays = _history_arrays(history, y)
    return _npz(arrays | _prediction_arrays(prediction, columns, values, scale))


def _history_arrays(history: Runs, y: np.ndarray) -> dict[str, np.ndarray]:
    return _runs_arrays("h", history) | {"h_y": np.asarray(y, dtype=np.float64)}


def _prediction_arrays(
    prediction: Runs, columns: list[str], values: np.ndarray, scale: np.ndarray | None
) -> dict[str, np.ndarray]:
    arrays = _runs_arrays("p", prediction)
    arrays["p_columns"] = np.array(columns, dtype=str)
    arrays["p_values"] = np.asarray(values, dtype=np.float64)
    if scale is not None:
        arrays["scale"] = np.asarray(scale, dtype=np.float64)
    return arrays


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def decode(raw: bytes) -> ForecastPayload:
    """The payload stored as RAW; InvalidInput when it is not one of ours."""
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        history = _frame("h", arrays)
        history["y"] = arrays["h_y"]
        _add_covariates(history, "h", arrays)
        future = None
        if "f_names" in arrays:
            future = _frame("f", arrays)
            _add_covariates(future, "f", arrays)
        prediction = _frame("p", arrays)
        values = arrays["p_values"]
        columns = arrays["p_columns"].tolist()
    except (ValueError, OSError, EOFError, KeyError) as exc:
        raise InvalidInput("the logged payload is unreadable") from exc
    for i, column in enumerate(columns):
        prediction[column] = values[:, i]
    return ForecastPayload(history, prediction, arrays.get("scale"), future)


def _covariate_arrays(prefix: str, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The frame's covariate columns (none: no arrays, so old payloads read the same)."""
    extras = [str(c) for c in frame.columns if c not in ("unique_id", "ds", "y")]
    if not extras:
        return {}
    numeric = [c for c in extras if pd.api.types.is_numeric_dtype(frame[c].dtype)]
    labels = [c for c in extras if c not in numeric]
    text = frame[labels].astype(object)
    missing = text.isna().to_numpy(dtype=bool)
    return {
        f"{prefix}_columns": np.array(extras, dtype=str),
        f"{prefix}_num_columns": np.array(numeric, dtype=str),
        f"{prefix}_num": frame[numeric].to_numpy(dtype=np.float64).reshape(len(frame), -1),
        f"{prefix}_cat": text.where(~missing, "").to_numpy(dtype=str).reshape(len(frame), -1),
        f"{prefix}_cat_missing": missing.reshape(len(frame), -1),
    }


def _add_covariates(frame: pd.DataFrame, prefix: str, arrays: dict[str, np.ndarray]) -> None:
    if f"{prefix}_columns" not in arrays:
        return
    numeric = arrays[f"{prefix}_num_columns"].tolist()
    labels = arrays[f"{prefix}_cat"].astype(object)
    labels[arrays[f"{prefix}_cat_missing"]] = None
    label_names = [c for c in arrays[f"{prefix}_columns"].tolist() if c not in numeric]
    for name in arrays[f"{prefix}_columns"].tolist():
        if name in numeric:
            frame[name] = arrays[f"{prefix}_num"][:, numeric.index(name)]
        else:
            frame[name] = labels[:, label_names.index(name)]


def _runs_arrays(prefix: str, runs: Runs) -> dict[str, np.ndarray]:
    return {
        f"{prefix}_names": np.array([str(n) for n in runs.names], dtype=str),
        f"{prefix}_lengths": runs.lengths.astype(np.int64),
        f"{prefix}_ds": runs.ds,
    }


def _frame(prefix: str, arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    names = arrays[f"{prefix}_names"].astype(object)
    return pd.DataFrame(
        {
            "unique_id": np.repeat(names, arrays[f"{prefix}_lengths"]),
            "ds": arrays[f"{prefix}_ds"].view("datetime64[ns]"),
        }
    )
