"""Split-conformal calibration: too narrow intervals are widened to their nominal coverage."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from forecaster.calibration import Calibration, fit
from forecaster.metrics import block_metrics, pointwise

LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)


def _normal_quantiles(shape: tuple[int, ...], sigma: float) -> np.ndarray:
    z = np.array([NormalDist().inv_cdf(q) for q in LEVELS])
    return np.broadcast_to(sigma * z, (*shape, len(LEVELS))).copy()


def _coverage(y: np.ndarray, forecast: np.ndarray) -> dict[str, float]:
    terms = pointwise(y[None], forecast[None], LEVELS, np.ones(y.shape[0]))
    coverage: dict[str, float] = block_metrics(terms)["coverage"]
    return coverage


def test_calibration_on_held_out_residuals_restores_nominal_coverage() -> None:
    rng = np.random.default_rng(1)
    calibrate_on, check_on = rng.normal(size=(2, 2000, 4))
    narrow = _normal_quantiles((2000, 4), sigma=0.5)  # the truth has sigma 1
    before = _coverage(check_on, narrow)
    assert before["0.8"] < 0.6
    assert before["0.95"] < 0.75
    calibration = fit(calibrate_on, narrow, LEVELS)
    assert set(calibration.factors) == {"0.8", "0.95"}
    assert calibration.factors["0.95"] == pytest.approx(2.0, rel=0.1)
    calibrated = calibration.apply(narrow, LEVELS)
    after = _coverage(check_on, calibrated)
    assert after["0.8"] == pytest.approx(0.8, abs=0.015)
    assert after["0.95"] == pytest.approx(0.95, abs=0.015)
    np.testing.assert_array_equal(calibrated[..., 2], narrow[..., 2])  # the median stays
    assert np.all(np.diff(calibrated, axis=-1) >= 0)


def test_too_few_points_leave_a_level_uncalibrated_and_json_round_trips() -> None:
    rng = np.random.default_rng(2)
    calibration = fit(rng.normal(size=(10,)), _normal_quantiles((10,), 1.0), LEVELS)
    assert set(calibration.factors) == {"0.8"}  # 95% needs at least 19 points
    assert Calibration.from_json(calibration.to_json()) == calibration
    assert calibration.to_json()["method"].startswith("split-conformal")
    assert Calibration.from_json(None).apply(np.ones((2, 5)), LEVELS).tolist() == [[1.0] * 5] * 2
