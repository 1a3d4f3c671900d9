"""Screenshots of the console's main pages for README, taken in headless Chromium.

Starts ``forecaster serve`` (one inline worker) on a temporary SQLite database, ingests a demo
dataset, trains two small versions (the first promoted), starts a long job to show live progress,
adds a schedule, and writes ``docs/console-<page>.png``. Usage:
``.venv/bin/python bench/screenshots.py [--out docs]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from console import served, wait_until
from playwright.sync_api import Page, sync_playwright

SMALL = {"hidden_size": 16, "lookback": 72, "epochs": 15, "ensemble": 1}
LONG = {**SMALL, "epochs": 100_000, "patience": 100_000, "time_budget_s": 120}
PAGES = {
    "datasets": ("#/datasets", "table.datasets"),
    "series": ("#/series?dataset=demand&id=store-02&model=demand@production", "#forecast-table"),
    "model": ("#/models?name=demand&version=2", "table.versions"),
    "jobs": ("#/jobs?id=3", "#loss-chart canvas"),
    "schedules": ("#/schedules", "table.schedules"),
}


def demo_csv(series: int = 12, days: int = 42) -> str:
    """Hourly store demand: a daily and weekly cycle, a level per store, noise."""
    rng = np.random.default_rng(7)
    ds = pd.date_range("2026-01-01", periods=24 * days, freq="h")
    hours, weekday = ds.hour.to_numpy(), ds.day_of_week.to_numpy()
    frames = []
    for i in range(series):
        level = 40 + 25 * i
        shape = (1 + 0.5 * np.sin(2 * np.pi * (hours - 6) / 24)) * np.where(weekday < 5, 1.15, 0.8)
        y = level * shape + rng.normal(0, level * 0.06, len(ds))
        frames.append(pd.DataFrame({"unique_id": f"store-{i:02d}", "ds": ds, "y": y.round(2)}))
    frame = pd.concat(frames)
    frame["ds"] = frame["ds"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return frame.to_csv(index=False)


def populate(client: httpx.Client) -> None:
    """The data the screenshots show: a dataset, two versions, a running job, a schedule."""
    client.put(
        "/v1/datasets/demand/observations",
        content=demo_csv(),
        headers={"content-type": "text/csv"},
    ).raise_for_status()
    train = {"dataset": "demand", "horizon": 24, "config": SMALL}
    promote = {"alias": "production", "policy": "always"}
    for body in ({**train, "promote": promote}, train):
        job = client.post("/v1/models/demand/train", json=body).json()
        wait_until(lambda j=job: client.get(f"/v1/jobs/{j['id']}").json()["status"] == "succeeded")
    client.post("/v1/models/demand/train", json={**train, "config": LONG}).raise_for_status()
    schedule = {"model": "demand", "cron": "0 3 * * *", "timezone": "Europe/Berlin", "train": train}
    client.post("/v1/schedules", json=schedule).raise_for_status()
    time.sleep(8)  # a few epochs of the long job, for its loss curves


def shoot(page: Page, url: str, out: Path) -> None:
    """One screenshot per page, once its main element is there."""
    for name, (route, ready) in PAGES.items():
        page.goto(f"{url}/{route}")
        page.wait_for_selector(ready)
        page.wait_for_timeout(600)  # charts settle
        page.screenshot(path=str(out / f"console-{name}.png"), full_page=False)
        print(f"wrote {out / f'console-{name}.png'}")


def main() -> None:
    """Serve, populate, shoot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "docs")
    args = parser.parse_args()
    chromium = os.environ.get("FORECASTER_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        sys.exit("no Chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp, served(Path(tmp), None) as url:
        with httpx.Client(base_url=url, timeout=120) as client:
            populate(client)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            shoot(page, url, args.out)
            browser.close()


if __name__ == "__main__":
    main()
