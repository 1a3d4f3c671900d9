"""Forecaster.fit / predict / score: output shape, future timestamps, errors, determinism,
progress and cancellation, and beating seasonal naive on a noisy seasonal series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster import (
    EpochProgress,
    ForecastConfig,
    Forecaster,
    HorizonError,
    InvalidDataError,
    NotFittedError,
    TrainingCancelled,
    quantile_column,
)
from forecaster.baselines import seasonal_naive
from forecaster.metrics import mae

from .conftest import TINY, seasonal_frame


def test_predict_returns_mean_and_one_column_per_quantile(tiny_model: Forecaster) -> None:
    out = tiny_model.predict()
    expected = ["unique_id", "ds", "mean"] + [quantile_column(q) for q in TINY.quantiles]
    assert list(out.columns) == expected
    assert len(out) == 3 * 6
    assert out["ds"].dtype == "datetime64[ns]"
    quantiles = out[[quantile_column(q) for q in TINY.quantiles]].to_numpy()
    assert np.all(np.diff(quantiles, axis=1) >= 0)
    np.testing.assert_array_equal(out["mean"], out["q0.5"])


def test_attributes_after_fit(tiny_model: Forecaster) -> None:
    assert tiny_model.horizon == 6
    assert tiny_model.freq == "h"
    assert tiny_model.device == "cpu"
    assert tiny_model.n_params > 0
    assert tiny_model.epochs_run == 2
    assert tiny_model.min_history == 24
    assert tiny_model.train_seconds > 0
    assert tiny_model.data_summary["series"] == 3
    assert tiny_model.data_summary["points"] == 120 + 127 + 134
    assert set(tiny_model.library_versions) >= {"torch", "numpy", "pandas", "python"}
    for key in ("mae", "rmse", "smape", "mase", "pinball", "msis", "skill"):
        assert np.isfinite(tiny_model.metrics[key])
    for key in ("mae", "rmse", "smape", "mase", "pinball", "msis"):
        assert np.isfinite(tiny_model.metrics["seasonal_naive"][key])
    assert set(tiny_model.metrics["coverage"]) == {"0.8", "0.95"}


def test_future_timestamps_continue_each_series_own_grid(tiny_model: Forecaster) -> None:
    history = seasonal_frame()
    out = tiny_model.predict(history, horizon=3)
    for uid, group in out.groupby("unique_id"):
        last = history.loc[history["unique_id"] == uid, "ds"].max()
        expected = pd.date_range(last + pd.Timedelta(hours=1), periods=3, freq="h")
        assert list(group["ds"]) == list(expected)


@pytest.mark.parametrize(
    ("freq", "step"),
    [
        ("MS", pd.DateOffset(months=1)),
        ("W-SUN", pd.Timedelta(days=7)),
        ("D", pd.Timedelta(days=1)),
        ("15min", pd.Timedelta(minutes=15)),
    ],
)
def test_calendar_frequencies_continue_their_grid(freq: str, step: pd.DateOffset) -> None:
    frame = seasonal_frame(n_series=2, length=60, freq=freq, season=12)
    config = TINY.model_copy(update={"lookback": 12, "epochs": 1})
    model = Forecaster(config).fit(frame, horizon=4)
    assert model.freq == freq
    out = model.predict()
    for uid, group in out.groupby("unique_id"):
        last = frame.loc[frame["unique_id"] == uid, "ds"].max()
        assert group["ds"].iloc[0] == last + step
        expected = pd.date_range(start=last, periods=5, freq=freq)[1:]
        assert list(group["ds"]) == list(expected)


def test_horizon_limits(tiny_model: Forecaster) -> None:
    assert len(tiny_model.predict(horizon=1)) == 3
    with pytest.raises(HorizonError):
        tiny_model.predict(horizon=7)
    with pytest.raises(HorizonError):
        tiny_model.predict(horizon=0)


def test_predict_pads_short_series_and_names_one_too_short(tiny_model: Forecaster) -> None:
    frame = seasonal_frame()
    s1 = frame["unique_id"] == "s1"
    short = pd.concat([frame[~s1], frame[s1].tail(10)])  # 10 points: fewer than the lookback 24
    out = tiny_model.predict(short)
    assert np.isfinite(out["mean"]).all()
    assert tiny_model.min_points == 6
    with pytest.raises(InvalidDataError, match="needs at least 6") as info:
        tiny_model.predict(pd.concat([frame[~s1], frame[s1].tail(5)]))
    assert info.value.series == "s1"


def test_short_series_train_alongside_long_ones_without_shrinking_the_lookback() -> None:
    long = seasonal_frame(n_series=19, length=200)
    short = seasonal_frame(n_series=1, length=30, seed=5).assign(unique_id="tiny")
    config = TINY.model_copy(update={"lookback": None, "epochs": 1})
    model = Forecaster(config).fit(pd.concat([long, short]), horizon=6)
    assert model.min_history == 168  # a week: the 10th-percentile series decides, not "tiny"
    out = model.predict()
    assert np.isfinite(out.loc[out["unique_id"] == "tiny", "mean"]).all()


def test_predict_checks_the_trained_frequency(tiny_model: Forecaster) -> None:
    with pytest.raises(InvalidDataError, match="grid"):
        tiny_model.predict(seasonal_frame(freq="30min"))


def test_unfitted_model_refuses_to_predict() -> None:
    with pytest.raises(NotFittedError):
        Forecaster().predict()


def test_same_seed_same_device_same_forecast() -> None:
    frame = seasonal_frame()
    first = Forecaster(TINY).fit(frame, horizon=6).predict()
    second = Forecaster(TINY).fit(frame, horizon=6).predict()
    pd.testing.assert_frame_equal(first, second)
    other = Forecaster(TINY.model_copy(update={"seed": 1})).fit(frame, horizon=6).predict()
    assert not np.allclose(first["q0.9"], other["q0.9"])


def test_progress_reports_every_epoch_of_the_members_training_together() -> None:
    seen: list[EpochProgress] = []
    config = TINY.model_copy(update={"ensemble": 2})
    Forecaster(config).fit(seasonal_frame(), horizon=6, progress=seen.append)
    assert [(p.member, p.epoch) for p in seen] == [(0, 1), (0, 2)]
    assert all(p.members == 1 and p.epochs == 2 and p.val_score is not None for p in seen)
    assert all(np.isfinite(p.train_loss) for p in seen)


def test_should_stop_cancels_at_an_epoch_boundary() -> None:
    seen: list[EpochProgress] = []
    with pytest.raises(TrainingCancelled):
        Forecaster(TINY).fit(seasonal_frame(), 6, progress=seen.append, should_stop=lambda: True)
    assert len(seen) == 1


def test_time_budget_bounds_training() -> None:
    config = TINY.model_copy(update={"epochs": 10_000, "time_budget_s": 0.5, "patience": 10_000})
    model = Forecaster(config).fit(seasonal_frame(), horizon=6)
    assert 1 <= model.epochs_run < 10_000


def test_score_reports_model_and_seasonal_naive(tiny_model: Forecaster) -> None:
    scores = tiny_model.score(seasonal_frame(), n_windows=2)
    keys = {"mae", "rmse", "smape", "mase", "pinball", "msis", "coverage"}
    assert set(scores) == keys | {"skill", "seasonal_naive", "naive"}
    assert set(scores["seasonal_naive"]) == keys
    assert scores == tiny_model.metrics  # its own windows: the same numbers


def test_beats_seasonal_naive_on_a_noisy_seasonal_series() -> None:
    """Seasonal naive copies last season's noise; a model that averages seasons must beat it."""
    frame = seasonal_frame(n_series=4, length=400, noise=1.0, seed=3)
    config = ForecastConfig(
        hidden_size=16,
        num_layers=1,
        lookback=96,
        epochs=30,
        batch_size=64,
        ensemble=1,
        time_budget_s=None,
        device="cpu",
        seed=0,
    )
    horizon = 24
    history = frame.groupby("unique_id").head(-horizon)
    model = Forecaster(config).fit(history, horizon=horizon)
    forecast = model.predict()
    ours, naive = [], []
    for uid, group in frame.groupby("unique_id"):
        y = group["y"].to_numpy()
        actual, past = y[-horizon:], y[:-horizon]
        ours.append(mae(actual, forecast.loc[forecast["unique_id"] == uid, "mean"].to_numpy()))
        naive.append(mae(actual, seasonal_naive(past, horizon, 24)))
    assert np.mean(ours) < 0.85 * np.mean(naive)


def test_positive_data_is_modelled_in_log_space_and_forecasts_stay_positive(
    tiny_model: Forecaster,
) -> None:
    assert tiny_model.transform == "log"
    quantiles = tiny_model.predict()[[quantile_column(q) for q in TINY.quantiles]]
    assert (quantiles.to_numpy() > 0).all()
    history = seasonal_frame()
    history.loc[history.index[-1], "y"] = 0.0  # a zero met later is floored, not fatal
    assert np.isfinite(tiny_model.predict(history)["mean"]).all()


def test_data_with_zeros_stays_in_its_own_space_and_non_negative() -> None:
    frame = seasonal_frame()
    frame["y"] = (frame["y"] - 12.0).clip(lower=0.0)
    model = Forecaster(TINY).fit(frame, horizon=6)
    assert model.transform == "none"
    assert (model.predict()[quantile_column(0.025)] >= 0).all()
