"""Ensemble members trained together: one report per epoch, distinct members, members that
stop improving stop stepping, the batch shared among members, the weights averaged; and
their mean."""

from __future__ import annotations

import time

import pytest
import torch

from forecaster import EpochProgress, Forecaster
from forecaster import train as train_module
from forecaster.data import prepare
from forecaster.ensemble import combine, member_batch
from forecaster.estimator import _plan
from forecaster.nets import NetSpec, QuantileRNN
from forecaster.train import (
    EMA_DECAY,
    Hooks,
    TrainPlan,
    _Average,
    _Clock,
    _Run,
    evaluate,
    train_members,
    validation_batch,
)
from forecaster.windows import Padded, pad

from .conftest import TINY, seasonal_frame


def _setup(members: int) -> tuple[Padded, NetSpec, TrainPlan]:
    panel = prepare(seasonal_frame(), "h")
    spec = _plan(TINY, panel, 6)
    data = pad(panel, spec.transform, spec.lookback + 12)
    plan = TrainPlan(
        epochs=2,
        batch_size=16,
        learning_rate=1e-2,
        patience=5,
        seed=0,
        members=members,
        budget_s=None,
    )
    return data, spec, plan


def test_one_progress_report_per_epoch_for_all_members_together() -> None:
    seen: list[EpochProgress] = []
    config = TINY.model_copy(update={"ensemble": 3})
    model = Forecaster(config).fit(seasonal_frame(), horizon=6, progress=seen.append)
    assert [(p.member, p.members, p.epoch) for p in seen] == [(0, 1, 1), (0, 1, 2)]
    assert all(p.val_score is not None and p.val_score > 0 for p in seen)
    assert model.epochs_run == 2
    assert len(model._nets) == 3


def test_members_start_from_different_seeds_and_stay_different() -> None:
    data, spec, plan = _setup(2)
    hooks = Hooks(None, None, time.monotonic())
    nets, epochs = train_members(data, spec, plan, torch.device("cpu"), hooks)
    assert epochs == 2
    assert len(nets) == 2
    first, second = (torch.cat([p.flatten() for p in n.parameters()]) for n in nets)
    assert not torch.allclose(first, second)
    assert all(not n.training for n in nets)  # returned ready for inference


def test_a_member_that_sits_out_gets_no_update() -> None:
    data, spec, plan = _setup(2)
    torch.manual_seed(0)
    nets = [QuantileRNN(spec), QuantileRNN(spec)]
    params = [p for n in nets for p in n.parameters()]
    run = _Run(
        nets=nets,
        optimizer=torch.optim.AdamW(params, lr=1e-2, weight_decay=1e-2),
        data=data,
        spec=spec,
        plan=plan,
        device=torch.device("cpu"),
        generator=torch.Generator().manual_seed(0),
        levels=torch.tensor(spec.levels),
        clock=_Clock(time.monotonic(), None, 10),
        active=[1],
        average=_Average(nets),
    )
    before = [[p.detach().clone() for p in n.parameters()] for n in nets]
    run.epoch(3)
    for old, new in zip(before[0], nets[0].parameters(), strict=True):
        assert torch.equal(old, new)  # no step, not even weight decay
    for old, new in zip(before[0], run.average.nets[0].parameters(), strict=True):
        assert torch.equal(old, new)  # nor a move of its average
    assert any(
        not torch.equal(old, new) for old, new in zip(before[1], nets[1].parameters(), strict=True)
    )


def test_the_average_follows_the_weights_with_a_decay_that_starts_low() -> None:
    _, spec, _ = _setup(1)
    net = QuantileRNN(spec)
    average = _Average([net])
    start = [p.detach().clone() for p in net.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    average.update([0], [net])  # first update: decay 2 / 11
    for old, new in zip(start, average.nets[0].parameters(), strict=True):
        torch.testing.assert_close(new, old + 9 / 11)
    average.updates = 10_000  # late in a long run the decay is capped
    before = [p.detach().clone() for p in average.nets[0].parameters()]
    average.update([0], [net])
    for old, now, new in zip(before, net.parameters(), average.nets[0].parameters(), strict=True):
        torch.testing.assert_close(new, old + (1 - EMA_DECAY) * (now - old))


def test_the_members_returned_are_the_averages_that_were_validated() -> None:
    data, spec, plan = _setup(1)
    seen: list[EpochProgress] = []
    hooks = Hooks(seen.append, None, time.monotonic())
    nets, _ = train_members(data, spec, plan, torch.device("cpu"), hooks)
    best = min(p.val_score for p in seen if p.val_score is not None)
    val = validation_batch(data, spec, torch.device("cpu"))
    score = evaluate(nets[0], val, torch.tensor(spec.levels), torch.device("cpu"))
    assert score == pytest.approx(best, rel=1e-6)


def test_the_batch_is_shared_among_members() -> None:
    assert member_batch(256, 1) == 256
    assert member_batch(256, 3) == 86
    assert member_batch(64, 3) == 32  # at least 32 windows each
    assert member_batch(16, 3) == 16  # a batch below that is kept as given


@pytest.mark.parametrize("members", [1, 2, 3, 4, 5, 7])
def test_combine_is_the_members_mean_and_keeps_quantiles_ordered(members: int) -> None:
    generator = torch.Generator().manual_seed(members)
    raw = torch.randn(members, 20, 6, 5, generator=generator)
    forecasts = list(raw.sort(dim=-1).values)  # monotone quantiles per member
    combined = combine(forecasts)
    torch.testing.assert_close(combined, raw.sort(dim=-1).values.mean(dim=0))
    assert bool((combined.diff(dim=-1) >= 0).all())


def test_the_mean_of_each_element_does_not_depend_on_the_other_rows() -> None:
    generator = torch.Generator().manual_seed(0)
    forecasts = list(torch.randn(3, 9, 4, 5, generator=generator))
    whole = combine(forecasts)
    for row in range(9):
        assert torch.equal(combine([f[row : row + 1] for f in forecasts])[0], whole[row])


def test_the_validation_score_does_not_depend_on_the_rows_per_forward_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = prepare(seasonal_frame(n_series=43), "h")
    spec = _plan(TINY, panel, 6)
    data = pad(panel, spec.transform, spec.lookback + 12)
    net = QuantileRNN(spec)
    batch = validation_batch(data, spec, torch.device("cpu"))
    levels = torch.tensor(spec.levels)
    monkeypatch.setattr(train_module, "EVAL_CHUNK", 32)  # terms of 32 and 11 windows
    whole = evaluate(net, batch, levels, torch.device("cpu"))  # one pass per term
    monkeypatch.setattr(train_module, "EVAL_PASS", 8)  # 8 x 4, then 8 + 3 (3 rows join)
    assert train_module._passes(32, 43) == [slice(32, 43)]
    assert evaluate(net, batch, levels, torch.device("cpu")) == whole
