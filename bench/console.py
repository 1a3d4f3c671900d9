"""Console speed in headless Chromium: first-load transfer and a 20,000-point series page.

Starts ``forecaster serve`` (one inline worker) on a temporary SQLite database, ingests one
hourly series of 20,000 points, trains a tiny model on it, then measures in Debian's Chromium
(through Playwright, cache empty):

- the bytes the first page load transfers (the console's HTML, scripts, styles and the first
  API answers), from the browser's resource timing;
- on the series page, the time from navigation start until the 20,000-point history chart is
  drawn, until the fan chart with the forecast is drawn, and the time one zoom takes to redraw.

Prints the figures; append them to BENCHMARKS.md by hand. Usage:
``.venv/bin/python bench/console.py [--points 20000] [--runs 5] [--database-url URL]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from playwright.sync_api import Page, sync_playwright

CLI = str(Path(sys.executable).with_name("forecaster"))
TINY = {"hidden_size": 8, "num_layers": 1, "lookback": 48, "epochs": 1, "ensemble": 1}


@contextmanager
def served(directory: Path, database_url: str | None) -> Iterator[str]:
    """A service on DATABASE_URL (default: a fresh SQLite file in DIRECTORY); its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "FORECASTER_DATABASE_URL": database_url or f"sqlite:///{directory / 'bench.db'}",
        "FORECASTER_ARTIFACT_DIR": str(directory / "artifacts"),
        "FORECASTER_DEVICE": "cpu",
        "FORECASTER_WORKER_POLL_SECONDS": "0.2",
    }
    subprocess.run([CLI, "migrate"], env=env, check=True, capture_output=True)
    log = (directory / "serve.log").open("wb")
    server = subprocess.Popen(
        [CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/readyz", timeout=2).status_code == 200)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def wait_until(probe: Any, timeout: float = 300) -> None:
    """Poll PROBE until it is true (transport errors count as not yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise TimeoutError("gave up waiting")


def prepare(url: str, points: int) -> None:
    """One hourly series of POINTS values in dataset "big" and a tiny model "big" on it."""
    steps = np.arange(points)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "unique_id": "s0",
            "ds": pd.date_range("2023-01-01", periods=points, freq="h").strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "y": 100 + 20 * np.sin(2 * np.pi * steps / 24) + rng.normal(0, 3, points),
        }
    )
    with httpx.Client(base_url=url, timeout=120) as client:
        client.put(
            "/v1/datasets/big/observations",
            content=frame.to_csv(index=False),
            headers={"content-type": "text/csv"},
        ).raise_for_status()
        job = client.post(
            "/v1/models/big/train", json={"dataset": "big", "horizon": 48, "config": TINY}
        ).json()
        wait_until(lambda: client.get(f"/v1/jobs/{job['id']}").json()["status"] == "succeeded")


def transferred(page: Page) -> int:
    """Bytes the page's navigation and resources transferred (headers included)."""
    total: int = page.evaluate(
        """() => performance.getEntriesByType("navigation")
            .concat(performance.getEntriesByType("resource"))
            .reduce((sum, e) => sum + e.transferSize, 0)"""
    )
    return total


def series_timings(page: Page, url: str) -> dict[str, float]:
    """Milliseconds from navigation start: history drawn, fan chart drawn; one zoom's redraw."""
    page.goto(f"{url}/#/series?dataset=big&id=s0&model=big")
    page.wait_for_function("window.__consoleTimings && window.__consoleTimings.fan_forecast")
    timings: dict[str, float] = page.evaluate("window.__consoleTimings")
    timings["zoom_ms"] = page.evaluate(
        """() => new Promise((resolve) => {
            const u = document.getElementById("fan-chart")._uplot;
            const xs = u.data[0];
            const start = performance.now();
            u.setScale("x", { min: xs[Math.floor(xs.length / 3)], max: xs[xs.length - 1] });
            requestAnimationFrame(() => resolve(performance.now() - start));
        })"""
    )
    timings["points"] = page.evaluate("document.getElementById('fan-chart')._uplot.data[0].length")
    timings["history_render_ms"] = timings["fan_history"] - timings["fan_history_start"]
    timings["series_fetch_ms"] = page.evaluate(
        """() => performance.getEntriesByType("resource")
            .filter((e) => e.name.includes("/series/s0"))
            .map((e) => e.responseEnd - e.startTime)[0]"""
    )
    return timings


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="an empty database (default: a SQLite file)")
    args = parser.parse_args()
    chromium = os.environ.get("FORECASTER_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        sys.exit("no Chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp, served(Path(tmp), args.database_url) as url:
        prepare(url, args.points)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            loads, runs = [], []
            for _ in range(args.runs):
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.goto(f"{url}/")
                page.wait_for_selector("table.datasets")
                page.wait_for_load_state("networkidle")
                loads.append(transferred(page))
                page.context.close()
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                runs.append(series_timings(page, url))
                page.context.close()
            browser.close()
    report(loads, runs)


def report(loads: list[int], runs: list[dict[str, float]]) -> None:
    """Print medians (and ranges) of the runs."""

    def median(key: str) -> str:
        values = [r[key] for r in runs]
        middle = statistics.median(values)
        return f"median {middle:.0f} ms (min {min(values):.0f}, max {max(values):.0f})"

    print(f"first page load (datasets page): {statistics.median(loads) / 1024:.0f} KiB transferred")
    print(f"series page, {int(runs[0]['points']):,} x values (history + forecast):")
    print(f"  history chart drawn after navigation start: {median('fan_history')}")
    print(f"  fan chart with the forecast drawn:          {median('fan_forecast')}")
    print(f"  one zoom redrawn:                           {median('zoom_ms')}")
    print(f"  of which the 20,000-point answer's fetch:   {median('series_fetch_ms')}")
    print(f"  of which the chart's build and first draw: {median('history_render_ms')}")


if __name__ == "__main__":
    main()
