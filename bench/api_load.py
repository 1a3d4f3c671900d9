"""API load benchmark: many concurrent clients of POST /v1/forecast with a stored model.

Usage: python bench/api_load.py [--duration 30] [--connections 1,8,32,128] [--processes 2]
       [--wait-ms 2] [--max-series 256] [--no-record]

It trains and registers a default-shaped model (as bench/api_latency.py does), starts the real
server (``forecaster serve --processes N --workers-inline 0 --no-scheduler``, JSON request logs
and the forecast log on) and, from a separate load-generator process (raw HTTP/1.1 on asyncio
streams with uvloop, a fixed number of keep-alive connections, each sending its next request as
soon as the previous answer arrives), sends one series of 200 hourly points with h = 24 per
request for ``--duration`` seconds at each connection count. It prints requests/s,
p50/p95/p99 latency, errors, the batch sizes the server formed (from the ``X-Batch-Requests``
header of every answer) and the mean queue and compute time per answer; then the latency of
1,000 series in one request. By default it records the table in BENCHMARKS.md under
"## API under load". Nothing here asserts the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_latency import free_port, synthetic, train_and_register, wait_ready  # noqa: E402
from sections import record  # noqa: E402

SECTION = "## API under load"
POINTS = 200
HORIZON = 24
BIG = 1000


def bodies(work: Path, count: int) -> list[Path]:
    """``count`` one-series request bodies (different series), and one of BIG series last."""
    data = synthetic(BIG, POINTS, seed=1)
    ids = sorted(data["unique_id"].unique())
    series = [
        {
            "unique_id": uid,
            "ds": group["ds"].dt.strftime("%Y-%m-%dT%H:%M:%S").tolist(),
            "y": group["y"].round(4).tolist(),
        }
        for uid, group in data.groupby("unique_id", sort=True)
    ]
    files = []
    for i in range(count):
        files.append(work / f"one-{i}.json")
        body = {"model": "bench", "horizon": HORIZON, "series": [series[i % len(ids)]]}
        files[-1].write_text(json.dumps(body))
    files.append(work / "big.json")
    files[-1].write_text(json.dumps({"model": "bench", "horizon": HORIZON, "series": series}))
    return files


def trained_model(work: Path) -> tuple[str, Any]:
    """The database URL and the model: trained and registered in ``work``, or reused from it."""
    from forecaster import Forecaster
    from models.artifacts import ArtifactStore

    marker = work / "sha256.txt"
    if marker.exists():
        directory = ArtifactStore(work / "artifacts").open(marker.read_text())
        return f"sqlite:///{work / 'bench.db'}", Forecaster.load(directory)
    work.mkdir(parents=True, exist_ok=True)
    url, sha256, model, _ = train_and_register(work)
    marker.write_text(sha256)
    return url, model


def start_server(url: str, work: Path, port: int, args: argparse.Namespace) -> Any:
    """``forecaster serve --processes N`` on the benchmark database, in its own process group."""
    env = dict(
        os.environ,
        FORECASTER_DATABASE_URL=url,
        FORECASTER_ARTIFACT_DIR=str(work / "artifacts"),
        FORECASTER_LOG_FORMAT="json",
        FORECASTER_BATCH_WAIT_MS=str(args.wait_ms),
        FORECASTER_BATCH_MAX_SERIES=str(args.max_series),
    )
    cli = str(ROOT / ".venv" / "bin" / "forecaster")
    command = [cli, "serve", "--port", str(port), "--workers-inline", "0", "--no-scheduler"]
    command += ["--processes", str(args.processes)]
    with (work / "server.log").open("wb") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


class HttpError(Exception):
    """A response the client could not read (closed connection, malformed status line)."""


def request_bytes(port: int, body: bytes) -> bytes:
    """One complete, pre-encoded HTTP/1.1 POST /v1/forecast with keep-alive."""
    head = (
        f"POST /v1/forecast HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bool]:
    """(status, headers, keep-alive) of one response whose body is read and dropped.

    The server frames every answer with Content-Length (or chunked encoding, handled too)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise HttpError("connection closed before a response") from exc
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError(f"malformed status line {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return int(parts[1]), headers, headers.get("connection", "").lower() != "close"


async def drive(port: int, files: list[Path], connections: int, seconds: float) -> dict[str, Any]:
    """``connections`` clients, each posting its next body as soon as an answer arrives.

    A cheap client, so that it takes little of the CPU it shares with the server: raw HTTP/1.1
    over TCP on asyncio streams, one keep-alive connection per client, request bytes encoded
    once. Every failure counts as an error: a refused or reset connection, a response that cannot
    be read, any status other than 200."""
    requests = [request_bytes(port, f.read_bytes()) for f in files]
    latencies: list[float] = []
    batches: list[int] = []
    queue: list[float] = []
    compute: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    def failed(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    async def client_loop(k: int) -> None:
        i = k
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                if stream is None:
                    stream = await asyncio.open_connection("127.0.0.1", port)
                reader, writer = stream
                writer.write(requests[i % len(requests)])
                await writer.drain()
                status, headers, keep_alive = await read_response(reader)
            except (OSError, HttpError, ValueError) as exc:
                failed(type(exc).__name__)
                _closed(stream)
                stream = None
                continue
            latencies.append(time.perf_counter() - start)
            i += connections
            if not keep_alive:
                _closed(stream)
                stream = None
            if status != 200:
                failed(str(status))
                continue
            batches.append(int(headers.get("x-batch-requests", "1")))
            queue.append(float(headers.get("x-queue-ms", "nan")))
            compute.append(float(headers.get("x-compute-ms", "nan")))
        _closed(stream)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client_loop(k) for k in range(connections)))
    elapsed = time.perf_counter() - started
    result = summary(latencies, batches, queue, compute, errors, elapsed)
    return result | {"client_cpu_s": time.process_time() - cpu}


