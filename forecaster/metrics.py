"""Point and interval accuracy: MAE, RMSE, sMAPE, MASE, MSIS and coverage (M4 definitions).

Each function takes one series' actuals and forecasts (1-D arrays of the horizon); MASE and MSIS
also take the in-sample history and the season ``m`` of their scaling naive forecast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from typing import Any

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


def central_intervals(levels: tuple[float, ...]) -> list[tuple[str, int, int]]:
    """The central intervals the quantile ``levels`` form: (name, lower index, upper index).

    A pair (q, 1 - q) with q < 0.5 is the interval of level 1 - 2q, named like "0.8".
    """
    out = []
    for i, q in enumerate(levels):
        upper = [j for j, p in enumerate(levels) if q < 0.5 and abs(p - (1.0 - q)) < 1e-9]
        if upper:
            out.append((f"{round(1.0 - 2.0 * q, 6):g}", i, upper[0]))
    return out


def pointwise(
    actual: np.ndarray, forecast: np.ndarray, levels: tuple[float, ...], scale: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-point terms of every metric, each [W, S, h]: the block metrics are their means.

    ``actual`` [W, S, h] (windows, series, steps), ``forecast`` [W, S, h, Q] quantiles at
    ``levels`` (the median among them), ``scale`` [S] each series' in-sample seasonal naive MAE
    (NaN or 0: the scaled terms of that series are NaN and skipped).
    """
    return dict(pointwise_terms(actual, forecast, levels, scale))


def pointwise_terms(
    actual: np.ndarray, forecast: np.ndarray, levels: tuple[float, ...], scale: np.ndarray
) -> Iterator[tuple[str, np.ndarray]]:
    """``pointwise``'s terms one at a time, each computed when it is asked for: a caller that
    reduces each before the next (``blocks``) holds one, not all (memory at scale)."""
    # Each term is computed a block at a time (``_in_blocks``) and scaled in place: at 20,000
    # series a [W, S, h] array is 11.5 MB, and the report's peak held four of them
    # (bench/scale.py, "Memory at scale"). Each point's value is the same either way.
    scale = np.where(scale > 0, scale, np.nan)[None, :, None]  # [1, S, 1]
    point = forecast[..., levels.index(0.5)]
    yield "mae", _in_blocks(_absolute_error, actual, point)
    yield "se", _in_blocks(_squared_error, actual, point)
    yield "smape", _in_blocks(_smape, actual, point)
    mase = _in_blocks(_absolute_error, actual, point)
    mase /= scale
    yield "mase", mase
    del mase
    q = np.asarray(levels)
    pinball = _pinball(actual, forecast, q)
    pinball /= scale
    yield "pinball", pinball
    del pinball
    intervals = central_intervals(levels)
    for name, lo, hi in intervals:
        lower, upper = forecast[..., lo], forecast[..., hi]
        yield f"coverage:{name}", ((actual >= lower) & (actual <= upper)).astype(float)
    if intervals:  # MSIS of the widest interval (0.95 by default, as M4 scores it)
        _, lo, hi = intervals[0]
        alpha = 1.0 - (q[hi] - q[lo])
        msis = _in_blocks(
            partial(_interval_score, alpha=alpha), actual, forecast[..., lo], forecast[..., hi]
        )
        msis /= scale
        yield "msis", msis


def _in_blocks(term: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """TERM of ARRAYS (each [W, S, ...], alike) one window and PINBALL_BLOCK series at a time,
    into one array: its temporaries span a block, not every point."""
    windows, series = arrays[0].shape[:2]
    out: np.ndarray | None = None
    for w in range(windows):
        for start in range(0, series, PINBALL_BLOCK):
            part = slice(start, start + PINBALL_BLOCK)
            value = term(*(a[w, part] for a in arrays))
            if out is None:
                out = np.empty(arrays[0].shape[:2] + value.shape[1:], dtype=value.dtype)
            out[w, part] = value
    assert out is not None, "no points"
    return out


def _absolute_error(actual: np.ndarray, point: np.ndarray) -> np.ndarray:
    return np.abs(actual - point)


def _squared_error(actual: np.ndarray, point: np.ndarray) -> np.ndarray:
    return (actual - point) ** 2


def _smape(actual: np.ndarray, point: np.ndarray) -> np.ndarray:
    """200 |actual - point| / (|actual| + |point|); 0 where the denominator is not positive."""
    denom = np.abs(actual) + np.abs(point)
    ratio = np.divide(np.abs(actual - point), denom, out=np.zeros_like(denom), where=denom > 0)
    return 200.0 * ratio


def _interval_score(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, alpha: float
) -> np.ndarray:
    """The (unscaled) interval score of [lower, upper]: its width plus 2 / alpha times the
    distance of an actual outside it."""
    penalty = (2.0 / alpha) * (
        (lower - actual) * (actual < lower) + (actual - upper) * (actual > upper)
    )
    return upper - lower + penalty


PINBALL_BLOCK = 1024  # series at a time in a per-point term: its temporaries stay small


def _pinball(actual: np.ndarray, forecast: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The mean pinball loss over the levels ``q`` at each point [W, S, h], per window and
    PINBALL_BLOCK series (``_in_blocks``), in place: two small temporaries, not four of
    [W, S, h, Q] (75 MB each at 20,000 series; memory at scale). Each point's mean is the same
    whatever else is in the block."""
    return _in_blocks(partial(_block_pinball, q=q), actual, forecast)


def _block_pinball(actual: np.ndarray, forecast: np.ndarray, q: np.ndarray) -> np.ndarray:
    diff = actual[..., None] - forecast  # [block, h, Q]
    above = q * diff
    diff *= q - 1.0
    return np.maximum(above, diff, out=above).mean(axis=-1)


def block_metrics(terms: dict[str, np.ndarray], axis: tuple[int, ...] | None = None) -> Any:
    """Means of ``pointwise`` terms over ``axis`` (None: every point), as the report names them:
    mae, rmse (root of the mean squared error), smape, mase, pinball, msis and coverage by
    interval. With an axis each value is an array over the remaining axes."""
    return blocks(terms.items(), {"block": axis})["block"]


def blocks(
    terms: Iterable[tuple[str, np.ndarray]], axes: Mapping[str, tuple[int, ...] | None]
) -> dict[str, Any]:
    """``block_metrics`` over each axis of ``axes`` (a name for each), in one pass over
    ``terms`` (``pointwise_terms``), so each term is reduced and dropped before the next."""
    out: dict[str, dict[str, Any]] = {name: {} for name in axes}
    coverage_by: dict[str, dict[str, Any]] = {name: {} for name in axes}
    for key, values in terms:
        for name, axis in axes.items():
            mean = _mean(values, axis)
            if key == "se":
                out[name]["rmse"] = np.sqrt(mean)
            elif key.startswith("coverage:"):
                coverage_by[name][key.removeprefix("coverage:")] = mean
            else:
                out[name][key] = mean
        del values  # before the next term is computed, not after
    for name in axes:
        out[name]["coverage"] = coverage_by[name]
    return out


def _mean(values: np.ndarray, axis: tuple[int, ...] | None) -> Any:
    finite = np.isfinite(values)
    # Summed as they are when that is what the zero-filled copy would hold (memory at scale).
    whole = finite.all() and values.flags.c_contiguous
    total = (values if whole else np.where(finite, values, 0.0)).sum(axis=axis)
    count = finite.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)
