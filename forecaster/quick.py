"""Forecasts for posted series: a quick network checked on its own held-out backtest, or a
baseline.

``quick_forecast`` fits with the core's held-out backtest (the last ``backtest_windows``
horizons of every series: neither training nor early stopping sees them, see
``Forecaster.fit``) and answers with the network's forecast from the full history only where its
backtest MASE is not worse than the baseline's on the identical windows. Otherwise the answer is
the baseline's forecast (seasonal naive; naive where no season is known) with intervals from the
baseline's own in-sample residual quantiles, and it says so in ``fallback``. The network is
global: it forecasts from the full series without retraining, so the check costs nothing beyond
the backtest every version carries anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from forecaster.baselines import seasonal_naive
from forecaster.calendar import seasonality
from forecaster.config import DEFAULT_QUANTILES, ForecastConfig, model_levels
from forecaster.covariates import CovariateSpec
from forecaster.data import FillPolicy, prepare
from forecaster.estimator import Forecaster
from forecaster.predict import forecast_frame
from forecaster.records import forecast_records
from forecaster.train import EpochProgress

Method = Literal["network", "seasonal_naive", "naive"]
Reason = Literal["lost_to_baseline", "deadline"]


@dataclass(frozen=True)
class QuickAnswer:
    """A forecast of posted series and how it was made.

    ``prediction`` is the long frame (unique_id, ds, mean, q<level>...); ``held_out`` the
    scores of the network and the baseline on the held-out window (None when no network ran);
    ``model`` the network, trained on the series minus the held-out window.
    """

    prediction: pd.DataFrame
    method: Method
    fallback: dict[str, str] | None
    held_out: dict[str, Any] | None
    model: Forecaster | None


def quick_forecast(
    df: pd.DataFrame,
    horizon: int,
    config: ForecastConfig,
    freq: str | None = None,
    progress: Callable[[EpochProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    covariates: CovariateSpec | None = None,
    future: pd.DataFrame | None = None,
) -> QuickAnswer:
    """Fit with a held-out backtest, check it against the baseline, forecast (see module).

    ``covariates`` names the covariate columns of ``df`` (see ``Forecaster.fit``); the
    future-known values come from ``future`` or from ``df``'s future rows. The baseline ignores
    them (its backtest windows are the network's)."""
    model = Forecaster(config).fit(df, horizon, freq, progress, should_stop, covariates)
    check = network_vs_baseline(model)
    if check is None or check["network_wins"]:
        prediction = model.predict(df, horizon, future)
        return QuickAnswer(prediction, "network", None, check, model)
    method, prediction = baseline_forecast(df, horizon, config.quantiles, model.freq, config.fill)
    fallback = {"method": method, "reason": "lost_to_baseline"}
    return QuickAnswer(prediction, method, fallback, check, model)


def network_vs_baseline(model: Forecaster) -> dict[str, Any] | None:
    """The network's held-out backtest against the baseline's on the identical windows.

    Compares overall MASE (MAE where every series is flat and MASE undefined); the network wins
    ties. None when the config turned the backtest off (``backtest_windows=0``): nothing to check.
    """
    report = model.backtest_report
    if report is None:
        return None
    method = baseline_method(model.season)
    ours, theirs = report["metrics"], report["baselines"][method]
    metric = "mase" if _finite(ours.get("mase")) and _finite(theirs.get("mase")) else "mae"
    network, baseline = ours.get(metric), theirs.get(metric)
    wins = _finite(network) and (not _finite(baseline) or network <= baseline)
    return {
        "metric": metric,
        "network": network,
        "baseline": baseline,
        "baseline_method": method,
        "network_wins": bool(wins),
        "windows": len(report["windows"]),
    }


def _finite(value: Any) -> bool:
    return value is not None and bool(np.isfinite(value))


def baseline_method(season: int) -> Method:
    """The baseline for a season length: seasonal naive, or naive where no season is known."""
    return "seasonal_naive" if season > 1 else "naive"


def baseline_forecast(
    df: pd.DataFrame,
    horizon: int,
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
    freq: str | None = None,
    fill: FillPolicy = "interpolate",
) -> tuple[Method, pd.DataFrame]:
    """The baseline's forecast frame of every series of ``df`` and the baseline's name
    (covariate columns and future rows of ``df`` are ignored).

    ``mean`` is the baseline's point forecast; each quantile is the point plus that quantile of
    the baseline's own in-sample errors at the same reach (see ``residual_quantiles``).
    """
    panel = prepare(df, freq, fill)
    season = seasonality(panel.freq).season
    levels = model_levels(quantiles)
    points = np.stack([seasonal_naive(v, horizon, season) for v in panel.values])  # [S, h]
    spread = np.stack([residual_quantiles(v, horizon, season, levels) for v in panel.values])
    frame = forecast_frame(panel, points[:, :, None] + spread, levels, quantiles, horizon)
    frame["mean"] = points.reshape(-1)
    return baseline_method(season), frame


def residual_quantiles(
    history: np.ndarray, horizon: int, season: int, levels: tuple[float, ...]
) -> np.ndarray:
    """Quantiles [h, levels] of the seasonal naive's in-sample errors, step by step.

    Step j repeats the value ``k * lag`` steps back (k = floor((j - 1) / lag) + 1), so its errors
    are the in-sample differences at that lag: exact empirical quantiles, no normality assumed.
    Where the history is too short for a lag, the largest lag it has is widened by sqrt(k).
    """
    lag = season if season > 1 and len(history) > season else 1
    reach = np.arange(horizon) // lag + 1  # seasons spanned by each step
    out = np.zeros((horizon, len(levels)))
    for k in np.unique(reach):
        out[reach == k] = _lag_quantiles(history, int(k), lag, levels)
    return out


def _lag_quantiles(history: np.ndarray, k: int, lag: int, levels: tuple[float, ...]) -> np.ndarray:
    usable = min(k, (len(history) - 1) // lag)
    if usable < 1:
        return np.zeros(len(levels))
    span = usable * lag
    errors = history[span:] - history[:-span]
    return np.quantile(errors, levels) * np.sqrt(k / usable)


def answer_record(answer: QuickAnswer) -> dict[str, Any]:
    """The JSON-ready answer: ``method``, ``fallback``, ``held_out`` scores and ``forecasts``."""
    return {
        "method": answer.method,
        "fallback": answer.fallback,
        "held_out": answer.held_out,
        "forecasts": forecast_records(answer.prediction),
    }


def deadline_answer(
    df: pd.DataFrame,
    horizon: int,
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
    freq: str | None = None,
    fill: FillPolicy = "interpolate",
) -> QuickAnswer:
    """The baseline's answer when the network did not finish in time (reason ``deadline``)."""
    method, prediction = baseline_forecast(df, horizon, quantiles, freq, fill)
    return QuickAnswer(prediction, method, {"method": method, "reason": "deadline"}, None, None)
