"""Training one network: sampled windows, pinball loss, AdamW, clipping, a time-aware cosine
schedule (with a higher peak and smaller batches when the time budget is short of the planned
steps, see ``short_budget``), an exponential moving average of the weights (the network that is
validated and kept), validation on each series' last horizon and early stopping with
best-weights restore."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from forecaster import heap
from forecaster.adamw import AdamW
from forecaster.errors import TrainingCancelled
from forecaster.features import CovariateTensors
from forecaster.nets import NetSpec, QuantileRNN, pinball
from forecaster.windows import (
    Padded,
    calendar_features,
    gather,
    gather_covariates,
    loss_weights,
    sample_windows,
    scale,
    window_scale,
)

MAX_STEPS_PER_EPOCH = 50  # an epoch is short, so progress and cancellation stay responsive
WARMUP_STEPS = 50
WEIGHT_DECAY = 1e-4
CLIP_NORM = 1.0
EVAL_CHUNK = 4096  # validation windows per term of the score's sum
# Windows per forward pass within a term: the recurrence's activations of 4096 windows took
# ~130 MB (bench/scale.py, "Memory at scale"). Passes start at multiples of EVAL_PASS (a
# multiple of 8 rows, see forecaster.predict.ROW_MULTIPLE), so each window's numbers are those
# of the single pass per term that preceded them.
EVAL_PASS = 256
SEED_STRIDE = 7919  # member k is initialised from seed + k * SEED_STRIDE
EMA_DECAY = 0.995  # the weight average spans about the last 200 steps (4 full epochs) at most
PACE_SKIP = 5  # first steps not timed: they carry one-off costs (allocations, lazy set-up)
PACE_STEPS = 10  # steps then timed to measure a time budget's pace (see short_budget)
MAX_PEAK_BOOST = 4.0  # the most a short budget raises the peak learning rate
# A short budget halves each member's windows per step down to this: below it a step's fixed
# costs buy few more steps for twice the gradient noise (M4 Hourly, the default's 85 windows a
# member, 60 s budget: halved to 42, OWA 0.446; kept at 64, 0.432 and 0.438).
MIN_SHORT_BATCH = 64


@dataclass(frozen=True)
class EpochProgress:
    """What the progress callback receives after every epoch.

    The ensemble's members train together, so there is one report per epoch with ``member`` 0
    of ``members`` 1 (one training run); ``train_loss`` and ``val_score`` are the means over the
    members still training.
    """

    epoch: int
    epochs: int
    train_loss: float
    val_score: float | None
    elapsed_s: float
    member: int
    members: int


@dataclass(frozen=True)
class TrainPlan:
    """The knobs of one training run (taken from ForecastConfig); ``batch_size`` is per member."""

    epochs: int
    batch_size: int
    learning_rate: float
    patience: int
    seed: int
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
    covariates: CovariateTensors | None = None  # [B, L + h, ...]: the same steps as z, target
    weight: torch.Tensor | None = None  # [B] loss weights (log space, see loss_weights); None: 1

    def weights(self, rows: slice) -> torch.Tensor | None:
        """The loss weights of the windows ``rows`` (None: all equal)."""
        return None if self.weight is None else self.weight[rows]

    def part(self, rows: slice) -> tuple[torch.Tensor, torch.Tensor, CovariateTensors | None]:
        """The network's inputs of the windows ``rows``."""
        covariates = None if self.covariates is None else self.covariates.rows(rows)
        return self.z[rows], self.calendar[rows], covariates


def make_batch(
    data: Padded, spec: NetSpec, series: torch.Tensor, starts: torch.Tensor, device: torch.device
) -> Batch:
    """Gather windows (input then target), scale both by the input's statistics and weigh
    them for the loss (windows in log space, see ``loss_weights``)."""
    window = gather(data.values, series, starts, spec.lookback + spec.horizon)  # [B, L+h]
    x, y = window[:, : spec.lookback], window[:, spec.lookback :]
    log_space = spec.transform == "log"
    loc, spread = window_scale(x, spec.season, log_space)
    cal = calendar_features(data.phases[series], starts, spec.periods, spec.lookback, spec.patch)
    covariates = None
    if data.covariates is not None:
        width = spec.lookback + spec.horizon
        covariates = gather_covariates(data.covariates, series, starts, width).to(device)
    return Batch(
        scale(x, loc, spread).to(device),
        cal.to(device),
        scale(y, loc, spread).to(device),
        covariates,
        loss_weights(x, spread, spec.season).to(device) if log_space else None,
    )


