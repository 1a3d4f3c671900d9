"""Instant forecasts benchmark: POST /v1/forecast with posted series and no model, over HTTP.

Usage: python bench/adhoc.py [--series 50] [--data DIR] [--no-record]

It starts ``forecaster serve`` (no inline worker, no scheduler) and one ``forecaster worker`` on a
fresh SQLite database, then, with the service's defaults (no config, no deadline given):
1. posts M4 Hourly series one at a time (``--series``, h = 48, the M4 test horizon);
2. posts the issue's own case ten times: one hourly series of 1,464 points, h = 24;
3. posts M4 series 20 at a time;
4. queues a ten-minute training job on all of M4 Hourly and, once it runs, repeats 1-3 (fewer).
It prints latency p50/p95 per phase, the share answered by the network and by each fallback,
and MASE / sMAPE of the answers on the M4 test beside seasonal naive's, and records them in
BENCHMARKS.md under "## Instant forecasts". Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as bench/m4.py: shared cores

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import m4  # noqa: E402  (the M4 loader of bench/m4.py)
from api_latency import free_port, wait_ready  # noqa: E402
from sections import record  # noqa: E402

from forecaster.baselines import seasonal_naive  # noqa: E402
from forecaster.metrics import mase, smape  # noqa: E402

SECTION = "## Instant forecasts"
CLI = str(ROOT / ".venv" / "bin" / "forecaster")
BATCH = 20


def main() -> None:
    """Run the phases against a fresh service and print (and record) the figures."""
    args = parse_args()
    train = m4.read_wide(args.data / "train.csv")
    test = m4.read_wide(args.data / "test.csv")
    with tempfile.TemporaryDirectory(prefix="adhoc-") as tmp:
        work = Path(tmp)
        env = service_env(work)
        procs = start_service(env, work)
        try:
            rows = run_phases(env, work, train, test, args.series)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=60)
    text = render(rows, args.series)
    print(text)
    if not args.no_record:
        record(text, SECTION)


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=50, help="Series posted one at a time.")
    parser.add_argument("--data", type=Path, default=m4.DATA, help="M4 Hourly directory.")
    parser.add_argument("--no-record", action="store_true", help="Do not update BENCHMARKS.md.")
    return parser.parse_args()


def service_env(work: Path) -> dict[str, str]:
    """A fresh SQLite database and artifact store, everything else at the service's defaults."""
    from migrations.runner import upgrade

    url = f"sqlite:///{work / 'adhoc.db'}"
    upgrade(url)
    return dict(
        os.environ,
        FORECASTER_DATABASE_URL=url,
        FORECASTER_ARTIFACT_DIR=str(work / "artifacts"),
        FORECASTER_LOG_FORMAT="json",
        FORECASTER_DEVICE="cpu",
    )


def start_service(env: dict[str, str], work: Path) -> list[subprocess.Popen[bytes]]:
    """The API and one worker, each in its own process; returns once the API is ready."""
    port = free_port()
    env["ADHOC_PORT"] = str(port)
    serve = [CLI, "serve", "--port", str(port), "--workers-inline", "0", "--no-scheduler"]
    procs = []
    for name, command in (("server", serve), ("worker", [CLI, "worker"])):
        with (work / f"{name}.log").open("wb") as log:
            procs.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
    wait_ready(port, procs[0], work)
    time.sleep(5)  # the worker's forecast lane warms torch up once at start
    return procs


def run_phases(
    env: dict[str, str],
    work: Path,
    train: dict[str, np.ndarray],
    test: dict[str, np.ndarray],
    n_single: int,
) -> list[dict[str, Any]]:
    """Every phase's answers: latency, method and accuracy per request."""
    ids = list(train)
    with httpx.Client(base_url=f"http://127.0.0.1:{env['ADHOC_PORT']}", timeout=600) as client:
        rows = phases(client, train, test, ids[:n_single], ids[:60], "idle")
        job_id = start_training(client, env, train)
        rows += phases(client, train, test, ids[:20], ids[:20], "training")
        client.post(f"/v1/jobs/{job_id}/cancel")
    return rows


def phases(
    client: httpx.Client,
    train: dict[str, np.ndarray],
    test: dict[str, np.ndarray],
    singles: list[str],
    batched: list[str],
    state: str,
) -> list[dict[str, Any]]:
    """Phases 1-3 (one at a time, the 1,464-point case, 20 at a time) in one worker state."""
    rows = [post(client, train, test, [uid], f"1 M4 series, {state}") for uid in singles]
    case = issue_case()
    rows += [post(client, case, {}, ["case"], f"1,464 points h=24, {state}") for _ in range(10)]
    for i in range(0, len(batched), BATCH):
        rows.append(post(client, train, test, batched[i : i + BATCH], f"20 M4 series, {state}"))
    return rows


def issue_case() -> dict[str, np.ndarray]:
    """The issue's request: 61 days of one hourly series (1,464 points) with a daily cycle."""
    rng = np.random.default_rng(0)
    t = np.arange(1464)
    y = 100 + 20 * np.sin(2 * np.pi * t / 24) + 5 * np.sin(2 * np.pi * t / 168)
    return {"case": y + rng.normal(0, 3, len(t))}


