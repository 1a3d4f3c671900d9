"""GPU check: M4 Hourly trained on CUDA as the product trains there, against a run on CPU.

Usage: python bench/gpu_check.py [--cpu] [--cpu-budget SECONDS] [--limit N] [--data DIR]
       [--json PATH] [config overrides as in bench/m4.py, e.g. --ensemble 1]

Prints, per device: wall and training seconds, sMAPE, MASE, OWA, 95% coverage, and on CUDA the
peak GPU memory. The CPU run is optional (``--cpu``) and capped by ``--cpu-budget`` (the core's
time budget), so the comparison fits in one call on a lent machine. Data loading and scoring
are bench/m4.py's functions, imported, so both scripts measure the same thing. Without CUDA it
says so and exits 0 (after the CPU run if ``--cpu`` was given). Run it with ``python -W
error::UserWarning`` to turn a cuDNN warning (e.g. weights not in one chunk) into a failure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import m4  # bench/m4.py: data loading, training loop and M4 scoring

from forecaster import ForecastConfig

# What the product does on each device (forecaster/train.py, forecaster/nets.py): on CUDA the
# training forward runs under bf16 autocast with the recurrence kept in float32, and the
# forecast itself runs in float32. (This script once wrapped the whole fit in autocast, which
# reached ops outside the network too: OWA 3.10 on an H100, against 0.449 without it.)
PRECISION = {"cuda": "bf16 training forward, fp32 recurrence and forecast", "cpu": "float32"}


def parse_args() -> argparse.Namespace:
    """Flags of this check plus bench/m4.py's config overrides."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="also run on CPU for comparison")
    parser.add_argument("--cpu-budget", type=float, default=300.0, help="CPU time budget, s")
    parser.add_argument("--limit", type=int, help="only the first N series (smoke runs)")
    parser.add_argument("--data", default=str(m4.DATA), help="folder of M4 Hourly train/test CSVs")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    for name, kind in m4.OVERRIDES.items():
        if name != "device":
            parser.add_argument("--" + name.replace("_", "-"), dest=name, type=kind)
    return parser.parse_args()


def run(
    device: str,
    overrides: dict[str, Any],
    data: tuple[dict[str, Any], dict[str, Any]],
) -> dict[str, Any]:
    """Train and score on one device; the figures as a dict."""
    train, test = data
    config = ForecastConfig(**{**overrides, "device": device})
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.monotonic()
    model, forecast = m4.run_model(train, config)
    if device == "cuda":
        torch.cuda.synchronize()
    figures = {
        **m4.ours(model, forecast, train, test),
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    figures["precision"] = PRECISION[device]
    if device == "cuda":
        figures["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        figures["gpu"] = torch.cuda.get_device_name()
    return figures


def show(name: str, figures: dict[str, Any]) -> None:
    """One readable line per run."""
    peak = f", peak GPU memory {figures['peak_gpu_mib']} MiB" if "peak_gpu_mib" in figures else ""
    print(
        f"{name}: wall {figures['wall_seconds']} s (train {figures['train_seconds']} s, "
        f"{figures['epochs_run']} epochs, {figures['precision']}), sMAPE {figures['smape']:.3f}, "
        f"MASE {figures['mase']:.3f}, OWA {figures['owa']:.3f}, "
        f"cov95 {figures['coverage_95']:.3f}{peak}",
        flush=True,
    )


def load(folder: Path, limit: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """M4 Hourly train/test from ``folder``, optionally only the first LIMIT series."""
    train, test = m4.read_wide(folder / "train.csv"), m4.read_wide(folder / "test.csv")
    if limit:
        train = dict(list(train.items())[:limit])
        test = {k: test[k] for k in train}
    return train, test


def main() -> int:
    """Run the check; always 0 unless training itself fails."""
    args = parse_args()
    overrides = {
        k: getattr(args, k) for k in m4.OVERRIDES if k != "device" and getattr(args, k) is not None
    }
    has_cuda = torch.cuda.is_available()
    if not has_cuda:
        print("no CUDA device visible: skipping the GPU run (nothing to check here)", flush=True)
        if not args.cpu:
            return 0
    data = load(Path(args.data), args.limit)
    results: dict[str, Any] = {"series": len(data[0]), "torch": torch.__version__}
    print(f"M4 Hourly: {len(data[0])} series, horizon {m4.HORIZON}, torch {torch.__version__}")
    if has_cuda:
        results["cuda"] = run("cuda", overrides, data)
        show(f"cuda ({results['cuda']['gpu']})", results["cuda"])
    if args.cpu:
        cpu_overrides = {**overrides, "time_budget_s": args.cpu_budget}
        results["cpu"] = run("cpu", cpu_overrides, data)
        show(f"cpu (budget {args.cpu_budget:g} s)", results["cpu"])
    results["seasonal_naive"] = m4.naive_scores(*data)
    print(f"seasonal naive: OWA {results['seasonal_naive']['owa']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
