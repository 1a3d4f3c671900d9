"""Networks with covariates: what they learn, what they keep, which windows they read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster import CovariateError, CovariateSpec, ForecastConfig, Forecaster
from forecaster.backtest import evaluate
from forecaster.data import prepare
from forecaster.features import fit_features
from forecaster.nets import QuantileRNN
from forecaster.quick import baseline_forecast, quick_forecast
from forecaster.train import make_batch
from forecaster.windows import pad
from tests.forecaster.conftest import TINY, seasonal_frame

LIFT = 20.0  # what a promotion adds to demand
HORIZON = 7
PROMO = CovariateSpec(future=("promo",), static=("store",), categorical=("store",))
CONFIG = ForecastConfig(
    hidden_size=16,
    lookback=28,
    epochs=40,
    patience=40,
    batch_size=64,
    learning_rate=5e-3,
    ensemble=1,
    time_budget_s=None,
    device="cpu",
    backtest_windows=1,
)


def promo_frame(n_series: int = 8, length: int = 250, ahead: int = HORIZON) -> pd.DataFrame:
    """Daily demand: a weekly pattern, noise, and LIFT on promoted days (about one in eight);
    the last ``ahead`` rows of each series are future rows (no y, promotions known)."""
    rng = np.random.default_rng(7)
    frames = []
    for i in range(n_series):
        t = np.arange(length + ahead)
        promo = (rng.random(len(t)) < 0.125).astype(float)
        y = 50.0 + 3 * i + 4 * np.sin(2 * np.pi * t / 7) + LIFT * promo + rng.normal(0, 1, len(t))
        y[length:] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2023-01-01", periods=len(t), freq="D"),
                    "y": y,
                    "promo": promo,
                    "store": f"store{i % 3}",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def promo_model() -> Forecaster:
    torch.set_num_threads(1)
    return Forecaster(CONFIG).fit(promo_frame(), horizon=HORIZON, covariates=PROMO)


def _future(frame: pd.DataFrame, promoted_step: int | None) -> pd.DataFrame:
    rows = frame[frame["y"].isna()][["unique_id", "ds"]].copy()
    step = rows.groupby("unique_id").cumcount() + 1
    rows["promo"] = (step == promoted_step).astype(float)
    return rows


def test_a_promotion_moves_its_own_step_by_about_its_lift(promo_model: Forecaster) -> None:
    frame = promo_frame()
    plain = promo_model.predict(frame, future=_future(frame, None))
    promoted = promo_model.predict(frame, future=_future(frame, 5))
    lift = (promoted["mean"] - plain["mean"]).to_numpy().reshape(-1, HORIZON)  # [S, h]
    assert np.all(lift[:, 4] > 0.7 * LIFT)
    assert np.all(lift[:, 4] < 1.3 * LIFT)
    others = np.delete(lift, 4, axis=1)
    np.testing.assert_allclose(others, 0.0, atol=1e-9)  # a step reads only its own values


def test_the_forecast_beats_the_same_network_without_covariates(promo_model: Forecaster) -> None:
    plain = Forecaster(CONFIG).fit(promo_frame()[["unique_id", "ds", "y"]], horizon=HORIZON)
    assert promo_model.metrics["mase"] < 0.7 * plain.metrics["mase"]


def test_without_future_values_the_training_frames_future_rows_are_used(
    promo_model: Forecaster,
) -> None:
    frame = promo_frame()
    given = promo_model.predict(
        frame, future=frame[frame["y"].isna()][["unique_id", "ds", "promo"]]
    )
    pd.testing.assert_frame_equal(promo_model.predict(), given)
    pd.testing.assert_frame_equal(promo_model.predict(frame), given)


def test_save_and_load_keep_the_feature_spec_and_the_forecasts(
    promo_model: Forecaster, tmp_path: Path
) -> None:
    promo_model.save(tmp_path)
    loaded = Forecaster.load(tmp_path)
    assert loaded.features == promo_model.features
    assert loaded.covariates == PROMO
    assert loaded.features is not None
    assert loaded.features.vocab == {"store": ("store0", "store1", "store2")}
    pd.testing.assert_frame_equal(loaded.predict(), promo_model.predict())
    frame = promo_frame()
    future = _future(frame, 3)
    pd.testing.assert_frame_equal(
        loaded.predict(frame, future=future), promo_model.predict(frame, future=future)
    )


def test_an_unseen_category_takes_the_unknown_slot(promo_model: Forecaster) -> None:
    frame = promo_frame()
    renamed = frame.assign(store=frame["store"].replace("store1", "brand-new"))
    forecast = promo_model.predict(renamed)
    assert np.isfinite(forecast["mean"]).all()
    unknown = promo_model.features
    assert unknown is not None
    assert "brand-new" not in unknown.vocab["store"]
    changed = forecast["unique_id"].isin(["s1", "s4", "s7"])  # the series of store1
    before = promo_model.predict(frame)
    assert (forecast["mean"] != before["mean"])[changed].all()
    pd.testing.assert_series_equal(forecast["mean"][~changed], before["mean"][~changed])


def test_the_backtest_reads_each_windows_own_covariates(promo_model: Forecaster) -> None:
    frame = promo_frame()
    panel = promo_model.prepare(frame, horizon=0)
    offsets = [2 * HORIZON, HORIZON]
    scored = evaluate(promo_model, panel, offsets)
    for w, offset in enumerate(offsets):
        history = frame[frame["y"].notna()].groupby("unique_id").head(250 - offset)
        future = (
            frame[frame["y"].notna()]
            .groupby("unique_id")
            .nth(list(range(250 - offset, 250 - offset + HORIZON)))[["unique_id", "ds", "promo"]]
        )
        direct = promo_model.predict(history, future=future)
        np.testing.assert_allclose(
            scored.forecast[w, :, :, 2], direct["q0.5"].to_numpy().reshape(-1, HORIZON)
        )
    actual_promos = panel.covariates.real[0][250 - HORIZON : 250, 0]  # type: ignore[union-attr]
    assert actual_promos.any()  # the window's promotions matter to the check above


def test_training_windows_of_covariates_line_up_with_the_values() -> None:
    frame = seasonal_frame(n_series=3, length=80)
    frame["clock"] = frame.groupby("unique_id").cumcount().astype(float)  # = position
    spec = CovariateSpec(future=("clock",))
    frame["y"] = frame["clock"] + 1.0  # strictly positive, and a known function of it
    panel = prepare(frame, covariates=spec)
    features = fit_features(panel, spec, None)
    assert features is not None
    config = TINY.model_copy(update={"lookback": 12})
    from forecaster.estimator import _plan

    net_spec = _plan(config, panel, 6, features)
    data = pad(panel, "none", 12 + 12, features)
    series, starts = torch.tensor([0, 1, 2, 2]), torch.tensor([0, 5, 30, 62])
    batch = make_batch(data, net_spec, series, starts, torch.device("cpu"))
    assert batch.covariates is not None
    clock = batch.covariates.real[..., 0].double() * features.spread[0] + features.center[0]
    window = torch.cat([batch.z, batch.target], dim=1)  # both scaled by the input's statistics
    expected = starts[:, None].double() + torch.arange(18)
    torch.testing.assert_close(clock, expected, rtol=0, atol=1e-4)
    raw = data.values[series[:, None], starts[:, None] + torch.arange(18)]
    torch.testing.assert_close(raw.double() - 1.0, expected, rtol=0, atol=1e-4)
    assert window.shape == (4, 18)


def test_no_covariates_create_no_covariate_parameters() -> None:
    plain = Forecaster(TINY).fit(seasonal_frame(), horizon=6)
    empty = Forecaster(TINY).fit(seasonal_frame(), horizon=6, covariates=CovariateSpec())
    net = plain._nets[0]
    assert isinstance(net, QuantileRNN)
    assert net.covariates is None
    assert plain.features is None
    assert plain.n_params == empty.n_params
    pd.testing.assert_frame_equal(plain.predict(), empty.predict())  # bit for bit


def test_a_shorter_horizon_needs_only_its_own_future_steps(promo_model: Forecaster) -> None:
    frame = promo_frame()
    future = _future(frame, 2)
    full = promo_model.predict(frame, future=future)
    first = future.groupby("unique_id").head(3)
    short = promo_model.predict(frame, horizon=3, future=first)
    expected = full.groupby("unique_id").head(3).reset_index(drop=True)
    pd.testing.assert_frame_equal(short, expected)
    with pytest.raises(CovariateError) as caught:
        promo_model.predict(frame, horizon=4, future=first)
    assert caught.value.timestamp == pd.Timestamp(frame["ds"].max()) - pd.Timedelta(days=3)


def test_the_quick_path_takes_covariates_and_its_baseline_ignores_them() -> None:
    frame = promo_frame(n_series=3, length=120)
    config = TINY.model_copy(update={"lookback": 14, "backtest_windows": 1})
    answer = quick_forecast(frame, HORIZON, config, covariates=PROMO)
    assert len(answer.prediction) == 3 * HORIZON
    assert answer.prediction["ds"].min() == pd.Timestamp("2023-01-01") + pd.Timedelta(days=120)
    method, baseline = baseline_forecast(frame, HORIZON)
    assert method == "seasonal_naive"
    assert baseline["ds"].tolist() == answer.prediction["ds"].tolist()


def test_ensemble_members_train_together_with_covariates(tmp_path: Path) -> None:
    frame = seasonal_frame()
    frame["temp"] = np.cos(np.arange(len(frame)) / 5.0)
    frame["region"] = np.where(frame["unique_id"] == "s0", "north", "south")
    spec = CovariateSpec(past=("temp",), static=("region",), categorical=("region",))
    model = Forecaster(TINY.model_copy(update={"ensemble": 2})).fit(
        frame, horizon=6, covariates=spec
    )
    assert len(model._nets) == 2
    first, second = (dict(net.named_parameters()) for net in model._nets)
    assert not torch.equal(first["covariates.step.0.weight"], second["covariates.step.0.weight"])
    model.save(tmp_path)
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path).predict(frame), model.predict(frame))
