"""Forecaster's ML core: global GRU / LSTM / RNN forecasters with quantile prediction intervals.

A pure library (torch, numpy, pandas, safetensors, pydantic): no HTTP, no database.
``Forecaster``, ``EpochProgress`` and ``plot`` load on first use (PEP 562), so the client
(``forecaster.client``) and the user commands start without importing torch or matplotlib.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# First, before anything loads torch: the threading defaults (see forecaster.threads).
from forecaster import threads  # noqa: F401
from forecaster.config import DEFAULT_QUANTILES, ForecastConfig, quantile_column
from forecaster.covariates import CovariateSpec, HolidaySpec
from forecaster.errors import (
    ArtifactError,
    CovariateError,
    ForecasterError,
    HorizonError,
    InvalidDataError,
    NoHeldOutDataError,
    NotFittedError,
    TrainingCancelled,
)

if TYPE_CHECKING:
    from forecaster.estimator import Forecaster
    from forecaster.plotting import plot
    from forecaster.train import EpochProgress

_LAZY = {
    "Forecaster": "forecaster.estimator",
    "EpochProgress": "forecaster.train",
    "plot": "forecaster.plotting",
}

__all__ = [
    "DEFAULT_QUANTILES",
    "ArtifactError",
    "CovariateError",
    "CovariateSpec",
    "EpochProgress",
    "ForecastConfig",
    "Forecaster",
    "ForecasterError",
    "HolidaySpec",
    "HorizonError",
    "InvalidDataError",
    "NoHeldOutDataError",
    "NotFittedError",
    "TrainingCancelled",
    "plot",
    "quantile_column",
]


def __getattr__(name: str) -> Any:
    """Import a torch- or matplotlib-backed name from its module the first time it is used."""
    if name not in _LAZY:
        raise AttributeError(f"module 'forecaster' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
