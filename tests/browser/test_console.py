"""The console in a real browser against a real service: upload, train, watch, forecast, promote.

Every test also checks that the browser asked no other host for anything and logged no error.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Served, Watched, watch

pytestmark = pytest.mark.slow
HORIZON = 12
TERMINAL = {"succeeded", "failed", "cancelled"}
# Tiny and bounded by time, not epochs: many quick epochs for several seconds, so the page can
# be seen updating while the job runs.
TRAIN_CONFIG = (
    '{"hidden_size": 4, "num_layers": 1, "lookback": 24, "ensemble": 1, "batch_size": 32,'
    ' "epochs": 100000, "patience": 100000, "time_budget_s": 8}'
)


def demand_csv(path: Path, series: int = 4, points: int = 24 * 14) -> Path:
    """Hourly daily-seasonal series store-0..store-N as a long CSV file."""
    rng = np.random.default_rng(3)
    ds = pd.date_range("2026-01-01", periods=points, freq="h")
    season = np.sin(np.arange(points) * 2 * np.pi / 24)
    frame = pd.concat(
        pd.DataFrame(
            {
                "unique_id": f"store-{i}",
                "ds": ds.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "y": 50 + 10 * i + 8 * season + rng.normal(0, 1, points),
            }
        )
        for i in range(series)
    )
    frame.to_csv(path, index=False)
    return path


def assert_clean(watched: Watched) -> None:
    """No request left the host; no console error; no uncaught script error."""
    assert watched.foreign_requests() == []
    assert watched.console_errors == []
    assert watched.page_errors == []


def test_upload_train_watch_forecast_promote(
    browser: Browser, service: Served, tmp_path: Path
) -> None:
    watched = watch(browser, service.url)
    page = watched.page
    upload(page, service, demand_csv(tmp_path / "demand.csv"))
    epochs = train_and_watch(page, service)
    assert len(epochs) >= 2, f"the epoch shown never changed: {epochs}\n{service.output()}"
    forecast_on_series_page(page, service)
    promote(page, service)
    forecast_page_download(page, service)
    accuracy_page(page, service)
    assert_clean(watched)


def upload(page: Page, service: Served, csv: Path) -> None:
    page.goto(f"{service.url}/")
    page.fill("input[name=dataset]", "sales")
    page.set_input_files("input[name=file]", str(csv))
    page.click("form button[type=submit]")
    expect(page.locator(".upload-result .ok")).to_contain_text("Stored 1,344 rows of 4 series")
    row = page.locator("table.datasets tbody tr", has_text="sales")
    expect(row).to_contain_text("1,344")
    expect(row.locator("td").nth(3)).to_have_text("h")  # the frequency, asked per dataset


def test_an_upload_error_is_shown_by_field(
    browser: Browser, service: Served, tmp_path: Path
) -> None:
    watched = watch(browser, service.url)
    page = watched.page
    page.goto(f"{service.url}/")
    bad = tmp_path / "bad.csv"
    bad.write_text("unique_id,ds,value\nx,2026-01-01T00:00:00Z,1\n")
    page.fill("input[name=dataset]", "broken")
    page.set_input_files("input[name=file]", str(bad))
    page.click("form button[type=submit]")
    problem = page.locator(".upload-result .problem")
    expect(problem).to_be_visible()
    expect(problem.locator("table.field-errors td").first).to_have_text("csv.header")
    expect(problem).to_contain_text("expected the columns unique_id,ds,y")
    assert httpx.get(f"{service.url}/v1/datasets/broken").status_code == 404
    # The browser logs the refused upload itself (a 422); nothing else may be logged.
    assert watched.console_errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    assert watched.foreign_requests() == []
    assert watched.page_errors == []


def train_and_watch(page: Page, service: Served) -> list[str]:
    """Start training from the Jobs page; return the distinct epochs the page showed."""
    page.goto(f"{service.url}/#/jobs")
    page.fill("#train-model", "demand")
    page.select_option("#train-dataset", "sales")
    page.fill("#train-horizon", str(HORIZON))
    page.fill("#train-config", TRAIN_CONFIG)
    page.select_option("#train-promote", "never")
    page.click("#train-submit")
    page.wait_for_url("**/#/jobs?id=*")
    page.evaluate("window.__sameDocument = true")
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        epoch = page.locator("#job-epoch").text_content(timeout=5000) or ""
        if epoch not in ("", "–") and epoch not in seen:
            seen.append(epoch)
        if page.locator(".badge.succeeded").count():
            break
        assert not page.locator(".badge.failed").count(), service.output()
        page.wait_for_timeout(250)
    expect(page.locator(".card", has_text="Result")).to_contain_text("demand v1")
    assert page.evaluate("window.__sameDocument") is True  # updated in place, never reloaded
    points = page.evaluate("document.getElementById('loss-chart')._uplot.data[0].length")
    assert points >= 2  # loss curves with at least two epochs drawn
    return seen


def forecast_on_series_page(page: Page, service: Served) -> None:
    page.goto(f"{service.url}/#/series?dataset=sales")
    page.fill("#series-search", "ORE-3")  # case-insensitive substring search, served by the API
    expect(page.locator(".series-list li")).to_have_count(1)
    expect(page.locator(".series-list li")).to_contain_text("store-3")
    page.goto(f"{service.url}/#/series?dataset=sales&id=store-1&model=demand@1")
    rows = page.locator("#forecast-table tbody tr")
    expect(rows).to_have_count(HORIZON)
    table = [
        [float(cell.replace(",", "")) for cell in row.locator("td").all_text_contents()[1:]]
        for row in rows.all()
    ]
    # Columns: 95% low, 80% low, median, 80% high, 95% high: a fan never crosses itself.
    assert all(r == sorted(r) for r in table), table
    body = {"model": "demand@1", "horizon": HORIZON, "dataset": "sales", "unique_ids": ["store-1"]}
    answer = httpx.post(f"{service.url}/v1/forecast", json=body).json()["forecasts"][0]
    assert [r[2] for r in table] == pytest.approx(answer["quantiles"]["0.5"], abs=1e-3)
    fan = fan_chart(page)
    assert fan["points"] == 24 * 14 + HORIZON
    assert fan["paths"] == {"95% low": True, "80% low": True, "median": True, "actual": True}
    assert fan["bandPixels"] > 500, fan


def fan_chart(page: Page) -> dict[str, Any]:
    """What the fan chart's canvas holds: point count, which series have paths, band pixels."""
    result: dict[str, Any] = page.evaluate(
        """() => {
        const u = document.getElementById("fan-chart")._uplot;
        const paths = {};
        const named = ["95% low", "80% low", "median", "actual"];
        for (const s of u.series.slice(1)) {
            if (named.includes(s.label)) paths[s.label] = !!s._paths;
        }
        // Pixels right of the last observation tinted by the bands (blue over white).
        const lastSeen = u.data[0][u.data[0].length - 13];
        const left = Math.ceil(u.valToPos(lastSeen, "x", true)) + 2;
        const canvas = u.ctx.canvas;
        const img = u.ctx.getImageData(left, 0, canvas.width - left, canvas.height).data;
        let bandPixels = 0;
        for (let i = 0; i < img.length; i += 4) {
            const [r, g, b] = [img[i], img[i + 1], img[i + 2]];
            if (b > 200 && b - r > 25 && b - g > 10) bandPixels += 1;
        }
        return { points: u.data[0].length, paths, bandPixels };
    }"""
    )
    return result


