"""Metrics and baselines against hand-computed values."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from forecaster import metrics
from forecaster.baselines import (
    naive,
    seasonal_naive,
    seasonal_naive_interval,
    seasonal_naive_quantiles,
)
from forecaster.metrics import (
    block_metrics,
    central_intervals,
    coverage,
    mae,
    mase,
    msis,
    owa,
    pointwise,
    rmse,
    smape,
)

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


LEVELS = (0.1, 0.5, 0.9)
# One window, two series, two steps; quantiles (0.1, 0.5, 0.9) per point.
ACTUAL = np.array([[[1.0, 3.0], [2.0, 2.0]]])
QUANTILES = np.array([[[[0.0, 2.0, 4.0], [1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0], [0.0, 1.0, 1.5]]]])
SCALE = np.array([1.0, 2.0])


def test_block_metrics_equal_a_hand_computation() -> None:
    scores = block_metrics(pointwise(ACTUAL, QUANTILES, LEVELS, SCALE))
    # errors y - median: series A -1, 1; series B 0, 1
    assert scores["mae"] == pytest.approx(0.75)
    assert scores["rmse"] == pytest.approx(np.sqrt(0.75))
    assert scores["smape"] == pytest.approx((200 / 3 + 200 / 5 + 0 + 200 / 3) / 4)
    assert scores["mase"] == pytest.approx((1 / 1 + 1 / 1 + 0 / 2 + 1 / 2) / 4)
    # pinball per point, mean over the three levels, divided by the series' scale
    a1 = (0.1 * 1 + 0.5 * 1 + 0.1 * 3) / 3
    a2 = (0.1 * 2 + 0.5 * 1 + 0.9 * 0) / 3
    b1 = (0.1 * 1 + 0 + 0.1 * 1) / 3 / 2
    b2 = (0.1 * 2 + 0.5 * 1 + 0.9 * 0.5) / 3 / 2
    assert scores["pinball"] == pytest.approx((a1 + a2 + b1 + b2) / 4)
    assert scores["coverage"] == {"0.8": pytest.approx(0.75)}  # B's second point is above 1.5
    # MSIS of the 80% interval: widths 4, 2, 2/2 and (1.5 + 10 x 0.5) / 2
    assert scores["msis"] == pytest.approx((4 + 2 + 1 + 3.25) / 4)


def test_block_metrics_by_step_and_window_and_skipping_flat_series() -> None:
    terms = pointwise(ACTUAL, QUANTILES, LEVELS, np.array([1.0, 0.0]))
    by_step = block_metrics(terms, axis=(0, 1))
    np.testing.assert_allclose(by_step["mae"], [0.5, 1.0])
    np.testing.assert_allclose(by_step["mase"], [1.0, 1.0])  # series B has no scale: skipped
    assert block_metrics(terms)["mase"] == pytest.approx(1.0)


def test_central_intervals_pair_the_quantiles() -> None:
    levels = (0.025, 0.1, 0.5, 0.7, 0.9, 0.975)
    assert central_intervals(levels) == [("0.95", 0, 5), ("0.8", 1, 4)]


def test_coverage_of_a_known_distribution() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=(1, 4000, 5))
    levels = (0.025, 0.1, 0.5, 0.9, 0.975)
    exact = np.array([NormalDist().inv_cdf(q) for q in levels])
    forecast = np.broadcast_to(exact, (*y.shape, 5))
    coverage_by = block_metrics(pointwise(y, forecast, levels, np.ones(4000)))["coverage"]
    assert coverage_by["0.8"] == pytest.approx(0.8, abs=0.01)
    assert coverage_by["0.95"] == pytest.approx(0.95, abs=0.01)


def test_seasonal_naive_quantiles_match_the_interval() -> None:
    history = np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0])
    quantiles = seasonal_naive_quantiles(history, 4, 2, (0.025, 0.5, 0.975))
    lower, upper = seasonal_naive_interval(history, 4, 2, 0.95)
    np.testing.assert_allclose(quantiles[:, 0], lower)
    np.testing.assert_allclose(quantiles[:, 1], seasonal_naive(history, 4, 2))
    np.testing.assert_allclose(quantiles[:, 2], upper)


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


@pytest.mark.parametrize("n_levels", [5, 19])  # 19: numpy sums pairwise from 8 terms
def test_pinball_per_block_of_series_equals_the_whole(
    n_levels: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(0)
    levels = tuple(float(v) for v in np.round(np.linspace(0.05, 0.95, n_levels), 6))  # 0.5 in
    actual = rng.normal(size=(2, 7, 4))
    forecast = np.sort(rng.normal(size=(2, 7, 4, n_levels)), axis=-1)
    whole = pointwise(actual, forecast, levels, np.ones(7))["pinball"]
    monkeypatch.setattr(metrics, "PINBALL_BLOCK", 3)  # blocks of 3, 3 and 1 series
    blocked = pointwise(actual, forecast, levels, np.ones(7))["pinball"]
    np.testing.assert_array_equal(blocked, whole)