def _closed(stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
    if stream is not None:
        stream[1].close()


def summary(
    latencies: list[float],
    batches: list[int],
    queue: list[float],
    compute: list[float],
    errors: dict[str, int],
    elapsed: float,
) -> dict[str, Any]:
    """The figures of one run."""
    lat = np.array(latencies) if latencies else np.array([np.nan])
    sizes = np.array(batches) if batches else np.array([0])
    return {
        "requests": len(latencies),
        "rps": len(batches) / elapsed,
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "p99": float(np.percentile(lat, 99)),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "batch_mean": float(sizes.mean()),
        "batch_p50": float(np.percentile(sizes, 50)),
        "batch_max": int(sizes.max()),
        "queue_ms": float(np.nanmean(queue)) if queue else float("nan"),
        "compute_ms": float(np.nanmean(compute)) if compute else float("nan"),
    }


def run_level(
    port: int, files: list[Path], connections: int, seconds: float, server: int
) -> dict[str, Any]:
    """One connection count, in a separate load-generator process; with the CPU time the
    server's processes (``server`` and its descendants) and the load generator spent per
    answered request (on a shared machine, a steadier guide than wall-clock figures)."""
    args = [sys.executable, __file__, "--drive", str(port), str(connections), str(seconds)]
    args += [str(f) for f in files]
    before = tree_cpu_seconds(server)
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    spent = tree_cpu_seconds(server) - before
    if done.returncode != 0:
        raise SystemExit(f"the load generator failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    answered = max(result["requests"], 1)
    result["server_cpu_ms"] = spent * 1e3 / answered
    result["client_cpu_ms"] = result.pop("client_cpu_s") * 1e3 / answered
    return result


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants (Linux /proc; 0 elsewhere)."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(entry.parent.name)
        children.setdefault(int(fields[1]), []).append(child)  # field 4: the parent's pid
        times[child] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo.extend(children.get(current, []))
    return total


def table(rows: dict[int, dict[str, Any]], big: dict[str, Any]) -> str:
    lines = [
        "| connections | req/s | p50 ms | p95 ms | p99 ms | errors | batch mean / p50 / max "
        "| queue ms | compute ms | server CPU ms/req | client CPU ms/req |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for n, r in rows.items():
        lines.append(
            f"| {n} | {r['rps']:.1f} | {r['p50'] * 1e3:.1f} | {r['p95'] * 1e3:.1f} "
            f"| {r['p99'] * 1e3:.1f} | {_errors(r)} | {r['batch_mean']:.1f} / "
            f"{r['batch_p50']:.0f} / {r['batch_max']} | {r['queue_ms']:.1f} "
            f"| {r['compute_ms']:.1f} | {r['server_cpu_ms']:.2f} | {r['client_cpu_ms']:.2f} |"
        )
    lines.append(
        f"\n1,000 series in one request (1 connection, {big['requests']} requests): "
        f"p50 {big['p50'] * 1e3:.0f} ms, p95 {big['p95'] * 1e3:.0f} ms, "
        f"compute {big['compute_ms']:.0f} ms, errors {big['errors']}."
    )
    return "\n".join([*lines, "", verdicts(rows, big)])


def verdicts(rows: dict[int, dict[str, Any]], big: dict[str, Any]) -> str:
    """The issue's targets, met or not, on this run."""
    met = {True: "met", False: "NOT met"}
    lines = []
    if 32 in rows:
        r = rows[32]
        ok = r["rps"] >= 150 and r["p99"] <= 0.25 and r["errors"] == 0
        lines.append(
            f"- 32 connections: {r['rps']:.0f} req/s, p99 {r['p99'] * 1e3:.0f} ms, "
            f"{r['errors']} errors (target >= 150 req/s, p99 <= 250 ms, no errors): {met[ok]}."
        )
    if 1 in rows:
        p50 = rows[1]["p50"]
        lines.append(
            f"- 1 connection p50 {p50 * 1e3:.1f} ms (target <= 10 ms): {met[p50 <= 0.01]}."
        )
    lines.append(
        f"- 1,000 series p50 {big['p50'] * 1e3:.0f} ms (target <= 500 ms): "
        f"{met[big['p50'] <= 0.5]}."
    )
    return "\n".join(lines)


def _errors(row: dict[str, Any]) -> str:
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(row["error_kinds"].items()))
    return f"{row['errors']} ({kinds})" if kinds else "0"


def report(text: str, args: argparse.Namespace, model: Any) -> str:
    today = dt.date.today().isoformat()
    return f"""Command: `.venv/bin/python bench/api_load.py --duration {args.duration:g} \
--connections {args.connections} --processes {args.processes} --wait-ms {args.wait_ms:g} \
--max-series {args.max_series}`. Date: {today}. Machine: {platform.machine()}, \
{os.cpu_count()} cores, shared with other engineers' test suites and benchmarks while measured \
(under contention: figures are pessimistic and vary between runs; re-run on a quiet machine).

Setup: the default-shaped model of bench/api_latency.py ({model.config.cell.upper()}, hidden \
{model.config.hidden_size}, ensemble {model.config.ensemble}, lookback {model.min_history}), \
served by `forecaster serve --processes {args.processes}` with JSON request logs and the \
forecast log on. Each request posts one series of {POINTS} hourly points, h = {HORIZON}; the \
load generator (raw HTTP/1.1 on asyncio streams with uvloop, one process on the same machine) \
keeps each connection busy for {args.duration:g} s. "batch" is the number of requests that \
shared a forward pass (`X-Batch-Requests`); queue and compute are the means of `X-Queue-Ms` \
and `X-Compute-Ms`.

{text}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="Seconds per level.")
    parser.add_argument("--connections", default="1,8,32,128", help="Comma-separated levels.")
    parser.add_argument("--processes", type=int, default=2, help="API processes.")
    parser.add_argument("--wait-ms", type=float, default=2.0, help="FORECASTER_BATCH_WAIT_MS.")
    parser.add_argument("--max-series", type=int, default=256, help="FORECASTER_BATCH_MAX_SERIES.")
    parser.add_argument("--big-requests", type=int, default=10, help="1,000-series requests.")
    parser.add_argument("--work", help="Keep the trained model here and reuse it next time.")
    parser.add_argument("--no-record", action="store_true", help="Do not update BENCHMARKS.md.")
    args = parser.parse_args()
    levels = [int(c) for c in args.connections.split(",")]
    with tempfile.TemporaryDirectory(prefix="api-load-") as tmp:
        work = Path(args.work) if args.work else Path(tmp)
        url, model = trained_model(work)
        files = bodies(work, 256)
        port = free_port()
        server = start_server(url, work, port, args)
        try:
            wait_ready(port, server, work)
            run_level(port, files[:8], 8, 3, server.pid)  # warm-up: every process loads the model
            rows = {n: run_level(port, files[:-1], n, args.duration, server.pid) for n in levels}
            big = _big(port, files[-1], args.big_requests)
        finally:
            server.terminate()
            server.wait(timeout=60)
    text = table(rows, big)
    print(text)
    if not args.no_record:
        record(report(text, args, model), SECTION)


def _big(port: int, body: Path, requests: int) -> dict[str, Any]:
    """Sequential requests of BIG series each (after one warm-up)."""
    import httpx

    payload = body.read_bytes()
    latencies: list[float] = []
    compute: list[float] = []
    errors: dict[str, int] = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        for i in range(requests + 1):
            start = time.perf_counter()
            response = client.post(
                "/v1/forecast", content=payload, headers={"content-type": "application/json"}
            )
            if i == 0:
                continue
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1
            compute.append(float(response.headers.get("x-compute-ms", "nan")))
    return summary(latencies, [1] * len(latencies), [], compute, errors, 1.0)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        port, connections, seconds = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
        paths = [Path(p) for p in sys.argv[5:]]
        import uvloop

        print(json.dumps(uvloop.run(drive(port, paths, connections, seconds))))
    else:
        main()
