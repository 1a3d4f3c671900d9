"""forecaster.predict: a series' forecast does not depend on what shares its forward pass."""

from __future__ import annotations

import numpy as np
import pytest

from forecaster import Forecaster
from forecaster.data import Panel
from forecaster.predict import MIN_ROWS
from tests.forecaster.conftest import seasonal_frame


def _rows(panel: Panel, chosen: list[int]) -> Panel:
    return Panel(
        tuple(panel.ids[i] for i in chosen),
        tuple(panel.values[i] for i in chosen),
        tuple(panel.starts[i] for i in chosen),
        panel.freq,
    )


SERIES = 75  # more than two ROW_MULTIPLEs: rows in the scalar tail of element-wise kernels


@pytest.mark.parametrize(
    "size", [1, 2, 3, 4, 5, 13, 23, MIN_ROWS - 1, MIN_ROWS, MIN_ROWS + 1, 47, SERIES - 1]
)
def test_forecasts_are_identical_in_batches_of_any_size(tiny_model: Forecaster, size: int) -> None:
    panel = tiny_model.prepare(seasonal_frame(n_series=SERIES, seed=3))
    everything = tiny_model.forecast_panel(panel)
    chosen = [int(i) for i in np.random.default_rng(size).choice(SERIES, size, replace=False)]
    part = tiny_model.forecast_panel(_rows(panel, chosen))
    assert part.shape == (size, *everything.shape[1:])
    assert np.array_equal(part, everything[chosen])  # bit for bit, not approximately


def test_a_lone_series_equals_its_row_of_a_batch(tiny_model: Forecaster) -> None:
    panel = tiny_model.prepare(seasonal_frame(n_series=SERIES, seed=4))
    everything = tiny_model.forecast_panel(panel)
    for i in range(SERIES):
        assert np.array_equal(tiny_model.forecast_panel(_rows(panel, [i]))[0], everything[i])
