"""Instant forecasts: sizing, the held-out check against the baseline, the baseline's intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster import ForecastConfig, Forecaster, InvalidDataError
from forecaster.baselines import seasonal_naive_quantiles
from forecaster.quick import (
    answer_record,
    baseline_forecast,
    deadline_answer,
    quick_forecast,
    residual_quantiles,
)
from forecaster.sizing import SMALL_POINTS, baseline_weight, sized_config, sized_fields
from tests.forecaster.conftest import TINY, seasonal_frame


def test_small_requests_get_a_small_budget_and_big_ones_the_default() -> None:
    one = sized_fields(1, 1464, 24)
    twenty = sized_fields(20, 20 * 1464, 24)
    assert one["ensemble"] == 1
    assert one["hidden_size"] < ForecastConfig().hidden_size
    assert one["encoder_steps"] > ForecastConfig().encoder_steps  # finer patches
    assert one["time_budget_s"] < twenty["time_budget_s"] < ForecastConfig().time_budget_s
    assert sized_fields(100, SMALL_POINTS + 1, 24) == {}
    assert sized_config(100, SMALL_POINTS + 1, 24) == ForecastConfig()


def test_the_baselines_share_falls_as_series_add_up() -> None:
    assert sized_fields(1, 1464, 24)["baseline_weight"] == 0.5
    assert sized_fields(19, 19 * 1464, 24)["baseline_weight"] == 0.05
    assert baseline_weight(3) == 0.25
    assert ForecastConfig().baseline_weight == 0.0  # the library default: the network alone
    assert sized_config(1, 1464, 24, {"baseline_weight": 0}).baseline_weight == 0.0


def test_the_baseline_weight_averages_seasonal_naive_into_the_models_forecast(
    tiny_model: Forecaster,
) -> None:
    panel = tiny_model.prepare(seasonal_frame())
    alone = tiny_model.forecast_panel(panel)
    levels = tiny_model.levels
    window = [v[-tiny_model.min_history :] for v in panel.values]  # what the network reads
    naive = np.stack([seasonal_naive_quantiles(v, 6, 24, levels) for v in window])
    weighted = Forecaster(tiny_model.config.model_copy(update={"baseline_weight": 0.25}))
    weighted.__dict__.update({k: v for k, v in tiny_model.__dict__.items() if k != "config"})
    np.testing.assert_allclose(weighted.forecast_panel(panel), 0.75 * alone + 0.25 * naive)
    only = Forecaster(tiny_model.config.model_copy(update={"baseline_weight": 1.0}))
    only.__dict__.update({k: v for k, v in tiny_model.__dict__.items() if k != "config"})
    np.testing.assert_allclose(only.forecast_panel(panel), naive)
    frame = weighted.predict()
    assert (frame["q0.1"] <= frame["q0.5"]).all()
    assert (frame["q0.5"] <= frame["q0.9"]).all()


def test_the_callers_config_overrides_the_sizing() -> None:
    config = sized_config(1, 1464, 24, {"hidden_size": 8, "time_budget_s": None})
    assert config.hidden_size == 8
    assert config.time_budget_s is None
    assert config.ensemble == 1  # still sized where the caller said nothing


def test_baseline_quantiles_are_the_in_sample_errors_at_each_reach() -> None:
    history = np.array([0.0, 1.0, 3.0, 6.0, 10.0])  # lag-1 errors 1,2,3,4; lag-2 errors 3,5,7
    out = residual_quantiles(history, horizon=2, season=1, levels=(0.0, 0.5, 1.0))
    np.testing.assert_allclose(out, [[1.0, 2.5, 4.0], [3.0, 5.0, 7.0]])


def test_seasonal_baseline_repeats_the_season_with_ordered_intervals() -> None:
    df = seasonal_frame(n_series=2, length=96)
    method, frame = baseline_forecast(df, 30, (0.1, 0.5, 0.9))
    assert method == "seasonal_naive"
    s0 = frame[frame["unique_id"] == "s0"]
    history = df[df["unique_id"] == "s0"]["y"].to_numpy()
    np.testing.assert_allclose(s0["mean"].to_numpy(), np.tile(history[-24:], 2)[:30])
    assert (s0["q0.1"] <= s0["q0.5"]).all()
    assert (s0["q0.5"] <= s0["q0.9"]).all()
    assert (s0["q0.9"] - s0["q0.1"]).iloc[-1] > 0


def test_without_a_season_the_baseline_is_naive() -> None:
    years = pd.date_range("1990-01-01", periods=30, freq="YS")
    df = pd.DataFrame({"unique_id": "a", "ds": years, "y": np.arange(30.0)})
    answer = deadline_answer(df, 3)
    assert answer.method == "naive"
    assert answer.fallback == {"method": "naive", "reason": "deadline"}
    assert answer_record(answer)["forecasts"][0]["mean"] == [29.0, 29.0, 29.0]


@pytest.mark.slow
def test_a_network_that_loses_on_the_held_out_window_is_replaced_by_the_baseline() -> None:
    # A repeated season without noise: seasonal naive is exact, an untrained network is not.
    df = seasonal_frame(n_series=2, length=120, noise=0.0)
    config = TINY.model_copy(update={"epochs": 1, "learning_rate": 1e-6})
    answer = quick_forecast(df, 6, config)
    assert answer.method == "seasonal_naive"
    assert answer.fallback == {"method": "seasonal_naive", "reason": "lost_to_baseline"}
    assert answer.held_out is not None
    assert not answer.held_out["network_wins"]
    assert answer.held_out["network"] > answer.held_out["baseline"]
    _, baseline = baseline_forecast(df, 6, TINY.quantiles)
    pd.testing.assert_frame_equal(answer.prediction, baseline)
    assert answer.model is not None
    assert answer.model.backtest_report is not None  # the check is the version's own backtest
    assert answer.held_out["windows"] == TINY.backtest_windows
    baselines = answer.model.backtest_report["baselines"]
    assert baselines["seasonal_naive"]["mae"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.slow
def test_a_network_that_wins_answers_from_the_full_history() -> None:
    # A steep trend: seasonal naive lags a whole season behind, a trained network does not.
    df = seasonal_frame(n_series=2, length=240, noise=0.1)
    df["y"] += 2.0 * df.groupby("unique_id").cumcount()
    config = TINY.model_copy(update={"epochs": 30, "hidden_size": 16})
    answer = quick_forecast(df, 6, config)
    assert answer.method == "network"
    assert answer.fallback is None
    assert answer.held_out is not None
    assert answer.held_out["network_wins"]
    last = df.groupby("unique_id")["ds"].max()
    first = answer.prediction.groupby("unique_id")["ds"].min()
    assert (first == last + pd.Timedelta(hours=1)).all()
    assert answer.model is not None
    pd.testing.assert_frame_equal(answer.model.predict(df, 6), answer.prediction)


def test_series_too_short_to_hold_out_a_window_are_refused_with_the_reason() -> None:
    df = seasonal_frame(n_series=1, length=30)  # 6 points to train on once 2 x 12 are held out
    with pytest.raises(InvalidDataError, match="backtest_windows") as raised:
        quick_forecast(df, 12, TINY)
    assert raised.value.series == "s0"
