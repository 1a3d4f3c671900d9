"""Forecaster's ML core: global GRU / LSTM / RNN forecasters with quantile prediction intervals.

A pure library (torch, numpy, pandas, safetensors, pydantic): no HTTP, no database.
"""

from forecaster.config import DEFAULT_QUANTILES, ForecastConfig, quantile_column
from forecaster.errors import (
    ArtifactError,
    ForecasterError,
    HorizonError,
    InvalidDataError,
    NoHeldOutDataError,
    NotFittedError,
    TrainingCancelled,
)
from forecaster.estimator import Forecaster
from forecaster.train import EpochProgress

__all__ = [
    "DEFAULT_QUANTILES",
    "ArtifactError",
    "EpochProgress",
    "ForecastConfig",
    "Forecaster",
    "ForecasterError",
    "HorizonError",
    "InvalidDataError",
    "NoHeldOutDataError",
    "NotFittedError",
    "TrainingCancelled",
    "quantile_column",
]