def post(
    client: httpx.Client,
    train: dict[str, np.ndarray],
    test: dict[str, np.ndarray],
    ids: list[str],
    phase: str,
) -> dict[str, Any]:
    """POST one request (the service's defaults) and score its answer where a test exists."""
    horizon = 48 if test else 24
    frame = m4.to_long({uid: train[uid] for uid in ids})
    series = [
        {
            "unique_id": uid,
            "ds": g["ds"].dt.strftime("%Y-%m-%dT%H:%M:%S").tolist(),
            "y": g["y"].tolist(),
        }
        for uid, g in frame.groupby("unique_id", sort=False)
    ]
    started = time.perf_counter()
    response = client.post("/v1/forecast", json={"horizon": horizon, "series": series})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"HTTP {response.status_code}: {response.text[:500]}")
    answer = response.json()
    fallback = answer.get("fallback") or {}
    row = {"phase": phase, "seconds": elapsed, "method": answer["method"], **fallback}
    if test:
        row["scores"] = [
            accuracy(f, train[f["unique_id"]], test[f["unique_id"]]) for f in answer["forecasts"]
        ]
    return row


def accuracy(forecast: dict[str, Any], history: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """MASE and sMAPE of one answer and of seasonal naive on the same M4 test window."""
    point = np.asarray(forecast["mean"], dtype=float)
    naive = seasonal_naive(history, len(actual), m4.SEASON)
    return {
        "mase": mase(actual, point, history, m4.SEASON),
        "smape": smape(actual, point),
        "naive_mase": mase(actual, naive, history, m4.SEASON),
        "naive_smape": smape(actual, naive),
    }


def start_training(client: httpx.Client, env: dict[str, str], train: dict[str, np.ndarray]) -> int:
    """Store M4 Hourly as a dataset, queue a ten-minute default training job, wait till it runs."""
    from models.datasets import upsert_observations
    from models.db import make_engine, make_session_factory, session_scope

    engine = make_engine(env["FORECASTER_DATABASE_URL"])
    with session_scope(make_session_factory(engine)) as session:
        upsert_observations(session, "m4", m4.to_long(train))
    engine.dispose()
    body = {"dataset": "m4", "horizon": 48, "config": {"time_budget_s": 600}}
    job = client.post("/v1/models/m4-default/train", json=body).json()
    while client.get(f"/v1/jobs/{job['id']}").json()["status"] != "running":
        time.sleep(0.5)
    time.sleep(10)  # into its epochs, not only its data preparation
    return int(job["id"])


def render(rows: list[dict[str, Any]], n_single: int) -> str:
    """The BENCHMARKS.md section: a latency/method table and an accuracy table."""
    today = dt.date.today().isoformat()
    lines = [
        f"Command: `.venv/bin/python bench/adhoc.py --series {n_single}`. Date: {today}. Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, one `forecaster worker` and "
        "`forecaster serve` on SQLite, the service's defaults (no config, no deadline given). "
        f"Load average at the end: {os.getloadavg()[0]:.1f} (a shared machine: other "
        "developers' tests and benchmarks ran meanwhile, so latencies are pessimistic and the "
        "time-budgeted network trained fewer epochs than it would alone).",
        "",
        "| phase | requests | p50 s | p95 s | network | lost_to_baseline | deadline |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in dict.fromkeys(r["phase"] for r in rows):
        group = [r for r in rows if r["phase"] == phase]
        seconds = np.array([r["seconds"] for r in group])
        reasons = Counter(r.get("reason", "network") for r in group)
        share = {k: f"{100 * v / len(group):.0f}%" for k, v in reasons.items()}
        lines.append(
            f"| {phase} | {len(group)} | {np.percentile(seconds, 50):.2f} | "
            f"{np.percentile(seconds, 95):.2f} | {share.get('network', '0%')} | "
            f"{share.get('lost_to_baseline', '0%')} | {share.get('deadline', '0%')} |"
        )
    lines += ["", accuracy_table(rows)]
    return "\n".join(lines)


def accuracy_table(rows: list[dict[str, Any]]) -> str:
    """Mean and median MASE and mean sMAPE per phase, beside seasonal naive (m = 24)."""
    lines = [
        "| phase (M4 test, h = 48) | series | MASE mean / median "
        "| seasonal naive MASE mean / median | sMAPE | seasonal naive sMAPE |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for phase in dict.fromkeys(r["phase"] for r in rows if "scores" in r):
        scores = pd.DataFrame([s for r in rows if r["phase"] == phase for s in r["scores"]])
        lines.append(
            f"| {phase} | {len(scores)} | {scores['mase'].mean():.3f} / "
            f"{scores['mase'].median():.3f} | {scores['naive_mase'].mean():.3f} / "
            f"{scores['naive_mase'].median():.3f} | {scores['smape'].mean():.2f} | "
            f"{scores['naive_smape'].mean():.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
