"""Rolling-origin backtests of a fitted model (no retraining), beside naive and seasonal naive on
the identical windows.

A window is placed by how many points it holds back from each series' end (its *offset*): the
model forecasts from everything before, and the next ``steps`` points are the actuals. Errors
are scaled by each series' in-sample seasonal naive error on the data before the oldest window
(the version's own training data), so every window and every model compared on them share the
scale. ``Evaluation`` keeps the raw forecasts, so a comparison on fewer windows or steps (the
champion's) reuses them instead of forecasting again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecaster.baselines import seasonal_naive_quantiles
from forecaster.calendar import fixed_step_ns, parse_freq
from forecaster.data import Panel
from forecaster.errors import NoHeldOutDataError
from forecaster.metrics import blocks, naive_scale, pointwise_terms

if TYPE_CHECKING:
    from forecaster.estimator import Forecaster

BASELINES = ("seasonal_naive", "naive")


@dataclass(frozen=True)
class Evaluation:
    """Forecasts and actuals of a backtest: W windows (oldest first), S series, h steps."""

    offsets: tuple[int, ...]  # points each window holds back from every series' end
    cutoffs: tuple[str, ...]  # each window's origin (the last point before it; latest series)
    actual: np.ndarray  # [W, S, h]
    forecast: np.ndarray  # [W, S, h, Q] at ``levels``
    levels: tuple[float, ...]
    scale: np.ndarray  # [S] in-sample seasonal naive MAE of each series
    values: tuple[np.ndarray, ...]  # the series the windows were cut from (for the baselines)
    season: int  # the seasonal naive's

    def subset(self, windows: list[int], steps: int) -> Evaluation:
        """The same evaluation restricted to some windows and the first ``steps`` steps."""
        return replace(
            self,
            offsets=tuple(self.offsets[w] for w in windows),
            cutoffs=tuple(self.cutoffs[w] for w in windows),
            actual=self.actual[windows, :, :steps],
            forecast=self.forecast[windows, :, :steps],
        )

    def baseline(self, name: str) -> np.ndarray:
        """Baseline NAME's quantiles [W, S, h, Q] on the same windows, computed when asked:
        both held for every window took twice the memory of the network's forecasts
        (bench/scale.py, "Memory at scale")."""
        m, steps = (self.season if name == "seasonal_naive" else 1), self.actual.shape[2]
        out = np.empty(self.forecast.shape)
        for w, offset in enumerate(self.offsets):
            for s, v in enumerate(self.values):
                history = v[: len(v) - offset]  # as Panel.cut(offset)
                out[w, s] = seasonal_naive_quantiles(history, steps, m, self.levels)
        return out

    def report(self) -> dict[str, Any]:
        """The ``backtest`` document: per window, per step and overall, with the baselines."""
        ours = _blocks(self.actual, self.forecast, self.levels, self.scale)
        theirs = {
            name: _blocks(self.actual, self.baseline(name), self.levels, self.scale)
            for name in BASELINES
        }
        overall, baselines = ours["overall"], {k: t["overall"] for k, t in theirs.items()}
        windows: list[dict[str, Any]] = [
            {
                "cutoff": cutoff,
                "points_from_end": offset,
                "metrics": _pick(ours["by_window"], w),
                "baselines": {k: _pick(t["by_window"], w) for k, t in theirs.items()},
            }
            for w, (cutoff, offset) in enumerate(zip(self.cutoffs, self.offsets, strict=True))
        ]
        for window in windows:
            window["skill"] = skill(window["metrics"], window["baselines"]["seasonal_naive"])
        return {
            "windows": windows,
            "metrics": overall,
            "by_step": {k: v for k, v in ours["by_step"].items() if k != "coverage"},
            "baselines": baselines,
            "skill": skill(overall, baselines["seasonal_naive"]),
            "steps": int(self.actual.shape[2]),
            "series": int(self.actual.shape[1]),
        }


# The report's means of the per-point terms: over every point, per window and per step.
_BLOCKS = {"overall": None, "by_window": (1, 2), "by_step": (0, 1)}


def _blocks(
    actual: np.ndarray, forecast: np.ndarray, levels: tuple[float, ...], scale: np.ndarray
) -> dict[str, Any]:
    """One model's block metrics (``_BLOCKS``), as JSON. Each per-point term (one [W, S, h]
    array per metric) lives only while it is reduced: one in memory at a time, where the
    three models' all were (bench/scale.py, "Memory at scale")."""
    return _json(blocks(pointwise_terms(actual, forecast, levels, scale), _BLOCKS))


def skill(ours: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float | None]:
    """1 - MASE / MASE(baseline) (None where either is undefined)."""
    a, b = ours.get("mase"), baseline.get("mase")
    return {"mase": None if a is None or not b else 1.0 - a / b}


