"""Point and interval accuracy: MAE, RMSE, sMAPE, MASE, MSIS and coverage (M4 definitions).

Each function takes one series' actuals and forecasts (1-D arrays of the horizon); MASE and MSIS
also take the in-sample history and the season ``m`` of their scaling naive forecast.
"""

from __future__ import annotations

import numpy as np


def mae(y: np.ndarray, f: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(y - f)))


def rmse(y: np.ndarray, f: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((y - f) ** 2)))


def smape(y: np.ndarray, f: np.ndarray) -> float:
    """Symmetric MAPE in percent, 200 |y - f| / (|y| + |f|); a 0/0 term counts as 0."""
    denom = np.abs(y) + np.abs(f)
    ratio = np.divide(np.abs(y - f), denom, out=np.zeros_like(denom, dtype=float), where=denom > 0)
    return float(200.0 * np.mean(ratio))


def naive_scale(history: np.ndarray, m: int) -> float:
    """Mean absolute error of the in-sample seasonal naive forecast (lag m; lag 1 if too short)."""
    lag = m if len(history) > m else 1
    if len(history) <= lag:
        return float("nan")
    return float(np.mean(np.abs(history[lag:] - history[:-lag])))


def mase(y: np.ndarray, f: np.ndarray, history: np.ndarray, m: int) -> float:
    """Mean absolute scaled error (NaN when the history has no naive error to scale by)."""
    denom = naive_scale(history, m)
    return mae(y, f) / denom if denom > 0 else float("nan")


def msis(
    y: np.ndarray, lower: np.ndarray, upper: np.ndarray, history: np.ndarray, m: int, alpha: float
) -> float:
    """Mean scaled interval score of the (1 - alpha) interval [lower, upper]."""
    penalty = (2.0 / alpha) * ((lower - y) * (y < lower) + (y - upper) * (y > upper))
    score = float(np.mean(upper - lower + penalty))
    denom = naive_scale(history, m)
    return score / denom if denom > 0 else float("nan")


def coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actuals inside [lower, upper]."""
    return float(np.mean((y >= lower) & (y <= upper)))


def owa(smape_value: float, mase_value: float, naive2_smape: float, naive2_mase: float) -> float:
    """M4's overall weighted average relative to Naive2's sMAPE and MASE."""
    return 0.5 * (smape_value / naive2_smape + mase_value / naive2_mase)


def summarize(
    actuals: list[np.ndarray],
    point: list[np.ndarray],
    interval: tuple[list[np.ndarray], list[np.ndarray]],
    histories: list[np.ndarray],
    m: int,
    alpha: float,
) -> dict[str, float]:
    """Per-series metrics averaged over series (NaN entries skipped): mae, rmse, smape, mase,
    msis and coverage, where the interval is the (1 - alpha) one."""
    lower, upper = interval
    rows = [
        (
            mae(y, f),
            rmse(y, f),
            smape(y, f),
            mase(y, f, h, m),
            msis(y, lo, hi, h, m, alpha),
            coverage(y, lo, hi),
        )
        for y, f, lo, hi, h in zip(actuals, point, lower, upper, histories, strict=True)
    ]
    table = np.array(rows, dtype=float)
    names = ("mae", "rmse", "smape", "mase", "msis", "coverage")
    means = {name: _nanmean(table[:, i]) for i, name in enumerate(names)}
    return means


def _nanmean(column: np.ndarray) -> float:
    finite = column[np.isfinite(column)]
    return float(finite.mean()) if len(finite) else float("nan")
