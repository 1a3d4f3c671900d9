"""The network: shapes, monotone quantiles, the seasonal-naive start, learning one batch."""

from __future__ import annotations

import pytest
import torch

from forecaster.nets import NetSpec, QuantileRNN, count_parameters, pinball


def _spec(cell: str = "gru", bidirectional: bool = False, layers: int = 2) -> NetSpec:
    return NetSpec(
        cell=cell,
        hidden_size=8,
        num_layers=layers,
        dropout=0.1,
        bidirectional=bidirectional,
        lookback=24,
        patch=4,
        season=12,
        horizon=6,
        levels=(0.025, 0.1, 0.5, 0.9, 0.975),
        periods=(24.0, 168.0),
    )


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_output_shape_and_monotone_quantiles(cell: str, bidirectional: bool) -> None:
    torch.manual_seed(0)
    net = QuantileRNN(_spec(cell, bidirectional))
    for p in net.parameters():  # large random weights: monotonicity must not depend on training
        torch.nn.init.normal_(p, std=3.0)
    z, cal = torch.randn(16, 24) * 5, torch.randn(16, 6, 4)
    out = net(z, cal)
    assert out.shape == (16, 6, 5)
    assert torch.all(torch.diff(out, dim=-1) >= 0)
    assert count_parameters(net) > 0


def test_untrained_median_is_the_seasonal_naive_forecast_plus_a_learnt_correction() -> None:
    net = QuantileRNN(_spec())
    z = torch.randn(3, 24)
    baseline = net.baseline(z)
    torch.testing.assert_close(baseline, torch.cat([z[:, -12:], z[:, -12:]], dim=1)[:, :6])
    torch.testing.assert_close(net.highway(z), torch.zeros(3, 6))  # the highway starts at zero


def test_pinball_loss_hand_computed() -> None:
    levels = torch.tensor([0.1, 0.5, 0.9])
    pred = torch.tensor([[[0.0, 1.0, 2.0]]])
    target = torch.tensor([[1.0]])
    # diffs 1, 0, -1 -> 0.1*1, 0, (0.9-1)*(-1) = 0.1 -> mean 0.2/3
    assert float(pinball(pred, target, levels)) == pytest.approx(0.2 / 3)


def test_weighted_pinball_is_the_weighted_mean_of_the_windows_losses() -> None:
    levels = torch.tensor([0.5])
    pred = torch.zeros(2, 1, 1)
    target = torch.tensor([[2.0], [4.0]])  # window losses 1.0 and 2.0
    assert float(pinball(pred, target, levels)) == pytest.approx(1.5)
    assert float(pinball(pred, target, levels, torch.tensor([3.0, 1.0]))) == pytest.approx(1.25)


def test_overfits_one_batch() -> None:
    torch.manual_seed(0)
    net = QuantileRNN(_spec(layers=1))
    z, cal, target = torch.randn(32, 24), torch.randn(32, 6, 4), torch.randn(32, 6)
    levels = torch.tensor(net.spec.levels)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    first = float(pinball(net(z, cal), target, levels).detach())
    for _ in range(150):
        loss = pinball(net(z, cal), target, levels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < 0.3 * first


def test_spec_round_trips_through_json() -> None:
    spec = _spec("lstm", True)
    assert NetSpec.from_json(spec.to_json()) == spec


def test_the_encoder_sees_each_point_minus_the_point_one_season_earlier() -> None:
    net = QuantileRNN(_spec())
    z = torch.arange(24.0).repeat(2, 1)  # season 12: every change over a season is 12
    change = net.seasonal_change(z)
    assert change.shape == (2, 24)
    torch.testing.assert_close(change[:, :12], torch.zeros(2, 12))  # no earlier season known
    torch.testing.assert_close(change[:, 12:], torch.full((2, 12), 12.0))
