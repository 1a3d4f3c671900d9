"""Benchmarks every report carries: naive and seasonal naive, with normal prediction intervals."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np


def naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last value."""
    return np.repeat(history[-1], horizon).astype(float)


def seasonal_naive(history: np.ndarray, horizon: int, m: int) -> np.ndarray:
    """Repeat the last season (the naive forecast when the history is shorter than a season)."""
    if m <= 1 or len(history) < m:
        return naive(history, horizon)
    reps = -(-horizon // m)
    return np.tile(history[-m:], reps)[:horizon].astype(float)


def seasonal_naive_interval(
    history: np.ndarray, horizon: int, m: int, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` interval of the seasonal naive forecast.

    Residuals are the in-sample seasonal differences; step j ahead spans k = floor((j-1)/m) + 1
    seasons, so its standard deviation is sigma * sqrt(k) (Hyndman & Athanasopoulos, FPP3 5.5).
    """
    lag = m if m > 1 and len(history) > m else 1
    point = seasonal_naive(history, horizon, lag)
    residuals = history[lag:] - history[:-lag] if len(history) > lag else np.zeros(1)
    sigma = float(np.sqrt(np.mean(residuals**2)))
    seasons = np.arange(horizon) // lag + 1
    z = NormalDist().inv_cdf(0.5 + level / 2)
    half = z * sigma * np.sqrt(seasons)
    return point - half, point + half


def seasonal_naive_quantiles(
    history: np.ndarray, horizon: int, m: int, levels: tuple[float, ...]
) -> np.ndarray:
    """Seasonal naive quantiles [horizon, Q] at ``levels`` (normal, as the interval above);
    ``m = 1`` gives naive, the random walk whose spread grows with the square root of the step."""
    lag = m if m > 1 and len(history) > m else 1
    point = seasonal_naive(history, horizon, lag)
    residuals = history[lag:] - history[:-lag] if len(history) > lag else np.zeros(1)
    sigma = float(np.sqrt(np.mean(residuals**2)))
    spread = sigma * np.sqrt(np.arange(horizon) // lag + 1)  # [h]
    z = np.array([NormalDist().inv_cdf(q) for q in levels])  # [Q]
    return point[:, None] + spread[:, None] * z[None, :]


def shrink_to_baseline(
    forecast: np.ndarray,
    histories: tuple[np.ndarray, ...],
    m: int,
    levels: tuple[float, ...],
    weight: float,
) -> np.ndarray:
    """``forecast`` [S, h, Q] averaged with each series' seasonal naive quantiles (naive for
    ``m = 1``) at ``levels``, the baseline weighing ``weight``: a weighted average of two
    quantile functions (Vincentization), so the quantiles stay ordered."""
    if weight == 0.0:
        return forecast
    steps = forecast.shape[1]
    base = np.stack([seasonal_naive_quantiles(v, steps, m, levels) for v in histories])
    return (1.0 - weight) * forecast + weight * base