def evaluate(
    model: Forecaster,
    panel: Panel,
    offsets: list[int],
    steps: int | None = None,
    scale: np.ndarray | None = None,
) -> Evaluation:
    """Forecast ``steps`` (default: the horizon) after each window of ``offsets`` (oldest
    first, each at least ``steps``) with ``model`` (the baselines' when a report asks)."""
    steps = model.horizon if steps is None else min(steps, model.horizon)
    if scale is None:
        scale = series_scale(panel, max(offsets), model.season)
    # Written in place, window by window: no per-series arrays to stack (memory at scale).
    shape = (len(offsets), len(panel.ids), steps)
    actual = np.empty(shape)
    forecast = np.empty((*shape, len(model.levels)))
    cutoffs = []
    for w, offset in enumerate(offsets):
        if offset < steps:
            raise ValueError(f"a window {offset} points from the end cannot hold {steps} steps")
        history = panel.cut(offset)
        for s, v in enumerate(panel.values):
            actual[w, s] = v[len(v) - offset : len(v) - offset + steps]
        forecast[w] = model.forecast_panel(history)[:, :steps]
        cutoffs.append(max(history.last(i) for i in range(len(history.ids))).isoformat())
    return Evaluation(
        offsets=tuple(offsets),
        cutoffs=tuple(cutoffs),
        actual=actual,
        forecast=forecast,
        levels=model.levels,
        scale=scale,
        values=panel.values,
        season=model.season,
    )


def series_scale(panel: Panel, held_out: int, season: int) -> np.ndarray:
    """Each series' in-sample seasonal naive MAE over all but its last ``held_out`` points."""
    return np.array([naive_scale(v[: len(v) - held_out], season) for v in panel.values])


def own_offsets(horizon: int, n_windows: int) -> list[int]:
    """The offsets of a version's own backtest: its last ``n_windows`` horizons, oldest first."""
    return [k * horizon for k in range(n_windows, 0, -1)]


def held_out_offsets(
    panel: Panel, cutoffs: dict[str, pd.Timestamp], horizon: int, n_windows: int, min_points: int
) -> list[int]:
    """The offsets of up to ``n_windows`` horizon-long windows at the end of every series that
    lie wholly after its training cut-off (series the version never saw: the latest cut-off).

    Raises NoHeldOutDataError naming the cut-off when not even one window fits every series.
    """
    if n_windows < 1:
        raise ValueError("n_windows must be at least 1")
    fits = n_windows
    for i, (uid, unseen) in enumerate(zip(panel.ids, unseen_points(panel, cutoffs), strict=True)):
        room = (int(panel.lengths[i]) - min_points) // horizon
        if min(unseen // horizon, room) < 1:
            cutoff = cutoffs.get(uid, max(cutoffs.values())).isoformat()
            reason = f"no window of {horizon} steps after the training cut-off {cutoff}"
            raise NoHeldOutDataError(reason, uid, cutoff)
        fits = min(fits, unseen // horizon, room)
    return own_offsets(horizon, fits)


def unseen_points(panel: Panel, cutoffs: dict[str, pd.Timestamp]) -> np.ndarray:
    """Per series, how many of its last points lie after its training cut-off (a series the
    version never saw is cut at the latest cut-off: it may share that period's information)."""
    latest = max(cutoffs.values())
    seen = [_points_through(panel, i, cutoffs.get(uid, latest)) for i, uid in enumerate(panel.ids)]
    return panel.lengths - np.array(seen, dtype=np.int64)


def _points_through(panel: Panel, i: int, stamp: pd.Timestamp) -> int:
    """How many points of series ``i`` lie at or before ``stamp``."""
    start, length = panel.starts[i], int(panel.lengths[i])
    offset = parse_freq(panel.freq)
    step = fixed_step_ns(offset)
    if step is not None:
        steps = (stamp - start).value // step
        return int(np.clip(steps + 1, 0, length))
    index = pd.date_range(start, periods=length, freq=offset)
    return int(index.searchsorted(stamp, side="right"))


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """A version's headline ``metrics``: the backtest's overall figures, skill and baselines."""
    return {
        **report["metrics"],
        "skill": report["skill"]["mase"],
        **{name: report["baselines"][name] for name in BASELINES},
    }


def _pick(metrics: dict[str, Any], w: int) -> dict[str, Any]:
    out = {k: v[w] for k, v in metrics.items() if k != "coverage"}
    out["coverage"] = {k: v[w] for k, v in metrics["coverage"].items()}
    return out


def _json(value: Any) -> Any:
    """Numpy results as JSON: floats (lists along an axis), NaN as None."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    array = np.asarray(value, dtype=float)
    if array.ndim:
        return [_json(v) for v in array]
    return float(array) if np.isfinite(array) else None
