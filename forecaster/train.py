"""Training one network: sampled windows, pinball loss, AdamW, clipping, a time-aware cosine
schedule, validation on each series' last horizon and early stopping with best-weights restore."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from forecaster.errors import TrainingCancelled
from forecaster.nets import NetSpec, QuantileRNN, pinball
from forecaster.windows import (
    Padded,
    calendar_features,
    gather,
    sample_windows,
    scale,
    window_scale,
)

MAX_STEPS_PER_EPOCH = 50  # an epoch is short, so progress and cancellation stay responsive
WARMUP_STEPS = 50
WEIGHT_DECAY = 1e-4
CLIP_NORM = 1.0
EVAL_CHUNK = 4096


@dataclass(frozen=True)
class EpochProgress:
    """What the progress callback receives after every epoch of every ensemble member."""

    epoch: int
    epochs: int
    train_loss: float
    val_score: float | None
    elapsed_s: float
    member: int
    members: int


@dataclass(frozen=True)
class TrainPlan:
    """The knobs of one member's training run (taken from ForecastConfig)."""

    epochs: int
    batch_size: int
    learning_rate: float
    patience: int
    seed: int
    member: int
    members: int
    budget_s: float | None


@dataclass(frozen=True)
class Hooks:
    """Callbacks into the caller: progress reports and the cancellation check."""

    progress: Callable[[EpochProgress], None] | None
    should_stop: Callable[[], bool] | None
    started: float  # time.monotonic() when the whole fit began


@dataclass(frozen=True)
class Batch:
    """Network inputs and target of a set of windows, already on the device."""

    z: torch.Tensor  # [B, L] scaled input
    calendar: torch.Tensor  # [B, L/patch, 2P]
    target: torch.Tensor  # [B, h] scaled target


def make_batch(
    data: Padded, spec: NetSpec, series: torch.Tensor, starts: torch.Tensor, device: torch.device
) -> Batch:
    """Gather windows (input then target), scale both by the input's statistics."""
    window = gather(data.values, series, starts, spec.lookback + spec.horizon)  # [B, L+h]
    x, y = window[:, : spec.lookback], window[:, spec.lookback :]
    loc, spread = window_scale(x, spec.season, spec.transform == "log")
    cal = calendar_features(data.phases[series], starts, spec.periods, spec.lookback, spec.patch)
    return Batch(scale(x, loc, spread).to(device), cal.to(device), scale(y, loc, spread).to(device))


def validation_batch(data: Padded, spec: NetSpec, device: torch.device) -> Batch:
    """The last horizon of every series as the target, the lookback before it as the input."""
    starts = data.lengths - spec.horizon - spec.lookback
    return make_batch(data, spec, torch.arange(len(starts)), starts, device)


def train_member(
    data: Padded, spec: NetSpec, plan: TrainPlan, device: torch.device, hooks: Hooks
) -> tuple[QuantileRNN, int]:
    """Train one network; return it with its best validation weights and the epochs run."""
    torch.manual_seed(plan.seed)
    net = QuantileRNN(spec).to(device)
    room = (data.lengths - 2 * spec.horizon - spec.lookback + 1).clamp(min=1)
    steps = int(min(MAX_STEPS_PER_EPOCH, max(1, math.ceil(int(room.sum()) / plan.batch_size))))
    run = _Run(
        net=net,
        optimizer=torch.optim.AdamW(
            net.parameters(), lr=plan.learning_rate, weight_decay=WEIGHT_DECAY
        ),
        data=data,
        spec=spec,
        plan=plan,
        device=device,
        generator=torch.Generator().manual_seed(plan.seed),
        levels=torch.tensor(spec.levels, device=device),
        clock=_Clock(time.monotonic(), plan.budget_s, plan.epochs * steps),
    )
    val = validation_batch(data, spec, device)
    best, best_state, stale, epoch = math.inf, _copy(net), 0, 0
    while epoch < plan.epochs and (epoch == 0 or not run.clock.out_of_time()):
        epoch += 1
        loss = run.epoch(steps)
        score = evaluate(net, val, run.levels, device)
        if score < best:
            best, best_state, stale = score, _copy(net), 0
        else:
            stale += 1
        _report(hooks, plan, epoch, loss, score)
        if stale >= plan.patience:
            break
    net.load_state_dict(best_state)
    return net.eval(), epoch


@dataclass
class _Run:
    """The state of one member's training run."""

    net: QuantileRNN
    optimizer: torch.optim.Optimizer
    data: Padded
    spec: NetSpec
    plan: TrainPlan
    device: torch.device
    generator: torch.Generator
    levels: torch.Tensor
    clock: _Clock

    def epoch(self, steps: int) -> float:
        """``steps`` optimiser steps on fresh random windows; returns the mean training loss."""
        self.net.train()
        return sum(self.step() for _ in range(steps)) / steps

    def step(self) -> float:
        """One optimiser step on one batch of random windows."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.plan.learning_rate * self.clock.lr_factor()
        spec = self.spec
        series, starts = sample_windows(
            self.data.lengths,
            self.plan.batch_size,
            spec.lookback + spec.horizon,
            spec.horizon,
            self.generator,
        )
        batch = make_batch(self.data, spec, series, starts, self.device)
        with _autocast(self.device):
            pred = self.net(batch.z, batch.calendar)
        loss = pinball(pred.float(), batch.target, self.levels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), CLIP_NORM)
        self.optimizer.step()
        self.clock.tick()
        return float(loss.detach())


@torch.no_grad()
def evaluate(net: QuantileRNN, batch: Batch, levels: torch.Tensor, device: torch.device) -> float:
    """Mean pinball loss (in the windows' own scale) of ``net`` on ``batch``."""
    net.eval()
    losses = []
    for i in range(0, len(batch.z), EVAL_CHUNK):
        part = slice(i, i + EVAL_CHUNK)
        with _autocast(device):
            pred = net(batch.z[part], batch.calendar[part])
        losses.append(pinball(pred.float(), batch.target[part], levels) * len(batch.z[part]))
    return float(torch.stack(losses).sum()) / len(batch.z)


def _autocast(device: torch.device) -> torch.autocast:
    # bf16 autocast only on CUDA; on CPU it would be slower and less accurate.
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"
    )


def _report(hooks: Hooks, plan: TrainPlan, epoch: int, loss: float, score: float) -> None:
    if hooks.progress is not None:
        elapsed = time.monotonic() - hooks.started
        val = score if math.isfinite(score) else None
        hooks.progress(
            EpochProgress(epoch, plan.epochs, loss, val, elapsed, plan.member, plan.members)
        )
    if hooks.should_stop is not None and hooks.should_stop():
        raise TrainingCancelled(f"training cancelled after epoch {epoch}")


def _copy(net: QuantileRNN) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


class _Clock:
    """Progress through training as the larger of steps done and time spent (both in [0, 1])."""

    def __init__(self, start: float, budget_s: float | None, total_steps: int) -> None:
        self.start, self.budget_s, self.total_steps, self.done = start, budget_s, total_steps, 0

    def tick(self) -> None:
        self.done += 1

    def fraction(self) -> float:
        by_steps = self.done / self.total_steps
        if self.budget_s is None:
            return min(1.0, by_steps)
        return min(1.0, max(by_steps, (time.monotonic() - self.start) / self.budget_s))

    def out_of_time(self) -> bool:
        return self.budget_s is not None and time.monotonic() - self.start >= self.budget_s

    def lr_factor(self) -> float:
        """Linear warm-up, then cosine decay to 5% of the peak over the run's progress."""
        warm = min(1.0, (self.done + 1) / WARMUP_STEPS)
        return warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * self.fraction())))
