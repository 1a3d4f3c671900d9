"""Tiny synthetic data and a tiny trained model shared by the forecaster tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster import ForecastConfig, Forecaster

TINY = ForecastConfig(
    hidden_size=8,
    num_layers=1,
    lookback=24,
    epochs=2,
    batch_size=32,
    ensemble=1,
    time_budget_s=None,
    device="cpu",
)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    """Other developers share the two cores; tiny models gain nothing from threads."""
    torch.set_num_threads(1)


def seasonal_frame(
    n_series: int = 3,
    length: int = 120,
    freq: str = "h",
    season: int = 24,
    noise: float = 0.3,
    seed: int = 0,
) -> pd.DataFrame:
    """Series of different levels and amplitudes sharing one season, plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        n = length + 7 * i
        t = np.arange(n)
        level, amplitude = 10.0 * (i + 1), 2.0 + i
        y = level + amplitude * np.sin(2 * np.pi * t / season) + rng.normal(0, noise, n)
        ds = pd.date_range("2021-01-01", periods=n, freq=freq)
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def frame() -> pd.DataFrame:
    """Three hourly series of 120-134 points."""
    return seasonal_frame()


@pytest.fixture(scope="module")
def tiny_model() -> Forecaster:
    """A tiny model trained for two epochs on ``seasonal_frame()`` with horizon 6."""
    torch.set_num_threads(1)
    return Forecaster(TINY).fit(seasonal_frame(), horizon=6)