def validation_batch(data: Padded, spec: NetSpec, device: torch.device) -> Batch:
    """The last horizon of every series as the target, the lookback before it as the input."""
    starts = data.lengths - spec.horizon - spec.lookback
    return make_batch(data, spec, torch.arange(len(starts)), starts, device)


def train_members(
    data: Padded, spec: NetSpec, plan: TrainPlan, device: torch.device, hooks: Hooks
) -> tuple[list[QuantileRNN], int]:
    """Train ``plan.members`` networks together, one optimiser step for all of them at a time,
    each on its own ``plan.batch_size`` windows; return them with their best validation weights
    and the epochs run.

    The members share the budget, the schedule, the data sampling and the validation pass
    instead of running one after another, so each trains for the whole budget. What is
    validated, early-stopped and returned is each member's exponential moving average of its
    weights (``_Average``), not the last step's. A member whose validation score has not
    improved for ``plan.patience`` epochs (twice as many of a short budget's half batches,
    see ``short_budget``) stops stepping (its best weights are kept), which leaves its
    compute to the others; training ends when all have.
    """
    nets = [_seeded_net(spec, plan.seed + SEED_STRIDE * k, device) for k in range(plan.members)]
    torch.manual_seed(plan.seed)  # dropout draws, as a single member always had
    room = (data.lengths - 2 * spec.horizon - spec.lookback + 1).clamp(min=1)
    steps = int(min(MAX_STEPS_PER_EPOCH, max(1, math.ceil(int(room.sum()) / plan.batch_size))))
    params = [p for net in nets for p in net.parameters()]
    run = _Run(
        nets=nets,
        optimizer=AdamW(params, lr=plan.learning_rate, weight_decay=WEIGHT_DECAY),
        data=data,
        spec=spec,
        plan=plan,
        device=device,
        generator=torch.Generator().manual_seed(plan.seed),
        levels=torch.tensor(spec.levels, device=device),
        clock=_Clock(time.monotonic(), plan.budget_s, plan.epochs * steps),
        active=list(range(plan.members)),
        average=_Average(nets),
    )
    val = validation_batch(data, spec, device)
    heap.release()  # its temporaries: 60 MB at 20,000 series, else under the steps' peak
    watch = _EarlyStop([_copy(net) for net in nets], plan.patience)
    epoch = 0
    while run.active and epoch < plan.epochs and (epoch == 0 or not run.clock.out_of_time()):
        epoch += 1
        loss = run.epoch(steps)
        averaged = run.average.nets
        scores = {k: evaluate(averaged[k], val, run.levels, device) for k in run.active}
        for k, score in scores.items():
            watch.update(k, score, averaged[k])
        patience = run.clock.short.patience(plan.patience)
        run.active = [k for k in run.active if watch.stale[k] < patience]
        _report(hooks, plan, epoch, loss, sum(scores.values()) / len(scores))
    for net, state in zip(nets, watch.states, strict=True):
        net.load_state_dict(state)
        net.eval()
    return nets, epoch


class _Average:
    """An exponential moving average of each member's weights (Polyak averaging).

    The cosine schedule is still near its peak when early stopping ends a typical run, so the
    last step's weights carry the noise of large steps; their average over the recent steps
    is a better network (M4 Hourly, same seeds: validation pinball 0.0597 vs 0.0611, test OWA
    0.456 vs 0.462). The decay starts low, ``(1 + t) / (10 + t)`` after ``t`` updates, so the
    average covers about the last tenth of a short run, and is capped at EMA_DECAY.
    """

    def __init__(self, nets: list[QuantileRNN]) -> None:
        self.nets = [copy.deepcopy(net) for net in nets]
        for net in self.nets:
            # A deep copy puts each cuDNN weight in its own allocation; without one contiguous
            # chunk every CUDA forward would compact them again (and warn).
            net.encoder.flatten_parameters()
        self.updates = 0

    @torch.no_grad()
    def update(self, members: list[int], nets: list[QuantileRNN]) -> None:
        """Move the averages of ``members`` towards their networks' current weights."""
        self.updates += 1
        decay = min(EMA_DECAY, (1 + self.updates) / (10 + self.updates))
        for k in members:
            averaged: list[torch.Tensor] = list(self.nets[k].parameters())
            current: list[torch.Tensor] = list(nets[k].parameters())
            torch._foreach_lerp_(averaged, current, 1.0 - decay)


def _seeded_net(spec: NetSpec, seed: int, device: torch.device) -> QuantileRNN:
    torch.manual_seed(seed)
    return QuantileRNN(spec).to(device)


