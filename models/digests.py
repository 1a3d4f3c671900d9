"""sha256 digests of long frames: what a forecast's ``input_sha256`` and a version's data hash
cover. Every row counts, in order: the series names as runs (name, length), every timestamp
and value, and every covariate column (its name, then its values: numbers as float64, labels
as JSON text), so changing a single covariate value changes the digest. A frame of only
``unique_id, ds, y`` hashes exactly as it did before covariates existed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from models.forecast_payload import Runs

KEYS = ("unique_id", "ds", "y")


def frame_digest(frame: pd.DataFrame, header: dict[str, Any]) -> hashlib._Hash:
    """A running sha256 over HEADER (JSON) and FRAME's rows (see the module); the caller may
    add more (another frame) before taking ``hexdigest()``."""
    extras = [str(c) for c in frame.columns if c not in KEYS]
    y = frame["y"].to_numpy(dtype=np.float64) if "y" in frame.columns else None
    digest = runs_digest(Runs.of(frame), y, header, extras)
    for name in extras:
        update_column(digest, frame[name])
    return digest


def runs_digest(
    runs: Runs, y: np.ndarray | None, header: dict[str, Any], covariates: Sequence[str] = ()
) -> hashlib._Hash:
    """``frame_digest`` of a frame given as its runs and values ``y``, up to its covariate
    columns (named in the header; the caller feeds their values with ``update_column``)."""
    header = {**header, "series": [str(name) for name in runs.names]}
    if covariates:
        header["covariates"] = list(covariates)
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    digest.update(np.ascontiguousarray(runs.lengths, dtype="<i8").tobytes())
    digest.update(np.ascontiguousarray(runs.ds, dtype="<i8").tobytes())
    if y is not None:
        digest.update(np.ascontiguousarray(y, "<f8").tobytes())
    return digest


def update_column(digest: hashlib._Hash, column: pd.Series) -> None:
    """Feed one covariate column's values to DIGEST (numbers as float64, else JSON text)."""
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        digest.update(np.ascontiguousarray(values, "<f8").tobytes())
        return
    labels = [None if pd.isna(v) else str(v) for v in column.tolist()]
    digest.update(json.dumps(labels).encode())


def data_sha256(frame: pd.DataFrame) -> str:
    """The digest of a training frame (its rows, covariates and future rows included)."""
    return frame_digest(frame, {}).hexdigest()
