"""The backtest expectation live accuracy is compared with, before and after versions carry a
``backtest``, and the drift rule."""

from __future__ import annotations

from models.live_accuracy import backtest_expectation, is_drifting
from models.tables import ModelVersion


def test_the_expectation_reads_a_versions_backtest_when_it_has_one() -> None:
    backtest = {
        "windows": [],
        "metrics": {"mase": 0.7, "smape": 9.0, "coverage": {"0.8": 0.79, "0.95": 0.94}},
    }
    version = ModelVersion(metrics={"mase": 0.5, "backtest": backtest})
    assert backtest_expectation(version) == {
        "mase": 0.7,
        "smape": 9.0,
        "coverage": {"0.8": 0.79, "0.95": 0.94},
    }


def test_without_a_backtest_it_falls_back_to_the_stored_metrics() -> None:
    version = ModelVersion(metrics={"mase": 0.5, "smape": 7.5, "coverage_95": 0.9})
    assert backtest_expectation(version) == {
        "mase": 0.5,
        "smape": 7.5,
        "coverage": {"0.8": None, "0.95": 0.9},
    }
    assert backtest_expectation(ModelVersion(metrics={}))["mase"] is None


def test_drift_is_live_mase_above_the_ratio_times_the_promise() -> None:
    assert is_drifting(1.51, 1.0, 1.5)
    assert not is_drifting(1.5, 1.0, 1.5)
    assert not is_drifting(None, 1.0, 1.5)
    assert not is_drifting(3.0, None, 1.5)
