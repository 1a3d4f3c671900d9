"""Provenance of a stored-model forecast: its id, the model's digest and a hash of its input.

``input_sha256`` covers exactly what the network was given (the history after trimming to the
lookback, in its order) and the request's horizon and quantiles: the same request hashes the
same, and any changed value, timestamp or series name changes it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from models.forecast_payload import id_runs


@dataclass(frozen=True)
class Provenance:
    """What every stored-model answer carries to make it traceable."""

    forecast_id: str
    model: str
    version: int
    artifact_sha256: str
    input_sha256: str
    created_at: datetime

    def answer_fields(self) -> dict[str, Any]:
        """The provenance keys of the JSON answer."""
        return {
            "forecast_id": self.forecast_id,
            "model": {
                "name": self.model,
                "version": self.version,
                "artifact_sha256": self.artifact_sha256,
            },
            "input_sha256": self.input_sha256,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
        }


def new_provenance(
    model: str,
    version: int,
    artifact_sha256: str,
    history: pd.DataFrame,
    horizon: int,
    quantiles: Sequence[float] | None,
) -> Provenance:
    """A fresh forecast id and the input hash of HISTORY (the frame given to the network)."""
    return Provenance(
        forecast_id=str(uuid.uuid4()),
        model=model,
        version=version,
        artifact_sha256=artifact_sha256,
        input_sha256=input_sha256(history, horizon, quantiles),
        created_at=datetime.now(UTC),
    )


def input_sha256(history: pd.DataFrame, horizon: int, quantiles: Sequence[float] | None) -> str:
    """sha256 of the request (horizon, quantiles) and of the rows in their order: the series
    names as runs (name, length), then every timestamp and value."""
    names, lengths = id_runs(history["unique_id"].to_numpy())
    header = {
        "horizon": horizon,
        "quantiles": None if quantiles is None else [float(q) for q in quantiles],
        "series": [str(name) for name in names],
    }
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    digest.update(np.ascontiguousarray(lengths, dtype="<i8").tobytes())
    ds = history["ds"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    digest.update(np.ascontiguousarray(ds, dtype="<i8").tobytes())
    digest.update(np.ascontiguousarray(history["y"].to_numpy(dtype=np.float64), "<f8").tobytes())
    return digest.hexdigest()
