"""The CUDA path: bf16 autocast training and inference; artifacts move between devices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from forecaster import Forecaster, quantile_column

from .conftest import TINY, seasonal_frame

pytestmark = pytest.mark.gpu


def test_fits_and_predicts_on_cuda_with_bf16(tmp_path: Path) -> None:
    model = Forecaster(TINY.model_copy(update={"device": "cuda"})).fit(seasonal_frame(), 6)
    assert model.device.startswith("cuda")
    out = model.predict()
    quantiles = out[[quantile_column(q) for q in TINY.quantiles]].to_numpy()
    assert np.isfinite(quantiles).all()
    assert np.all(np.diff(quantiles, axis=1) >= 0)
    model.save(tmp_path / "m")
    on_cpu = Forecaster.load(tmp_path / "m", device="cpu").predict()
    # bf16 on the GPU against fp32 on the CPU: close, not identical.
    np.testing.assert_allclose(on_cpu["mean"], out["mean"], rtol=0.05, atol=0.5)


def test_same_seed_same_cuda_forecast() -> None:
    config = TINY.model_copy(update={"device": "cuda"})
    first = Forecaster(config).fit(seasonal_frame(), 6).predict()
    second = Forecaster(config).fit(seasonal_frame(), 6).predict()
    np.testing.assert_allclose(first["mean"], second["mean"], rtol=1e-4)
