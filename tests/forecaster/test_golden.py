"""A model trained without covariates and holidays forecasts exactly as before covariates existed.

``data/golden_no_covariates.json`` was recorded on the code before covariates were added (same
seed, no time budget, one thread), and recorded again, on purpose, when windows in log space
began to weigh in the loss (``forecaster.windows.loss_weights``) and encoder steps widened to
whole seasons (``forecaster.windows.choose_patch``). Any change to the parameters, their
initialisation order or the random draws of the no-covariate path moves these numbers far
beyond the tolerance, which only absorbs a different CPU's last bits. Regenerate (on purpose
only) with ``python -m tests.forecaster.test_golden``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from forecaster import ForecastConfig, Forecaster
from tests.forecaster.conftest import TINY, seasonal_frame

GOLDEN = Path(__file__).parent / "data" / "golden_no_covariates.json"
CASES = {
    "single": TINY.model_copy(update={"epochs": 3}),
    "pair": TINY.model_copy(update={"ensemble": 2}),
}


def golden_forecasts() -> dict[str, list[list[float]]]:
    """The forecast columns of each case, series after series."""
    torch.set_num_threads(1)
    out = {}
    for name, config in CASES.items():
        frame = Forecaster(config).fit(seasonal_frame(), horizon=6).predict()
        out[name] = frame.drop(columns=["unique_id", "ds"]).to_numpy().tolist()
    return out


def _config(name: str) -> ForecastConfig:
    return CASES[name]


def test_no_covariate_forecasts_match_the_recorded_golden() -> None:
    recorded = json.loads(GOLDEN.read_text())
    for name, values in golden_forecasts().items():
        np.testing.assert_allclose(np.array(values), np.array(recorded[name]), rtol=1e-6, atol=0)


def test_golden_frame_has_the_usual_columns() -> None:
    frame = Forecaster(_config("single")).fit(seasonal_frame(), horizon=6).predict()
    assert list(frame.columns) == [
        "unique_id",
        "ds",
        "mean",
        "q0.025",
        "q0.1",
        "q0.5",
        "q0.9",
        "q0.975",
    ]
    assert frame["ds"].iloc[0] == pd.Timestamp("2021-01-06")


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(golden_forecasts()))
