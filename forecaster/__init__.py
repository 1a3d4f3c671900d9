"""Forecaster's ML core: global GRU / LSTM / RNN forecasters with quantile prediction intervals.

A pure library (torch, numpy, pandas, safetensors, pydantic): no HTTP, no database.
"""

# First, before anything loads torch: the threading defaults (see forecaster.threads).
from forecaster import threads  # noqa: F401
from forecaster.backtest import backtest
from forecaster.config import DEFAULT_QUANTILES, ForecastConfig, quantile_column
from forecaster.errors import (
    ArtifactError,
    ForecasterError,
    HorizonError,
    InvalidDataError,
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
    "NotFittedError",
    "TrainingCancelled",
    "backtest",
    "quantile_column",
]
