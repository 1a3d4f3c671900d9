"""Metrics and baselines against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from forecaster.baselines import naive, seasonal_naive, seasonal_naive_interval
from forecaster.metrics import coverage, mae, mase, msis, owa, rmse, smape, summarize

Y = np.array([10.0, 20.0, 30.0])
F = np.array([12.0, 18.0, 33.0])
HISTORY = np.array([1.0, 2.0, 4.0, 7.0, 11.0])  # lag-2 differences 3, 5, 7 -> scale 5


def test_point_metrics() -> None:
    assert mae(Y, F) == pytest.approx(7 / 3)
    assert rmse(Y, F) == pytest.approx(np.sqrt(17 / 3))
    expected = 200 / 3 * (2 / 22 + 2 / 38 + 3 / 63)
    assert smape(Y, F) == pytest.approx(expected)
    assert mase(Y, F, HISTORY, m=2) == pytest.approx((7 / 3) / 5)


def test_smape_counts_zero_over_zero_as_zero() -> None:
    assert smape(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == 0.0


def test_mase_falls_back_to_lag_one_and_nan_on_flat_history() -> None:
    assert mase(Y, F, HISTORY, m=10) == pytest.approx((7 / 3) / 2.5)  # lag-1 diffs 1,2,3,4
    assert np.isnan(mase(Y, F, np.ones(5), m=2))


def test_msis_and_coverage() -> None:
    lower, upper = np.array([9.0, 21.0, 25.0]), np.array([11.0, 25.0, 29.0])
    alpha = 0.05
    # widths 2, 4, 4; misses: 21 - 20 = 1 below, 30 - 29 = 1 above -> penalty 2/alpha each
    expected = (10 + 2 * (2 / alpha)) / 3 / 5
    assert msis(Y, lower, upper, HISTORY, 2, alpha) == pytest.approx(expected)
    assert coverage(Y, lower, upper) == pytest.approx(1 / 3)


def test_owa_of_naive2_is_one() -> None:
    assert owa(18.383, 2.395, 18.383, 2.395) == pytest.approx(1.0)
    assert owa(9.1915, 1.1975, 18.383, 2.395) == pytest.approx(0.5)


def test_summarize_averages_over_series_and_skips_nan() -> None:
    scores = summarize([Y, Y], [F, Y], ([F, Y], [F, Y]), [HISTORY, np.ones(5)], m=2, alpha=0.05)
    assert scores["mae"] == pytest.approx(7 / 6)
    assert scores["mase"] == pytest.approx((7 / 3) / 5)  # the flat history's NaN is skipped
    assert scores["coverage"] == pytest.approx(0.5)


def test_baselines() -> None:
    history = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(naive(history, 3), [5.0, 5.0, 5.0])
    np.testing.assert_array_equal(seasonal_naive(history, 5, 2), [4.0, 5.0, 4.0, 5.0, 4.0])
    np.testing.assert_array_equal(seasonal_naive(history, 2, 10), [5.0, 5.0])


def test_seasonal_naive_interval_widens_each_season() -> None:
    history = np.array([0.0, 10.0, 1.0, 11.0, 0.0, 10.0])  # lag-2 residuals 1, 1, -1, -1: sigma 1
    lower, upper = seasonal_naive_interval(history, 4, 2, 0.95)
    half = upper - lower
    np.testing.assert_allclose(
        half / 2, 1.959964 * np.array([1, 1, np.sqrt(2), np.sqrt(2)]), rtol=1e-5
    )
    np.testing.assert_allclose((upper + lower) / 2, [0.0, 10.0, 0.0, 10.0])