class _EarlyStop:
    """Per member: the best validation score, its weights and the epochs since it improved."""

    def __init__(self, states: list[dict[str, torch.Tensor]], patience: int) -> None:
        self.states, self.patience = states, patience
        self.best = [math.inf] * len(states)
        self.stale = [0] * len(states)

    def update(self, member: int, score: float, net: QuantileRNN) -> None:
        if score < self.best[member]:
            self.best[member], self.states[member], self.stale[member] = score, _copy(net), 0
        else:
            self.stale[member] += 1


@dataclass
class _Run:
    """The state of one training run of all members."""

    nets: list[QuantileRNN]
    optimizer: AdamW
    data: Padded
    spec: NetSpec
    plan: TrainPlan
    device: torch.device
    generator: torch.Generator
    levels: torch.Tensor
    clock: _Clock
    active: list[int]  # members still improving; the others no longer step
    average: _Average  # what is validated and kept

    def epoch(self, steps: int) -> float:
        """``steps`` optimiser steps on fresh random windows; returns the mean training loss
        (per member, averaged over the active members)."""
        for k in self.active:
            self.nets[k].train()
        return sum(self.step() for _ in range(steps)) / steps

    def step(self) -> float:
        """One optimiser step: each active member on its own batch of random windows."""
        self.optimizer.lr = self.plan.learning_rate * self.clock.lr_factor()
        spec, members = self.spec, len(self.active)
        size = self.clock.short.batch(self.plan.batch_size)  # a short budget may halve it
        series, starts = sample_windows(
            self.data.lengths,
            size * members,
            spec.lookback + spec.horizon,
            spec.horizon,
            self.generator,
        )
        batch = make_batch(self.data, spec, series, starts, self.device)
        self.optimizer.zero_grad()  # members that sit out get no update
        total = torch.zeros((), device=self.device)
        for i, k in enumerate(self.active):
            part = slice(i * size, (i + 1) * size)
            with _autocast(self.device):
                pred = self.nets[k](*batch.part(part))
            target, weight = batch.target[part], batch.weights(part)
            total = total + pinball(pred.float(), target, self.levels, weight)
        total.backward()  # one backward pass; the members' graphs are independent
        for k in self.active:
            torch.nn.utils.clip_grad_norm_(self.nets[k].parameters(), CLIP_NORM)
        self.optimizer.step()
        self.average.update(self.active, self.nets)
        self.clock.tick()
        return float(total.detach()) / members


@torch.no_grad()
def evaluate(net: QuantileRNN, batch: Batch, levels: torch.Tensor, device: torch.device) -> float:
    """Mean pinball loss (in the windows' own scale, weighted as in training) of ``net`` on
    ``batch``."""
    net.eval()
    losses = []
    for i in range(0, len(batch.z), EVAL_CHUNK):
        part = slice(i, i + EVAL_CHUNK)
        with _autocast(device):
            passes = _passes(i, min(i + EVAL_CHUNK, len(batch.z)))
            pred = torch.cat([net(*batch.part(rows)) for rows in passes])
        weight = batch.weights(part)
        mass = len(batch.z[part]) if weight is None else float(weight.sum())
        losses.append(pinball(pred.float(), batch.target[part], levels, weight) * mass)
    total = len(batch.z) if batch.weight is None else float(batch.weight.sum())
    return float(torch.stack(losses).sum()) / total


def _passes(start: int, end: int) -> list[slice]:
    """Rows ``start:end`` in passes of EVAL_PASS; a last pass of fewer than 8 rows joins the one
    before it, as such a pass would take other CPU kernels (``forecaster.predict.MIN_ROWS``)."""
    bounds = list(range(start, end, EVAL_PASS))
    if len(bounds) > 1 and end - bounds[-1] < 8:
        bounds.pop()
    return [slice(a, b) for a, b in zip(bounds, [*bounds[1:], end], strict=True)]


def _autocast(device: torch.device) -> torch.autocast:
    # bf16 autocast only on CUDA; on CPU it would be slower and less accurate.
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"
    )


def _report(hooks: Hooks, plan: TrainPlan, epoch: int, loss: float, score: float) -> None:
    if hooks.progress is not None:
        elapsed = time.monotonic() - hooks.started
        val = score if math.isfinite(score) else None
        hooks.progress(EpochProgress(epoch, plan.epochs, loss, val, elapsed, 0, 1))
    if hooks.should_stop is not None and hooks.should_stop():
        raise TrainingCancelled(f"training cancelled after epoch {epoch}")


def _copy(net: QuantileRNN) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


