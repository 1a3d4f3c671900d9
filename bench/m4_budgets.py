"""``bench/m4.py --budgets``: M4 Hourly accuracy at fixed training-time budgets.

For each budget it trains the configuration with ``time_budget_s`` set to that budget and
prints OWA. With ``--sequential`` it also trains, at the same budget and in the same run, the
former scheme: the ensemble's members one after another, each on a 1/members share of the
budget with the full batch, combined by their median (emulated through the public API with
``ensemble=1`` fits seeded as the former members were). Comparing the two in one run is the
fair comparison on a machine whose load changes from minute to minute.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import sys
from argparse import Namespace
from typing import Any

import numpy as np
from m4 import ROOT, naive_scores, ours, run_model

from forecaster import ForecastConfig
from forecaster.train import SEED_STRIDE

SECTION = "## M4 Hourly accuracy per training budget"


def run_budgets(
    train: dict[str, np.ndarray],
    test: dict[str, np.ndarray],
    config: ForecastConfig,
    args: Namespace,
) -> None:
    """Train at each budget of ``args.budgets``; print (and record) OWA per budget."""
    rows = []
    for budget in (float(b) for b in args.budgets.split(",")):
        rows.append(batched(train, test, config, budget))
        if args.sequential and config.ensemble > 1:
            rows.append(sequential(train, test, config, budget))
        print_rows(rows, naive_scores(train, test)["owa"])
    if not args.no_record and not args.limit:
        command = " ".join(["python", "bench/m4.py", *sys.argv[1:]])
        record(rows, naive_scores(train, test)["owa"], config, command)


def batched(
    train: dict[str, np.ndarray], test: dict[str, np.ndarray], config: ForecastConfig, budget: float
) -> dict[str, Any]:
    """The configuration as it is, members trained together."""
    model, forecast = run_model(train, config.model_copy(update={"time_budget_s": budget}), 50)
    scores = ours(model, forecast, train, test)
    return {"budget": budget, "scheme": f"together x{config.ensemble}", **scores}


def sequential(
    train: dict[str, np.ndarray], test: dict[str, np.ndarray], config: ForecastConfig, budget: float
) -> dict[str, Any]:
    """The former scheme: members one after another on equal shares of the budget."""
    share = budget / config.ensemble
    frames, seconds, epochs = [], 0.0, 0
    for k in range(config.ensemble):
        update = {"ensemble": 1, "seed": config.seed + SEED_STRIDE * k, "time_budget_s": share}
        model, forecast = run_model(train, config.model_copy(update=update), 50)
        frames.append(forecast)
        seconds, epochs = seconds + model.train_seconds, max(epochs, model.epochs_run)
    numeric = [c for c in frames[0].columns if c not in ("unique_id", "ds")]
    combined = frames[0].copy()
    combined[numeric] = np.median(np.stack([f[numeric].to_numpy() for f in frames]), axis=0)
    scores = ours(model, combined, train, test)
    scores.update(train_seconds=round(seconds, 1), epochs_run=epochs)
    return {"budget": budget, "scheme": f"one after another x{config.ensemble}", **scores}


def print_rows(rows: list[dict[str, Any]], naive_owa: float) -> None:
    """One line per (budget, scheme)."""
    print(
        f"{'budget':>6s} {'scheme':24s} {'OWA':>6s} {'sMAPE':>7s} {'MASE':>6s} {'cov95':>6s} "
        f"{'train s':>7s} {'epochs':>6s}"
    )
    for r in rows:
        print(
            f"{r['budget']:6.0f} {r['scheme']:24s} {r['owa']:6.3f} {r['smape']:7.3f} "
            f"{r['mase']:6.3f} {r['coverage_95']:6.3f} {r['train_seconds']:7.1f} "
            f"{r['epochs_run']:6d}"
        )
    print(f"seasonal naive OWA {naive_owa:.3f}", flush=True)


def record(
    rows: list[dict[str, Any]], naive_owa: float, config: ForecastConfig, command: str
) -> None:
    """Write (or replace) this benchmark's section of BENCHMARKS.md."""
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = [
        SECTION,
        "",
        f"Recorded {dt.date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} CPUs), "
        f"`{command}`; ensemble={config.ensemble}, batch_size={config.batch_size} (shared by "
        "the members when they train together).",
        "",
        "| budget s | scheme | OWA | sMAPE | MASE | 95% coverage | train s | epochs |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {r['budget']:.0f} | {r['scheme']} | {r['owa']:.3f} | {r['smape']:.3f} | "
            f"{r['mase']:.3f} | {r['coverage_95']:.3f} | {r['train_seconds']} | {r['epochs_run']} |"
            for r in rows
        ),
        "",
        f"Seasonal naive OWA {naive_owa:.3f}. Both schemes ran in the same process one after "
        "the other on the machine's two cores, which other developers' jobs shared, so a "
        "budget bought fewer steps than on a quiet machine: compare the schemes within this "
        "table, not with figures taken elsewhere.",
        "",
    ]
    section = "\n".join(lines) + "\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text)


__all__ = ["run_budgets"]
