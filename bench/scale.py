"""Memory at scale: peak RSS of ``Forecaster.fit`` and ``predict`` on many long series.

Usage: python bench/scale.py [--series 20000] [--points 500] [--budget 10] [--shuffled]
       [--stages] [--no-record]

It builds a long frame of ``series x points`` hourly observations (string ids, datetime64 ds,
float64 y, as a user's frame usually is; ``--shuffled``: its rows in random order, so
``fit`` takes the sorting path), then fits the default configuration with a short
time budget (memory does not grow with training time: the windows are sampled per step) and
predicts. A thread samples the resident set size every 10 ms (``/proc/self/statm``; psutil
where there is no /proc), so the peak of each phase is seen separately; ``ru_maxrss`` checks
the overall peak. It prints the peak in bytes per observation, the whole process counted (the
frame, torch itself and everything fit allocates), and records it in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sections  # noqa: E402  (bench/sections.py)

from forecaster import ForecastConfig, Forecaster, estimator  # noqa: E402
from forecaster.backtest import Evaluation  # noqa: E402
from forecaster.predict import PREDICT_CHUNK  # noqa: E402

SECTION = "## Memory at scale"


def rss_bytes() -> int:
    """The current resident set size of this process."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import psutil

        return int(psutil.Process().memory_info().rss)


class PeakMeter:
    """Samples RSS in a background thread; ``peak_since`` is the highest sample since a time.

    Samples are kept, not folded into one running maximum: a reset of that maximum raced with
    the thread, which could write back the previous phase's peak."""

    def __init__(self, every_s: float = 0.01) -> None:
        self.every_s = every_s
        self.samples: list[tuple[float, int]] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), rss_bytes()))
            time.sleep(self.every_s)

    def peak_since(self, start: float) -> int:
        """The highest RSS sampled since ``start`` (time.monotonic), or the current one."""
        peak = rss_bytes()
        for at, rss in reversed(self.samples):
            if at < start:
                break
            peak = max(peak, rss)
        return peak

    def measure(self, work: Callable[[], Any]) -> tuple[Any, int, int]:
        """Run ``work``; return its result, the RSS before and the peak RSS during it."""
        before, start = rss_bytes(), time.monotonic()
        result = work()
        time.sleep(3 * self.every_s)
        return result, before, self.peak_since(start)


# The stages of ``fit``, by the name fit looks each up under (``--stages``).
STAGES: dict[str, tuple[Any, str]] = {
    "prepare": (estimator, "prepare"),
    "pad": (estimator, "pad"),
    "train": (estimator, "fit_members"),
    "calibrate": (Forecaster, "_calibrate"),
    "backtest forecasts": (estimator, "evaluate"),
    "backtest report": (Evaluation, "report"),
}


