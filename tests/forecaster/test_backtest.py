"""Rolling-origin backtests: window placement and per-window metrics."""

from __future__ import annotations

import numpy as np
import pytest

from forecaster import Forecaster, InvalidDataError, backtest
from forecaster.backtest import mean_scores

from .conftest import seasonal_frame


def test_windows_step_back_from_the_end(tiny_model: Forecaster) -> None:
    windows = backtest(tiny_model, seasonal_frame(), n_windows=3, step=4)
    assert [w["window"] for w in windows] == [0, 1, 2]
    assert [w["cutoff_points"] for w in windows] == [6 + 8, 6 + 4, 6]
    for w in windows:
        assert set(w["model"]) == {"mae", "rmse", "smape", "mase", "msis", "coverage_95"}
        assert set(w["seasonal_naive"]) == set(w["model"])


def test_default_step_is_the_horizon_and_means_average_windows(tiny_model: Forecaster) -> None:
    windows = backtest(tiny_model, seasonal_frame(), n_windows=2)
    assert [w["cutoff_points"] for w in windows] == [12, 6]
    means = mean_scores(windows)
    assert means["mae"] == pytest.approx(np.mean([w["model"]["mae"] for w in windows]))


def test_last_window_matches_a_manual_forecast(tiny_model: Forecaster) -> None:
    frame = seasonal_frame()
    (window,) = backtest(tiny_model, frame, n_windows=1)
    history = frame.groupby("unique_id").head(-6)
    forecast = tiny_model.predict(history)
    errors = []
    for uid, group in frame.groupby("unique_id"):
        actual = group["y"].to_numpy()[-6:]
        errors.append(
            np.mean(np.abs(actual - forecast.loc[forecast["unique_id"] == uid, "mean"].to_numpy()))
        )
    assert window["model"]["mae"] == pytest.approx(np.mean(errors))


def test_backtest_needs_room_for_its_windows(tiny_model: Forecaster) -> None:
    with pytest.raises(InvalidDataError, match="backtest needs"):
        backtest(tiny_model, seasonal_frame(), n_windows=30)
    with pytest.raises(ValueError, match="n_windows"):
        backtest(tiny_model, seasonal_frame(), n_windows=0)


def test_metrics_undefined_everywhere_become_none_not_nan() -> None:
    from forecaster.backtest import mean_scores

    window = {"mae": 1.0, "mase": float("nan")}
    scores = mean_scores([{"model": window, "seasonal_naive": window}] * 2)
    assert scores["mae"] == 1.0
    assert scores["mase"] is None
    assert scores["seasonal_naive"]["mase"] is None
