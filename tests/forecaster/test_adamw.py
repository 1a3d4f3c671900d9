"""AdamW without torch.optim: the same weights, bit for bit, as torch.optim.AdamW."""

from __future__ import annotations

import pytest
import torch

from forecaster.adamw import AdamW
from forecaster.nets import NetSpec, QuantileRNN

SPEC = NetSpec(
    cell="gru",
    hidden_size=8,
    num_layers=2,
    dropout=0.1,
    bidirectional=False,
    lookback=24,
    patch=4,
    season=12,
    horizon=6,
    levels=(0.1, 0.5, 0.9),
    periods=(24.0,),
)


def _nets(seed: int) -> list[QuantileRNN]:
    torch.manual_seed(seed)
    return [QuantileRNN(SPEC) for _ in range(2)]


def _train(nets: list[QuantileRNN], ours: bool, foreach: bool | None = None) -> None:
    params = [p for net in nets for p in net.parameters()]
    optimizer: AdamW | torch.optim.AdamW
    if ours:
        optimizer = AdamW(params, lr=1e-2, weight_decay=1e-4)
    else:
        optimizer = torch.optim.AdamW(params, lr=1e-2, weight_decay=1e-4, foreach=foreach)
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)  # dropout's draws
    spec = SPEC
    for step in range(12):
        lr = 1e-2 * (step + 1) / 12  # a schedule: the rate changes every step
        if isinstance(optimizer, AdamW):
            optimizer.lr = lr
        else:
            optimizer.param_groups[0]["lr"] = lr
        optimizer.zero_grad()
        active = nets if step % 3 else nets[:1]  # the second member sits out some steps
        z = torch.randn(4, spec.lookback, generator=generator)
        calendar = torch.randn(
            4, spec.lookback // spec.patch, 2 * len(spec.periods), generator=generator
        )
        total = sum(net(z, calendar).square().mean() for net in active)
        total.backward()
        optimizer.step()


@pytest.mark.parametrize("foreach", [None, False, True])
def test_steps_to_the_same_weights_as_torch(foreach: bool | None) -> None:
    ours, theirs = _nets(1), _nets(1)
    _train(ours, ours=True)
    _train(theirs, ours=False, foreach=foreach)
    for a, b in zip(ours, theirs, strict=True):
        for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            assert torch.equal(x, y), name


def test_a_parameter_without_a_gradient_takes_no_step() -> None:
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = AdamW([weight], lr=0.1, weight_decay=0.5)
    optimizer.zero_grad()
    optimizer.step()
    assert torch.equal(weight.detach(), torch.ones(3))
    assert optimizer.steps == [0]