def trace_stages(meter: PeakMeter) -> list[tuple[str, int, int, int]]:
    """Wrap every stage of STAGES; each call appends (stage, RSS before, peak, RSS after) to
    the list returned."""
    rows: list[tuple[str, int, int, int]] = []

    def traced(label: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            before, start = rss_bytes(), time.monotonic()
            try:
                return original(*args, **kwargs)
            finally:
                rows.append((label, before, meter.peak_since(start), rss_bytes()))

        return run

    for label, (owner, name) in STAGES.items():
        setattr(owner, name, traced(label, getattr(owner, name)))
    return rows


def make_frame(series: int, points: int, seed: int = 0, shuffled: bool = False) -> pd.DataFrame:
    """Daily-seasonal hourly series with noise: ``series * points`` rows (in random order when
    ``shuffled``)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"series_{i:06d}" for i in range(series)], dtype=object)
    stamps = pd.date_range("2024-01-01", periods=points, freq="h").to_numpy()
    t = np.arange(points)
    level = rng.uniform(10, 100, series)[:, None]
    y = level * (1 + 0.3 * np.sin(2 * np.pi * t / 24))[None, :] + rng.normal(0, 1, (series, points))
    rows = {"unique_id": np.repeat(ids, points), "ds": np.tile(stamps, series), "y": y.reshape(-1)}
    if shuffled:
        order = rng.permutation(series * points)
        rows = {name: column[order] for name, column in rows.items()}
    return pd.DataFrame(rows)


def main() -> None:
    args = parse_args()
    meter = PeakMeter()
    imported = rss_bytes()
    frame = make_frame(args.series, args.points, shuffled=args.shuffled)
    observations = len(frame)
    with_frame = rss_bytes()
    config = ForecastConfig(time_budget_s=args.budget)
    stages = trace_stages(meter) if args.stages else []
    model, before_fit, fit_peak = meter.measure(
        lambda: Forecaster(config).fit(frame, horizon=args.horizon)
    )
    after_fit = rss_bytes()
    for label, before, peak, after in stages:
        print(
            f"stage {label:26s} before {before / 1e6:7,.0f}  peak {peak / 1e6:7,.0f}  "
            f"after {after / 1e6:7,.0f} MB"
        )
    forecast, before_predict, predict_peak = meter.measure(model.predict)
    results = {
        "series": args.series,
        "shuffled": args.shuffled,
        "points": args.points,
        "observations": observations,
        "frame_deep_mb": frame.memory_usage(deep=True).sum() / 1e6,
        "rss_import_mb": imported / 1e6,
        "rss_frame_mb": with_frame / 1e6,
        "fit_peak_mb": fit_peak / 1e6,
        "fit_peak_bytes_per_obs": fit_peak / observations,
        "fit_above_frame_bytes_per_obs": (fit_peak - before_fit) / observations,
        "rss_after_fit_mb": after_fit / 1e6,
        "predict_peak_above_mb": (predict_peak - before_predict) / 1e6,
        "forecast_frame_mb": forecast.memory_usage(deep=True).sum() / 1e6,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6,
        "train_seconds": model.train_seconds,
    }
    for key, value in results.items():
        print(f"{key:32s} {value:,.1f}" if isinstance(value, float) else f"{key:32s} {value:,}")
    if not args.no_record:
        record(results, " ".join(["python", "bench/scale.py", *sys.argv[1:]]))


def record(r: dict[str, Any], command: str) -> None:
    """Write (or replace) this benchmark's section of BENCHMARKS.md."""
    order = "rows in random order" if r["shuffled"] else "rows sorted by series and time"
    lines = [
        f"Recorded {dt.date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} CPUs), "
        f"`{command}`: {r['series']:,} hourly series x {r['points']} points = "
        f"{r['observations']:,} observations ({order}); the frame is "
        f"{r['frame_deep_mb']:.0f} MB by pandas' deep count.",
        "",
        "| phase | resident set (MB) | bytes per observation |",
        "|---|---|---|",
        f"| after `import forecaster` (torch loaded) | {r['rss_import_mb']:.0f} | - |",
        f"| with the frame built | {r['rss_frame_mb']:.0f} | - |",
        f"| peak during `fit` (whole process) | {r['fit_peak_mb']:.0f} | "
        f"{r['fit_peak_bytes_per_obs']:.0f} |",
        "| of which `fit` itself, above the frame | - | "
        f"{r['fit_above_frame_bytes_per_obs']:.0f} |",
        "| peak during `predict`, above what was resident | "
        f"{r['predict_peak_above_mb']:.0f} | - |",
        "",
        f"`predict` returned a {r['forecast_frame_mb']:.0f} MB frame; it pads and forecasts the "
        f"series in chunks of {PREDICT_CHUNK:,}, so its working memory beyond its result does "
        "not grow with the number of series. RSS sampled every 10 ms; the process's ru_maxrss was "
        f"{r['max_rss_mb']:.0f} MB. Training ran {r['train_seconds']:.0f} s (budget-bound; "
        "memory does not grow with training time). Taken on the shared machine under "
        "contention (memory figures do not depend on it).",
        "",
    ]
    sections.record("\n".join(lines), SECTION)


def parse_args() -> argparse.Namespace:
    """Sizes, budget and --no-record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=20_000)
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--budget", type=float, default=10.0, help="fit's time budget (s)")
    parser.add_argument("--shuffled", action="store_true", help="rows in random order")
    parser.add_argument("--no-record", action="store_true", help="leave BENCHMARKS.md alone")
    parser.add_argument("--stages", action="store_true", help="print the peak of each fit stage")
    return parser.parse_args()


if __name__ == "__main__":
    main()
