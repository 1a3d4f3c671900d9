"""Seed ensembles: members trained one after another on a shared budget, combined by median."""

from __future__ import annotations

import time

import torch

from forecaster.config import ForecastConfig
from forecaster.nets import NetSpec, QuantileRNN
from forecaster.train import Hooks, TrainPlan, train_member
from forecaster.windows import Padded

SEED_STRIDE = 7919  # members of one seed never share a seed with a neighbouring config's seed


def fit_members(
    data: Padded, spec: NetSpec, config: ForecastConfig, device: torch.device, hooks: Hooks
) -> tuple[list[QuantileRNN], int]:
    """Train ``config.ensemble`` members; each gets an equal share of the time still left.

    Returns the members and the most epochs any member ran.
    """
    nets: list[QuantileRNN] = []
    epochs = 0
    for member in range(config.ensemble):
        plan = TrainPlan(
            epochs=config.epochs,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            patience=config.patience,
            seed=config.seed + SEED_STRIDE * member,
            member=member,
            members=config.ensemble,
            budget_s=_share(config.time_budget_s, hooks.started, config.ensemble - member),
        )
        net, ran = train_member(data, spec, plan, device, hooks)
        nets.append(net)
        epochs = max(epochs, ran)
    return nets, epochs


def _share(budget: float | None, started: float, members_left: int) -> float | None:
    if budget is None:
        return None
    left = budget - (time.monotonic() - started)
    return max(left, 0.0) / members_left


def combine(members: list[torch.Tensor]) -> torch.Tensor:
    """Element-wise median of the members' quantile forecasts [B, h, Q].

    The median of monotone quantile vectors is monotone, so the intervals stay ordered.
    """
    if len(members) % 2 == 1:
        return _middle(members)
    return torch.quantile(torch.stack(members), 0.5, dim=0)


def _middle(members: list[torch.Tensor]) -> torch.Tensor:
    """The element-wise middle value of an odd number of tensors, by a sorting network of
    element-wise min/max: the same numbers as ``torch.quantile(..., 0.5)`` (it only selects),
    some 50x faster for a thousand series than quantile's sort along the member dimension."""
    ordered = list(members)
    for end in range(len(ordered) - 1, 0, -1):
        for i in range(end):
            low, high = ordered[i], ordered[i + 1]
            ordered[i], ordered[i + 1] = torch.minimum(low, high), torch.maximum(low, high)
    return ordered[len(ordered) // 2]
