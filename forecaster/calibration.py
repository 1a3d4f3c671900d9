"""Split-conformal calibration of the central intervals on held-out residuals.

Quantile regression alone often misses the nominal coverage. Each central interval (q, 1 - q)
is widened or narrowed around the median by one factor ``c``: the conformity score of a held-out
point is how far outside (> 1) or inside (< 1) the interval it fell, in units of the interval's
half-width on its side, ``max((median - y) / (median - lower), (y - median) / (upper - median))``.
The ``ceil((n + 1) level) / n`` empirical quantile of the scores is ``c``, so the scaled interval
covers a new exchangeable point with probability at least ``level`` (Lei et al. 2018; Romano et
al. 2019 for the quantile-regression form). The scores are taken on the validation window, which
training never used as a target (early stopping read it), never on the backtest windows, so the
backtest's coverage stays an honest measurement of the calibrated intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from forecaster.metrics import central_intervals

METHOD = "split-conformal (interval half-widths scaled around the median)"
MIN_WIDTH = 1e-9


@dataclass(frozen=True)
class Calibration:
    """One width factor per central interval level ("0.8" -> 1.12); empty: uncalibrated."""

    factors: dict[str, float] = field(default_factory=dict)
    points: int = 0
    source: str = "validation window"

    def apply(self, forecast: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
        """Quantiles [..., Q] with each calibrated interval scaled around the median."""
        if not self.factors:
            return forecast
        out = forecast.copy()
        median = forecast[..., levels.index(0.5)]
        for name, lo, hi in central_intervals(levels):
            c = self.factors.get(name)
            if c is not None:
                out[..., lo] = median - c * (median - forecast[..., lo])
                out[..., hi] = median + c * (forecast[..., hi] - median)
        return np.sort(out, axis=-1)  # levels calibrated apart never cross

    def to_json(self) -> dict[str, Any]:
        """What the manifest records."""
        return {
            "method": METHOD if self.factors else "none",
            "source": self.source,
            "points": self.points,
            "factors": dict(self.factors),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Calibration:
        """The inverse of ``to_json`` (None: an artifact from before calibration)."""
        if not data:
            return cls()
        factors = {str(k): float(v) for k, v in data.get("factors", {}).items()}
        return cls(factors, int(data.get("points", 0)), str(data.get("source", "")))


def fit(actual: np.ndarray, forecast: np.ndarray, levels: tuple[float, ...]) -> Calibration:
    """Factors from held-out ``actual`` [...] and uncalibrated ``forecast`` [..., Q].

    A level whose finite-sample quantile does not exist (fewer than 1 / (1 - level) - 1 points)
    keeps its factor of 1 and is left out.
    """
    y = actual.reshape(-1)
    flat = forecast.reshape(len(y), -1)
    median = flat[:, levels.index(0.5)]
    factors = {}
    for name, lo, hi in central_intervals(levels):
        below = (median - y) / np.maximum(median - flat[:, lo], MIN_WIDTH)
        above = (y - median) / np.maximum(flat[:, hi] - median, MIN_WIDTH)
        scores = np.sort(np.maximum(below, above)[np.isfinite(y)])
        rank = math.ceil((len(scores) + 1) * float(name))
        if 1 <= rank <= len(scores):
            factors[name] = float(scores[rank - 1])
    return Calibration(factors, len(y))
