"""The training schedule under a time budget: one that affords less than half the planned
steps raises the peak learning rate and halves each member's batch (``short_budget``); a
longer one, or none, changes nothing."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import pytest
import torch

from forecaster import train
from forecaster.train import (
    MAX_PEAK_BOOST,
    MIN_SHORT_BATCH,
    PACE_SKIP,
    PACE_STEPS,
    WARMUP_STEPS,
    Hooks,
    ShortBudget,
    _Clock,
    short_budget,
    train_members,
)

from .test_ensemble import _setup

# An unhurried run's first half averages 0.827 of the peak, a whole cosine 0.525.
DISTANCE = (0.05 + 0.95 * 0.5 * (1 + 2 / math.pi)) / 0.525


@pytest.mark.parametrize(
    ("planned", "affordable", "expected"),
    [
        (5000, 9000.0, ShortBudget()),  # the budget affords the plan: as configured
        (5000, 5000.0, ShortBudget()),
        (5000, 2500.0, ShortBudget()),  # half the plan: about where early stopping ends
        (5000, 2000.0, ShortBudget(1.25 * DISTANCE, halve_batch=True)),  # short of the half
        (5000, 1500.0, ShortBudget(5 / 3 * DISTANCE, halve_batch=True)),
        (5000, 900.0, ShortBudget(MAX_PEAK_BOOST, halve_batch=True)),  # capped
        (5000, 0.0, ShortBudget(MAX_PEAK_BOOST, halve_batch=True)),
    ],
)
def test_a_budget_short_of_half_the_plan_raises_the_peak_and_halves_the_batch(
    planned: int, affordable: float, expected: ShortBudget
) -> None:
    short = short_budget(planned, affordable)
    assert short.lr_boost == pytest.approx(expected.lr_boost)
    assert short.halve_batch is expected.halve_batch


def test_the_boost_keeps_the_distance_of_an_unhurried_runs_first_half() -> None:
    boost = short_budget(1000, 400.0).lr_boost
    unhurried = sum(_cosine(t / 1000) for t in range(500))  # lr x steps, in peaks
    hurried = boost * sum(_cosine(t / 400) for t in range(400))
    assert hurried == pytest.approx(unhurried, rel=1e-2)


@pytest.mark.parametrize(
    ("size", "short_size"),
    [(256, 128), (171, 85), (86, MIN_SHORT_BATCH), (64, 64), (40, 40), (20, 20)],
)
def test_a_halved_batch_keeps_a_floor(size: int, short_size: int) -> None:
    assert ShortBudget(2.0, halve_batch=True).batch(size) == short_size
    assert ShortBudget(2.0, halve_batch=False).batch(size) == size


def test_epochs_of_half_the_windows_double_the_patience() -> None:
    assert ShortBudget(2.0, halve_batch=True).patience(12) == 24
    assert ShortBudget().patience(12) == 12


class _FakeTime:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _run_clock(
    monkeypatch: pytest.MonkeyPatch, budget_s: float | None, seconds_per_step: float, ticks: int
) -> _Clock:
    fake = _FakeTime()
    monkeypatch.setattr(train.time, "monotonic", fake)
    clock = _Clock(0.0, budget_s, total_steps=1000)
    for _ in range(ticks):
        fake.now += seconds_per_step
        clock.tick()
    return clock


@pytest.mark.parametrize(
    ("budget_s", "expected"),
    [
        (None, ShortBudget()),  # no budget: the steps decide, as planned
        (2000.0, ShortBudget()),  # 1 s a step: the budget affords the 1,000 planned steps
        (500.0, ShortBudget()),  # half of them
        (400.0, ShortBudget(1.25 * DISTANCE, halve_batch=True)),  # 400 of 1,000
        (100.0, ShortBudget(MAX_PEAK_BOOST, halve_batch=True)),  # a tenth
    ],
)
def test_the_clock_adapts_to_the_pace_of_its_first_steps(
    monkeypatch: pytest.MonkeyPatch, budget_s: float | None, expected: ShortBudget
) -> None:
    clock = _run_clock(monkeypatch, budget_s, seconds_per_step=1.0, ticks=PACE_SKIP + PACE_STEPS)
    assert clock.short.lr_boost == pytest.approx(expected.lr_boost)
    assert clock.short.halve_batch is expected.halve_batch


def test_the_pace_of_fewer_steps_is_not_trusted_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _run_clock(monkeypatch, 100.0, seconds_per_step=1.0, ticks=PACE_SKIP + PACE_STEPS - 1)
    assert clock.short == ShortBudget()


def test_the_boost_scales_the_whole_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = PACE_SKIP + PACE_STEPS
    clock = _run_clock(monkeypatch, 400.0, seconds_per_step=1.0, ticks=ticks)
    progress = ticks / 400.0  # time spent beats steps done (ticks of 1,000)
    warm = (ticks + 1) / WARMUP_STEPS
    assert clock.lr_factor() == pytest.approx(1.25 * DISTANCE * warm * _cosine(progress))


def test_a_short_budget_trains_on_half_the_windows_per_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, spec, plan = _setup(2)
    sizes: list[int] = []
    sample = train.sample_windows

    def recording(lengths: torch.Tensor, count: int, *args: object) -> object:
        sizes.append(count)
        return sample(lengths, count, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(train, "sample_windows", recording)
    monkeypatch.setattr(train, "short_budget", lambda *_: ShortBudget(2.0, halve_batch=True))
    paced = PACE_SKIP + PACE_STEPS
    budgeted = replace(plan, batch_size=128, epochs=2 * paced, patience=100, budget_s=1e9)
    train_members(data, spec, budgeted, torch.device("cpu"), Hooks(None, None, time.monotonic()))
    assert len(sizes) > paced
    assert sizes[:paced] == [2 * 128] * paced  # two members, 128 windows each
    assert set(sizes[paced:]) == {2 * 64}


def _cosine(progress: float) -> float:
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))
