"""Provenance of a stored-model forecast: its id, the model's digest and a hash of its input.

``input_sha256`` covers exactly what the network was given (the history after trimming to the
lookback, in its order, with its covariate columns, and the future values of the horizon) and
the request's horizon and quantiles: the same request hashes the same, and any changed value,
covariate, timestamp or series name changes it (``models.digests``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from models.digests import frame_digest, runs_digest
from models.forecast_payload import Runs


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


def new_provenance(model: str, version: int, artifact_sha256: str, input_sha256: str) -> Provenance:
    """A fresh forecast id for an answer of the version, whose input hashed as INPUT_SHA256."""
    return Provenance(
        forecast_id=str(uuid.uuid4()),
        model=model,
        version=version,
        artifact_sha256=artifact_sha256,
        input_sha256=input_sha256,
        created_at=datetime.now(UTC),
    )


def input_sha256(
    history: pd.DataFrame,
    horizon: int,
    quantiles: Sequence[float] | None,
    future: pd.DataFrame | None = None,
) -> str:
    """sha256 of the request (horizon, quantiles), of the history's rows in their order (series
    names as runs, every timestamp, value and covariate) and of the future rows, if any."""
    digest = frame_digest(history, request_header(horizon, quantiles))
    if future is not None and len(future):
        digest.update(frame_digest(future, {"future": True}).digest())
    return digest.hexdigest()


def runs_input_sha256(
    history: Runs, y: np.ndarray, horizon: int, quantiles: Sequence[float] | None
) -> str:
    """``input_sha256`` of a history without covariates given as its runs and values ``y``."""
    return runs_digest(history, y, request_header(horizon, quantiles)).hexdigest()


def request_header(horizon: int, quantiles: Sequence[float] | None) -> dict[str, Any]:
    """The request's part of the input hash."""
    return {
        "horizon": horizon,
        "quantiles": None if quantiles is None else [float(q) for q in quantiles],
    }
