"""forecaster.predict: a series' forecast does not depend on what shares its forward pass."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

import forecaster.predict
from forecaster import Forecaster
from forecaster.data import Panel
from forecaster.nets import NetSpec, QuantileRNN
from forecaster.predict import MIN_ROWS, forecast_panel
from tests.forecaster.conftest import seasonal_frame


def _rows(panel: Panel, chosen: list[int]) -> Panel:
    return Panel(
        tuple(panel.ids[i] for i in chosen),
        tuple(panel.values[i] for i in chosen),
        tuple(panel.starts[i] for i in chosen),
        panel.freq,
    )


SERIES = 75  # many ROW_MULTIPLEs and not a multiple of one


SIZES = [1, 2, 3, 4, 5, 8, 9, 13, 23, MIN_ROWS - 1, MIN_ROWS, MIN_ROWS + 1, 31, 32, 33, 47, 74]


@pytest.mark.parametrize("size", SIZES)
def test_forecasts_are_identical_in_batches_of_any_size(tiny_model: Forecaster, size: int) -> None:
    panel = tiny_model.prepare(seasonal_frame(n_series=SERIES, seed=3))
    everything = tiny_model.forecast_panel(panel)
    chosen = [int(i) for i in np.random.default_rng(size).choice(SERIES, size, replace=False)]
    part = tiny_model.forecast_panel(_rows(panel, chosen))
    assert part.shape == (size, *everything.shape[1:])
    assert np.array_equal(part, everything[chosen])  # bit for bit, not approximately


DEFAULT_SHAPE = NetSpec(
    cell="gru",
    hidden_size=64,
    num_layers=1,
    dropout=0.1,
    bidirectional=False,
    lookback=168,
    patch=24,  # a day per encoder step (ForecastConfig.encoder_steps)
    season=24,
    horizon=24,
    levels=(0.025, 0.1, 0.5, 0.9, 0.975),
    periods=(24.0, 168.0),
    transform="log",
)


@pytest.mark.parametrize("patch", [24, 6])  # the default's; versions stored before it, quick
@pytest.mark.parametrize("size", SIZES)
def test_three_members_of_the_default_shape_give_the_same_bits_in_any_batch(
    size: int, patch: int
) -> None:
    """The served network's shape (the tiny model's kernels may take other paths)."""
    torch.manual_seed(0)
    shape = replace(DEFAULT_SHAPE, patch=patch)
    nets = [QuantileRNN(shape).eval() for _ in range(3)]
    rng = np.random.default_rng(size)
    starts = tuple(pd.Timestamp("2024-01-01") + pd.Timedelta(hours=int(h)) for h in range(SERIES))
    values = tuple(50 + 10 * rng.random(200) for _ in range(SERIES))
    panel = Panel(tuple(f"s{i}" for i in range(SERIES)), values, starts, "h")
    everything = forecast_panel(nets, shape, panel, torch.device("cpu"))
    chosen = [int(i) for i in rng.choice(SERIES, size, replace=False)]
    part = forecast_panel(nets, shape, _rows(panel, chosen), torch.device("cpu"))
    assert np.array_equal(part, everything[chosen])


def test_a_lone_series_equals_its_row_of_a_batch(tiny_model: Forecaster) -> None:
    panel = tiny_model.prepare(seasonal_frame(n_series=SERIES, seed=4))
    everything = tiny_model.forecast_panel(panel)
    for i in range(SERIES):
        assert np.array_equal(tiny_model.forecast_panel(_rows(panel, [i]))[0], everything[i])


def test_passes_of_min_rows_give_the_numbers_of_passes_padded_to_32_rows(
    tiny_model: Forecaster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The padding bound was 32 rows; the smaller one changes no answer's bits."""
    panel = tiny_model.prepare(seasonal_frame(n_series=SERIES, seed=5))
    lone = [tiny_model.forecast_panel(_rows(panel, [i])) for i in range(3)]
    some = tiny_model.forecast_panel(_rows(panel, list(range(11))))
    monkeypatch.setattr(forecaster.predict, "ROW_MULTIPLE", 32)
    monkeypatch.setattr(forecaster.predict, "MIN_ROWS", 32)
    for i in range(3):
        assert np.array_equal(lone[i], tiny_model.forecast_panel(_rows(panel, [i])))
    assert np.array_equal(some, tiny_model.forecast_panel(_rows(panel, list(range(11)))))