@dataclass(frozen=True)
class ShortBudget:
    """How a run adapts to a time budget that affords less than half its planned steps."""

    lr_boost: float = 1.0  # factor on the peak learning rate
    halve_batch: bool = False  # each member's windows per step halved (MIN_SHORT_BATCH floor)

    def batch(self, size: int) -> int:
        """Windows per member and step under this budget, for a planned ``size``."""
        return max(size // 2, min(size, MIN_SHORT_BATCH)) if self.halve_batch else size

    def patience(self, epochs: int) -> int:
        """Early stopping's patience: epochs of half the windows wait twice as many."""
        return 2 * epochs if self.halve_batch else epochs


def short_budget(planned_steps: int, affordable_steps: float) -> ShortBudget:
    """The adaptation of a run whose time budget affords ``affordable_steps`` (measured from
    its first steps' pace) of its ``planned_steps`` (epochs x steps per epoch).

    A budget that affords half the planned steps changes nothing (early stopping had ended
    the earlier default on M4 Hourly after 51 of 100 epochs; today's, with patience 24, runs
    88-100, and a budget between half and all of them anneals its cosine by time). A
    shorter one is short of steps, not of windows:
    - AdamW moves every weight by about the learning rate per step. The peak rises so that
      the run travels as far as an unhurried one does in its first half: that one's steps
      average ``_mean_lr(0.5)`` of the peak, a budget-bound run's whole cosine ``_mean_lr(1)``,
      over fewer steps. The boost is capped at MAX_PEAK_BOOST, beyond which larger steps
      stop paying.
    - Each member's batch is halved, down to MIN_SHORT_BATCH: a step of half the windows
      costs about two thirds of one (the recurrence's fixed work per step stays), so the
      budget buys 1.5x the steps, each gradient still averaged over tens of windows.
    M4 Hourly, 3 members, equal compute (test OWA; the default converges to 0.449): 600 steps
    of 512 windows at peak 2e-3 0.528, 4e-3 0.491, 6e-3 0.466, 8e-3 0.457, 1e-2 0.463; at 8e-3,
    900 steps of 256 windows 0.450, 1,250 steps of 128 0.454. Budgets of 30/60/120 s (one
    thread): 0.460/0.447-0.453/0.456 with this rule; 0.592/0.526/0.485 recorded without it.
    With today's default (loss weights, patches of a season, 256 windows at 3.3e-3):
    0.443/0.438/0.437.
    """
    needed = planned_steps / 2
    if affordable_steps >= needed:
        return ShortBudget()
    distance = needed * _mean_lr(0.5) / (max(affordable_steps, 1.0) * _mean_lr(1.0))
    return ShortBudget(min(MAX_PEAK_BOOST, distance), halve_batch=True)


def _mean_lr(until: float) -> float:
    """The mean of the cosine factor (``_Clock.lr_factor`` without warm-up) over the first
    ``until`` of a run."""
    return 0.05 + 0.95 * 0.5 * (1 + math.sin(math.pi * until) / (math.pi * until))


class _Clock:
    """Progress through training as the larger of steps done and time spent (both in [0, 1]),
    and the learning-rate schedule it drives."""

    def __init__(self, start: float, budget_s: float | None, total_steps: int) -> None:
        self.start, self.budget_s, self.total_steps, self.done = start, budget_s, total_steps, 0
        self.short = ShortBudget()  # set once the budget's pace is known (see short_budget)
        self.paced_from = start

    def tick(self) -> None:
        self.done += 1
        if self.budget_s is None:
            return
        if self.done == PACE_SKIP:
            self.paced_from = time.monotonic()
        elif self.done == PACE_SKIP + PACE_STEPS:
            pace = (time.monotonic() - self.paced_from) / PACE_STEPS  # seconds per step
            self.short = short_budget(self.total_steps, self.budget_s / max(pace, 1e-9))

    def fraction(self) -> float:
        by_steps = self.done / self.total_steps
        if self.budget_s is None:
            return min(1.0, by_steps)
        spent = (time.monotonic() - self.start) / max(self.budget_s, 1e-9)
        return min(1.0, max(by_steps, spent))

    def out_of_time(self) -> bool:
        return self.budget_s is not None and time.monotonic() - self.start >= self.budget_s

    def lr_factor(self) -> float:
        """Linear warm-up, then cosine decay to 5% of the peak over the run's progress; the
        peak is raised when the budget is short of steps (short_budget)."""
        warm = min(1.0, (self.done + 1) / WARMUP_STEPS)
        cosine = 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * self.fraction()))
        return self.short.lr_boost * warm * cosine
