"""Held-out backtests: windows no training target or early stopping touched, the baselines on the
same windows, and scoring a stored version only after its training cut-off."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster import Forecaster, NoHeldOutDataError
from forecaster import train as train_module
from forecaster.backtest import evaluate, own_offsets

from .conftest import TINY, seasonal_frame

METRICS = {"mae", "rmse", "smape", "mase", "pinball", "msis", "coverage"}


def test_every_version_carries_its_backtest(tiny_model: Forecaster) -> None:
    report = tiny_model.backtest_report
    assert report is not None
    assert [w["points_from_end"] for w in report["windows"]] == [12, 6]
    assert set(report["metrics"]) == METRICS
    assert set(report["metrics"]["coverage"]) == {"0.8", "0.95"}
    assert set(report["baselines"]) == {"seasonal_naive", "naive"}
    assert set(report["baselines"]["seasonal_naive"]) == METRICS
    assert len(report["by_step"]["mase"]) == 6
    mase, naive = report["metrics"]["mase"], report["baselines"]["seasonal_naive"]["mase"]
    assert report["skill"]["mase"] == pytest.approx(1 - mase / naive)
    for window in report["windows"]:
        assert set(window["metrics"]) == METRICS
        assert pd.Timestamp(window["cutoff"]) >= max(tiny_model.cutoffs.values())
    assert tiny_model.metrics["mase"] == mase
    assert tiny_model.metrics["seasonal_naive"]["mase"] == naive


def test_overall_mase_is_the_mean_of_the_windows(tiny_model: Forecaster) -> None:
    report = tiny_model.backtest_report
    assert report is not None
    windows = [w["metrics"]["mase"] for w in report["windows"]]
    assert report["metrics"]["mase"] == pytest.approx(np.mean(windows))
    assert report["metrics"]["mase"] == pytest.approx(np.mean(report["by_step"]["mase"]))


def test_no_backtest_timestamp_is_a_training_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each value encodes its (series, step), so every gathered target can be traced back."""
    horizon, windows = 6, 2
    lengths = [120, 127, 134]
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"s{i}",
                "ds": pd.date_range("2021-01-01", periods=n, freq="h"),
                "y": 1000.0 * i + np.arange(n) - 500.0,  # negatives: no log transform
            }
        )
        for i, n in enumerate(lengths)
    ]
    targets: list[torch.Tensor] = []
    real_gather = train_module.gather

    def recording_gather(
        values: torch.Tensor, series: torch.Tensor, starts: torch.Tensor, width: int
    ) -> torch.Tensor:
        out = real_gather(values, series, starts, width)
        targets.append(out[:, -horizon:].reshape(-1).clone())
        return out

    monkeypatch.setattr(train_module, "gather", recording_gather)
    model = Forecaster(TINY).fit(pd.concat(frames), horizon=horizon)
    assert model.transform == "none"
    assert targets, "training gathered no windows through forecaster.train.gather"
    seen = torch.cat(targets).double().numpy() + 500.0
    series, step = np.floor(seen / 1000.0).astype(int), np.round(seen % 1000.0).astype(int)
    held_out = np.array(lengths)[series] - windows * horizon
    assert np.all(step < held_out)  # no target inside a backtest window
    assert np.any(step >= held_out - horizon)  # the validation horizon just before them is
    for i, n in enumerate(lengths):
        first_backtest = pd.Timestamp("2021-01-01") + pd.Timedelta(hours=n - windows * horizon)
        assert model.cutoffs[f"s{i}"] == first_backtest - pd.Timedelta(hours=1)


def test_backtest_of_the_training_data_scores_its_own_windows(tiny_model: Forecaster) -> None:
    report = tiny_model.backtest(seasonal_frame())
    assert tiny_model.backtest_report is not None
    assert report["windows"] == tiny_model.backtest_report["windows"]
    with pytest.raises(ValueError, match="n_windows"):
        tiny_model.backtest(seasonal_frame(), n_windows=0)


def test_a_version_without_backtest_is_scored_only_on_new_points() -> None:
    frame = seasonal_frame()
    model = Forecaster(TINY.model_copy(update={"backtest_windows": 0})).fit(frame, horizon=6)
    assert model.backtest_report is None
    assert model.metrics == {}
    cutoff = model.cutoffs["s0"]  # the last point of s0: it trained on everything
    with pytest.raises(NoHeldOutDataError, match=cutoff.isoformat()) as info:
        model.backtest(frame)
    assert (info.value.series, info.value.cutoff) == ("s0", cutoff.isoformat())
    report = model.backtest(seasonal_frame(length=134), n_windows=5)
    assert [w["points_from_end"] for w in report["windows"]] == [12, 6]  # 14 new: two fit
    assert report["training_cutoff"] == max(model.cutoffs.values()).isoformat()


def test_evaluate_reuses_forecasts_for_fewer_windows_and_steps(tiny_model: Forecaster) -> None:
    panel = tiny_model.prepare(seasonal_frame())
    full = evaluate(tiny_model, panel, own_offsets(6, 2))
    short = evaluate(tiny_model, panel, [6], steps=4, scale=full.scale)
    part = full.subset([1], 4)
    np.testing.assert_allclose(part.forecast, short.forecast)
    np.testing.assert_allclose(part.actual, short.actual)
    ours, theirs = part.report()["metrics"], short.report()["metrics"]
    assert ours["coverage"] == theirs["coverage"]
    assert {k: ours[k] for k in ours if k != "coverage"} == pytest.approx(
        {k: theirs[k] for k in theirs if k != "coverage"}
    )


def test_a_loaded_version_keeps_its_backtest_calibration_and_cut_offs(
    tiny_model: Forecaster, tmp_path: Path
) -> None:
    tiny_model.save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["calibration"]["method"].startswith("split-conformal")
    assert manifest["training_cutoff"]["held_out_points"] == 12
    loaded = Forecaster.load(tmp_path)
    assert loaded.backtest_report == tiny_model.backtest_report
    assert loaded.calibration == tiny_model.calibration
    assert loaded.cutoffs == tiny_model.cutoffs
    assert loaded.backtest(seasonal_frame())["windows"] == tiny_model.backtest_report["windows"]  # type: ignore[index]
