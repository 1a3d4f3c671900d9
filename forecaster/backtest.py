"""Rolling-origin evaluation of a fitted model (no retraining) against seasonal naive."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecaster.baselines import seasonal_naive, seasonal_naive_interval
from forecaster.data import Panel
from forecaster.errors import InvalidDataError
from forecaster.metrics import summarize

if TYPE_CHECKING:
    from forecaster.estimator import Forecaster


def backtest(
    model: Forecaster, df: pd.DataFrame, n_windows: int = 1, step: int | None = None
) -> list[dict[str, Any]]:
    """Score ``model`` on ``n_windows`` origins, ``step`` points apart (default: the horizon),
    the last one ending at each series' end. Returns one dict per window, oldest first:
    {"window", "cutoff_points", "model": {metrics}, "seasonal_naive": {metrics}}."""
    return backtest_panel(model, model.prepare(df), n_windows, step)


def backtest_panel(
    model: Forecaster, panel: Panel, n_windows: int = 1, step: int | None = None
) -> list[dict[str, Any]]:
    """``backtest`` on already prepared series."""
    if n_windows < 1:
        raise ValueError("n_windows must be at least 1")
    horizon = model.horizon
    step = horizon if step is None else step
    if step < 1:
        raise ValueError("step must be at least 1")
    results = []
    for k in range(n_windows - 1, -1, -1):
        cut = horizon + k * step
        _check_room(panel, cut + model.min_points)
        results.append(_score_window(model, panel, cut) | {"window": n_windows - 1 - k})
    return results


def mean_scores(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """The metrics of ``backtest`` windows averaged over windows, model and seasonal naive.

    A metric that is undefined in every window (MASE of flat series) is None, so the result is
    valid JSON.
    """
    out: dict[str, Any] = {
        key: _mean(w["model"][key] for w in windows) for key in windows[0]["model"]
    }
    out["seasonal_naive"] = {
        key: _mean(w["seasonal_naive"][key] for w in windows)
        for key in windows[0]["seasonal_naive"]
    }
    return out


def _mean(values: Iterable[float]) -> float | None:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def _check_room(panel: Panel, needed: int) -> None:
    for uid, length in zip(panel.ids, panel.lengths, strict=True):
        if length < needed:
            raise InvalidDataError(f"{length} points; this backtest needs {needed}", uid)


def _score_window(model: Forecaster, panel: Panel, cut: int) -> dict[str, Any]:
    horizon, m = model.horizon, model.season
    history = panel.cut(cut)
    actual = [v[len(v) - cut : len(v) - cut + horizon] for v in panel.values]
    forecasts = model.forecast_panel(history)  # [S, h, Q]
    lo_level, hi_level = model.interval_levels
    levels = model.levels
    level = hi_level - lo_level
    alpha = 1.0 - level if level > 0 else 0.05
    point = [f[:, levels.index(0.5)] for f in forecasts]
    lower = [f[:, levels.index(lo_level)] for f in forecasts]
    interval = (lower, [f[:, levels.index(hi_level)] for f in forecasts])
    key = f"coverage_{round(100 * (1 - alpha))}"
    ours = summarize(actual, point, interval, list(history.values), m, alpha)
    naive_point = [seasonal_naive(h, horizon, m) for h in history.values]
    bounds = [seasonal_naive_interval(h, horizon, m, 1 - alpha) for h in history.values]
    naive_interval = ([b[0] for b in bounds], [b[1] for b in bounds])
    theirs = summarize(actual, naive_point, naive_interval, list(history.values), m, alpha)
    return {
        "cutoff_points": cut,
        "model": _rename(ours, key),
        "seasonal_naive": _rename(theirs, key),
    }


def _rename(scores: dict[str, float], coverage_key: str) -> dict[str, float]:
    out = {k: v for k, v in scores.items() if k != "coverage"}
    out[coverage_key] = scores["coverage"]
    return out
