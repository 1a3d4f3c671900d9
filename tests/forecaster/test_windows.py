"""Windows: no leakage, scaling round-trip, calendar phases, lookback and patch choices."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster.config import ForecastConfig
from forecaster.data import Panel
from forecaster.nets import NetSpec
from forecaster.train import make_batch, validation_batch
from forecaster.windows import (
    MAX_SCALED_WEIGHT,
    calendar_features,
    choose_lookback,
    choose_patch,
    gather,
    loss_weights,
    pad,
    sample_windows,
    scale,
    unscale,
    window_scale,
)


def _index_panel(lengths: list[int]) -> Panel:
    """Each value is its own position (plus 1000 x series), so windows reveal what they read."""
    values = tuple(np.arange(n, dtype=float) + 1000 * i for i, n in enumerate(lengths))
    starts = tuple(pd.Timestamp("2021-01-01") for _ in lengths)
    return Panel(tuple(f"s{i}" for i in range(len(lengths))), values, starts, "h")


def test_sampled_windows_never_leak_the_target_into_the_input() -> None:
    lookback, horizon = 12, 5
    data = pad(_index_panel([40, 25, 60]))
    series, starts = sample_windows(
        data.lengths, 2000, lookback + horizon, horizon, torch.Generator()
    )
    window = gather(data.values, series, starts, lookback + horizon)
    x, y = window[:, :lookback], window[:, lookback:]
    assert torch.all(x.max(dim=1).values < y.min(dim=1).values)
    assert torch.all(y[:, 0] - x[:, -1] == 1)  # contiguous: the target starts right after
    # Training windows stay clear of the validation horizon and of the padding.
    end = starts + lookback + horizon
    assert torch.all(end <= data.lengths[series] - horizon)
    assert torch.all(window - 1000 * series[:, None] >= 0)


def _spec(lookback: int, horizon: int, patch: int = 1) -> NetSpec:
    return NetSpec("gru", 4, 1, 0.0, False, lookback, patch, 4, horizon, (0.1, 0.5, 0.9), (24.0,))


def test_validation_batch_is_each_series_last_horizon() -> None:
    panel = _index_panel([30, 20])
    batch = validation_batch(pad(panel), _spec(8, 4), torch.device("cpu"))
    assert batch.z.shape == (2, 8)
    assert batch.target.shape == (2, 4)
    # Unscaled, the target of series 1 is its last four values: 1016..1019.
    series, starts = torch.tensor([1]), torch.tensor([20 - 4 - 8])
    window = gather(pad(panel).values, series, starts, 12)
    assert window[0, 8:].tolist() == [1016.0, 1017.0, 1018.0, 1019.0]


@pytest.mark.parametrize("level", [0.0, 5.0, -3e6, 1e9])
def test_scaling_round_trips(level: float) -> None:
    torch.manual_seed(0)
    x = level + torch.randn(6, 24, dtype=torch.float64) * (abs(level) * 0.1 + 1)
    loc, spread = window_scale(x, 4)
    assert torch.all(spread > 0)
    torch.testing.assert_close(unscale(scale(x, loc, spread), loc, spread), x)
    z = torch.randn(6, 3, 5, dtype=torch.float64)  # [B, h, Q] forecasts unscale too
    back = unscale(z, loc, spread)
    torch.testing.assert_close((back - loc[:, :, None]) / spread[:, :, None], z)


def test_flat_and_zero_windows_get_a_safe_scale() -> None:
    x = torch.tensor([[0.0] * 8, [5.0] * 8])
    loc, spread = window_scale(x, 4)
    assert torch.all(spread > 0)
    assert torch.isfinite(scale(x, loc, spread)).all()


def test_loss_weights_favour_windows_that_repeat_their_season() -> None:
    t = torch.arange(48, dtype=torch.float64)
    seasonal = torch.sin(2 * torch.pi * t / 12)  # repeats itself exactly every 12 steps
    drifting = seasonal + 0.02 * t  # the same swings, but each season differs from the last
    noisy = torch.from_numpy(np.random.default_rng(0).normal(size=48))  # no season at all
    x = torch.stack([seasonal, drifting, noisy])
    _, spread = window_scale(x, 12, log_space=True)
    weight = loss_weights(x, spread, 12)
    assert float(weight.mean()) == pytest.approx(1.0)
    assert weight[0] > weight[1] > weight[2]
    # The exact repeat is capped: its seasonal term is MAX_SCALED_WEIGHT, its relative term
    # its spread over the batch's mean spread.
    relative = spread[:, 0] / spread.mean()
    raw = torch.tensor([MAX_SCALED_WEIGHT, 0.0, 0.0]) + relative
    change = (x[:, 12:] - x[:, :-12]).abs().mean(dim=1)
    raw[1:] += spread[1:, 0] / change[1:]
    torch.testing.assert_close(weight, raw / raw.mean())


def test_only_windows_in_log_space_are_weighted() -> None:
    panel = _index_panel([50, 40])
    spec = _spec(8, 4)
    assert validation_batch(pad(panel), spec, torch.device("cpu")).weight is None
    logged = replace(spec, transform="log")
    weight = validation_batch(pad(panel, "log"), logged, torch.device("cpu")).weight
    assert weight is not None
    assert weight.shape == (2,)


def test_make_batch_scales_input_and_target_alike() -> None:
    data = pad(_index_panel([50]))
    batch = make_batch(
        data, _spec(8, 4), torch.tensor([0]), torch.tensor([10]), torch.device("cpu")
    )
    # A straight line stays a straight line with the same step in the scaled space.
    steps = torch.diff(torch.cat([batch.z, batch.target], dim=1))
    torch.testing.assert_close(steps, torch.full_like(steps, float(steps[0, 0])))


def test_calendar_features_follow_the_window_start() -> None:
    phases = torch.tensor([[0.0], [6.0]], dtype=torch.float64)
    feats = calendar_features(phases, torch.tensor([6, 0]), (24.0,), lookback=8, patch=2)
    assert feats.shape == (2, 4, 2)
    torch.testing.assert_close(feats[0], feats[1])  # same absolute phase
    torch.testing.assert_close(feats[0, 0], torch.tensor([1.0, 0.0]), atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    ("season", "long_season", "horizon", "room", "expected"),
    [
        (24, 168, 48, 600, 168),  # hourly: a week
        (7, None, 14, 1000, 28),  # daily: four weeks
        (12, None, 18, 1000, 48),  # monthly: four years
        (1, None, 6, 100, 12),  # yearly: two horizons
        (24, 168, 48, 100, 100),  # capped by the shortest series
        (96, None, 96, 10**6, 384),
    ],
)
def test_lookback_rule(
    season: int, long_season: int | None, horizon: int, room: int, expected: int
) -> None:
    assert choose_lookback(season, long_season, horizon, room) == expected


@pytest.mark.parametrize(
    ("lookback", "season", "expected"),
    [(168, 24, 24), (28, 7, 1), (48, 12, 6), (384, 96, 48), (97, 24, 1)],
)
def test_patch_divides_the_lookback_and_keeps_the_encoder_short(
    lookback: int, season: int, expected: int
) -> None:
    patch = choose_patch(lookback, season, ForecastConfig().encoder_steps)
    assert patch == expected  # hourly: a day per step; no divisor of the season: the largest
    assert lookback % patch == 0
    assert lookback // patch <= 2 * 24 or patch == 1


def test_more_encoder_steps_read_finer_patches() -> None:
    assert choose_patch(168, 24, 6) == 24  # a day per step
    assert choose_patch(168, 24, 24) == 6  # 28 steps of 6 hours
    assert choose_patch(168, 24, 168) == 1


def test_log_space_round_trips_and_floors_non_positive_values() -> None:
    from forecaster.windows import from_model_space, to_model_space

    values = np.array([1.0, 10.0, 1000.0])
    back = from_model_space(torch.from_numpy(to_model_space(values, "log")), "log")
    np.testing.assert_allclose(back.numpy(), values)
    floored = to_model_space(np.array([0.0, -5.0, 100.0]), "log")
    assert np.isfinite(floored).all()
    np.testing.assert_allclose(np.exp(floored[:2]), 1e-4)
    np.testing.assert_array_equal(to_model_space(values, "none"), values)


def test_short_series_are_padded_on_the_left_with_their_first_value() -> None:
    panel = _index_panel([3, 6])
    data = pad(panel, min_length=5)
    assert data.lengths.tolist() == [5, 6]
    assert data.values[0].tolist() == [0.0, 0.0, 0.0, 1.0, 2.0, 0.0]  # 2 pads, 3 values, 1 tail
    assert data.values[1].tolist() == [1000.0 + i for i in range(6)]
    # The padded series' first slot lies two steps before its real first point.
    torch.testing.assert_close(data.phases[0] + 2, data.phases[1])