def promote(page: Page, service: Served) -> None:
    page.goto(f"{service.url}/#/models?name=demand&version=1")
    expect(page.locator(".card", has_text="Covariates")).to_contain_text("none: it reads y alone")
    page.fill("#promote-alias", "production")
    page.click("#promote")
    expect(page.locator("table.aliases")).to_contain_text("production")
    model = httpx.get(f"{service.url}/v1/models/demand").json()
    assert model["aliases"] == {"production": 1}


def forecast_page_download(page: Page, service: Served) -> None:
    """Start a forecast from the Forecast page and download it as CSV."""
    page.goto(f"{service.url}/#/forecast")
    page.select_option("#fc-dataset", "sales")
    page.fill("#fc-ids", "store-0, store-2")
    page.select_option("#fc-model", "demand@production")
    page.click("#fc-run")
    expect(page.locator("#forecast-result .card h2")).to_contain_text("2 series by demand v1")
    with page.expect_download() as download:
        page.click("#fc-download")
    frame = pd.read_csv(download.value.path())
    quantiles = ["q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]
    assert list(frame.columns) == ["unique_id", "ds", "mean", *quantiles]
    assert frame.groupby("unique_id").size().to_dict() == {"store-0": HORIZON, "store-2": HORIZON}


def test_schedules_and_cancelling_a_job(browser: Browser, service: Served, tmp_path: Path) -> None:
    with httpx.Client(base_url=service.url, timeout=30) as client:
        schedule_and_cancel(browser, service, client, tmp_path)


def schedule_and_cancel(
    browser: Browser, service: Served, client: httpx.Client, tmp_path: Path
) -> None:
    csv = demand_csv(tmp_path / "cancel.csv", series=2, points=24 * 10).read_bytes()
    client.put(
        "/v1/datasets/cancel-me/observations", content=csv, headers={"content-type": "text/csv"}
    ).raise_for_status()
    watched = watch(browser, service.url)
    page = watched.page
    page.goto(f"{service.url}/#/schedules")
    page.fill("#schedule-model", "nightly")
    page.fill("#schedule-cron", "30 2 * * *")
    page.fill("#schedule-tz", "Europe/Berlin")
    page.select_option("#schedule-dataset", "cancel-me")
    page.click("#schedule-submit")
    row = page.locator("table.schedules tbody tr", has_text="nightly")
    expect(row).to_contain_text("Europe/Berlin")
    expect(row.locator("li")).to_have_count(3)  # the next three runs
    row.locator("button.toggle").click()
    expect(row.locator(".badge")).to_have_text("disabled")
    long = {"hidden_size": 4, "epochs": 100_000, "patience": 100_000, "time_budget_s": 120}
    job = client.post(
        "/v1/models/slow/train", json={"dataset": "cancel-me", "horizon": 6, "config": long}
    ).json()
    page.goto(f"{service.url}/#/jobs?id={job['id']}")
    page.click("#cancel-job")
    expect(page.locator(".badge.cancelled")).to_be_visible(timeout=60_000)
    assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "cancelled"
    assert_clean(watched)


def test_a_version_shows_the_covariates_it_reads(
    browser: Browser, service: Served, tmp_path: Path
) -> None:
    frame = pd.read_csv(demand_csv(tmp_path / "promo.csv", series=2, points=24 * 10))
    frame["promo"] = (np.arange(len(frame)) % 24 == 18).astype(int)
    frame["region"] = frame["unique_id"].map({"store-0": "north", "store-1": "south"})
    covariates = {"past": ["promo"], "static": ["region"], "categorical": ["region"]}
    config = {"hidden_size": 4, "lookback": 24, "ensemble": 1, "epochs": 2}
    with httpx.Client(base_url=service.url, timeout=30) as client:
        client.put(
            "/v1/datasets/promos/observations",
            content=frame.to_csv(index=False).encode(),
            headers={"content-type": "text/csv"},
        ).raise_for_status()
        body = {"dataset": "promos", "horizon": 6, "covariates": covariates, "config": config}
        answer = client.post("/v1/models/promoted/train", json=body)
        assert answer.status_code == 202, answer.text
        job = answer.json()
        deadline = time.monotonic() + 120
        while client.get(f"/v1/jobs/{job['id']}").json()["status"] not in TERMINAL:
            assert time.monotonic() < deadline, service.output()
            time.sleep(0.25)
        assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "succeeded"
    watched = watch(browser, service.url)
    page = watched.page
    page.goto(f"{service.url}/#/models?name=promoted&version=1")
    card = page.locator(".card", has_text="Covariates")
    expect(card).to_contain_text("past")
    expect(card).to_contain_text("promo")
    expect(card).to_contain_text("static")
    expect(card).to_contain_text("categorical")
    expect(card).to_contain_text("region")
    expect(card).not_to_contain_text("future")  # a role without columns is left out
    assert_clean(watched)


def accuracy_page(page: Page, service: Served) -> None:
    """Live accuracy where the server scores logged forecasts; else said to be not available."""
    paths = httpx.get(f"{service.url}/openapi.json").json()["paths"]
    page.goto(f"{service.url}/#/accuracy?model=demand")
    if "/v1/models/{model}/accuracy" in paths:
        expect(page.locator(".card", has_text="Live against the backtest")).to_be_visible()
    else:
        expect(page.locator(".not-available")).to_contain_text("not available on this server")
