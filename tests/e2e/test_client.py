"""The Python client and the user commands against a served instance (serve + a real worker),
on PostgreSQL and SQLite: the numbers they return are the HTTP API's numbers."""

from __future__ import annotations

import io
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from forecaster import DEFAULT_QUANTILES, quantile_column
from forecaster.client import (
    AuthenticationError,
    Client,
    ConflictError,
    ForecasterAPIError,
    JobFailedError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from forecaster.records import records_frame
from tests.conftest import postgres_database
from tests.e2e.served import API_KEY, CLI, MAX_REQUEST_BYTES, TINY, Served, frame, served

pytestmark = pytest.mark.slow
HORIZON = 6


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def service(
    request: pytest.FixtureRequest, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One served instance per database for the whole module."""
    directory = tmp_path_factory.mktemp(f"client-{request.param}")
    if request.param == "sqlite":
        with served(f"sqlite:///{directory / 'forecaster.db'}", directory) as running:
            yield running
        return
    with (
        postgres_database(postgres_url, "forecaster_client") as url,
        served(url, directory) as running,
    ):
        yield running


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _http_forecast(service: Served, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    response = httpx.post(f"{service.url}/v1/forecast", json=body, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _assert_same_numbers(got: pd.DataFrame, answer: dict[str, Any]) -> None:
    """Every ds, mean and quantile of the frame equals the JSON answer's, exactly."""
    assert sorted(got["unique_id"].unique()) == [f["unique_id"] for f in answer["forecasts"]]
    for record in answer["forecasts"]:
        rows = got[got["unique_id"] == record["unique_id"]]
        stamps = pd.to_datetime(rows["ds"]).dt.strftime("%Y-%m-%dT%H:%M:%SZ").tolist()
        assert stamps == record["ds"]
        assert rows["mean"].tolist() == record["mean"]
        for key, values in record["quantiles"].items():
            assert rows[f"q{key}"].tolist() == values


def _trained(service: Served, client: Client, dataset: str) -> str:
    """A model with version 1 (trained by the worker, waited on) aliased production."""
    model = _name("demand")
    job = client.train(model, dataset, HORIZON, config=TINY)
    assert job.status == "queued"
    assert job.wait(progress=True, poll=0.2, timeout=240) == 1, service.output()
    assert client.promote(model, "production", 1) == {
        "model": model,
        "alias": "production",
        "version": 1,
    }
    return model


@pytest.fixture(scope="module")
def demand(service: Served) -> tuple[str, str, pd.DataFrame]:
    """``(dataset, model, history)``: ingested with the client, trained with ``wait``."""
    history, dataset = frame(), _name("sales")
    with Client(service.url, API_KEY) as client:
        stored = client.ingest(dataset, history)
        assert stored == {
            "dataset": dataset,
            "rows": 288,
            "series": 3,
            "new_series": 3,
            "written": 288,
        }
        return dataset, _trained(service, client, dataset), history


def test_ingest_train_and_forecast_equal_the_http_answer(
    service: Served, demand: tuple[str, str, pd.DataFrame]
) -> None:
    dataset, model, history = demand
    with Client(service.url, API_KEY) as client:
        got = client.forecast(model=f"{model}@production", dataset=dataset, horizon=HORIZON)
        posted = client.forecast(model=f"{model}@1", df=history, horizon=HORIZON)
        versions, models = client.versions(model), client.models()
        created = client.schedule(model, "0 4 * * *", {"dataset": dataset, "horizon": HORIZON})
        schedules = client.schedules()
    answer = _http_forecast(
        service, {"model": f"{model}@production", "horizon": HORIZON, "dataset": dataset}
    )
    columns = ["unique_id", "ds", "mean", *(quantile_column(q) for q in DEFAULT_QUANTILES)]
    assert list(got.columns) == columns
    assert {k: got.attrs["model"][k] for k in ("name", "version")} == {"name": model, "version": 1}
    _assert_same_numbers(got, answer)
    pd.testing.assert_frame_equal(posted, got, check_like=False)
    assert [(v["version"], v["aliases"]) for v in versions] == [(1, ["production"])]
    assert any(m["name"] == model and m["aliases"] == {"production": 1} for m in models)
    assert (created["model"], len(created["next_runs"])) == (model, 3)
    assert created["id"] in [s["id"] for s in schedules]


def test_large_frames_go_in_chunks_under_the_body_limit(service: Served) -> None:
    """150,000 rows are over the service's 1 MB limit as one Parquet body: the client splits."""
    rng = np.random.default_rng(3)
    ds = pd.date_range("2024-01-01", periods=5_000, freq="h")
    big = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i:02d}" for i in range(30)], len(ds)),
            "ds": np.tile(ds, 30),
            "y": rng.normal(100, 10, 30 * len(ds)),
        }
    )
    dataset = _name("big")
    with Client(service.url, API_KEY) as client:
        stored = client.ingest(dataset, big)
        summary = next(d for d in client.datasets() if d["name"] == dataset)
        small, history = _name("small"), frame()
        client.ingest(small, history)
        model = _trained(service, client, small)
        whole = client.forecast(model=model, df=history, horizon=HORIZON)
        with Client(service.url, API_KEY, forecast_points=100) as chunked:
            parts = chunked.forecast(model=model, df=history, horizon=HORIZON)
    assert stored == {
        "dataset": dataset,
        "rows": 150_000,
        "series": 30,
        "new_series": 30,
        "written": 150_000,
    }
    assert (summary["series"], summary["points"]) == (30, 150_000)
    pd.testing.assert_frame_equal(parts, whole)


def test_each_error_kind_raises_its_exception(
    service: Served, demand: tuple[str, str, pd.DataFrame]
) -> None:
    dataset = demand[0]
    endless = {**TINY, "epochs": 100_000, "patience": 100_000, "time_budget_s": 300}
    with Client(service.url, API_KEY, retries=0) as client:
        with pytest.raises(NotFoundError) as missing:
            client.versions(_name("nope"))
        with pytest.raises(ValidationError) as invalid:
            client.train("m", dataset, horizon=0)
        with pytest.raises(PayloadTooLargeError) as too_large:
            client.session.request(
                "PUT",
                f"/v1/datasets/{dataset}/observations",
                content=b"0" * (MAX_REQUEST_BYTES + 1),
                headers={"Content-Type": "text/csv"},
            )
        with pytest.raises((UnsupportedMediaTypeError, ValidationError)) as media:
            client.session.request(
                "PUT",
                f"/v1/datasets/{dataset}/observations",
                content=b"x",
                headers={"Content-Type": "image/png"},
            )
        job = client.train(_name("endless"), dataset, HORIZON, config=endless).cancel()
        with pytest.raises(JobFailedError) as stopped:
            job.wait(progress=False, poll=0.2, timeout=240)
        trained = client.jobs(model=demand[1], status="succeeded")[0]
        with pytest.raises(ConflictError) as conflict:
            client.job(trained["id"]).cancel()
    with Client(service.url, api_key="") as anonymous, pytest.raises(AuthenticationError) as denied:
        anonymous.models()
    assert missing.value.status == 404
    assert (invalid.value.status, invalid.value.title) == (422, "Unprocessable Entity")
    assert [e.field for e in invalid.value.errors] == ["body.horizon"]
    assert too_large.value.status == 413
    assert type(media.value) is (
        UnsupportedMediaTypeError if media.value.status == 415 else ValidationError
    )
    assert stopped.value.job["status"] == "cancelled"
    assert conflict.value.status == 409
    assert denied.value.status == 401
    assert isinstance(denied.value, ForecasterAPIError)


# ----- the user commands, in subprocesses ----------------------------------------------------
def _cli(service: Served, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**service.env, "FORECASTER_URL": service.url, "FORECASTER_API_KEY": API_KEY}
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_user_commands_end_to_end(service: Served, tmp_path: Path) -> None:
    history, dataset, model = frame(seed=5), _name("cli-sales"), _name("cli-demand")
    source = tmp_path / "history.csv"
    history.to_csv(source, index=False)
    ingested = json.loads(_ok(_cli(service, "ingest", str(source), "--dataset", dataset, "--json")))
    assert ingested["rows"] == 288
    config = json.dumps(TINY)
    trained = _cli(
        service,
        "train",
        model,
        "--dataset",
        dataset,
        "--horizon",
        str(HORIZON),
        "--config",
        config,
        "--wait",
    )
    assert "epoch" in trained.stderr  # the progress bar
    assert _ok(trained).splitlines()[0].split()[:2] == ["version", "status"]
    assert "production" in _ok(_cli(service, "promote", model, "production", "1"))
    answer = _http_forecast(
        service, {"model": f"{model}@production", "horizon": HORIZON, "dataset": dataset}
    )
    printed = _ok(
        _cli(
            service,
            "forecast",
            "--model",
            f"{model}@production",
            "--dataset",
            dataset,
            "--horizon",
            str(HORIZON),
        )
    )
    _assert_same_numbers(pd.read_csv(io.StringIO(printed)), answer)
    out = tmp_path / "out.parquet"
    _ok(
        _cli(
            service,
            "forecast",
            "-m",
            f"{model}@1",
            "--input",
            str(source),
            "-h",
            str(HORIZON),
            "-o",
            str(out),
        )
    )
    _assert_same_numbers(pd.read_parquet(out), answer)
    versions = json.loads(_ok(_cli(service, "versions", model, "--json")))
    assert [(v["version"], v["aliases"]) for v in versions] == [(1, ["production"])]
    assert model in [m["name"] for m in json.loads(_ok(_cli(service, "models", "--json")))]
    jobs = json.loads(_ok(_cli(service, "jobs", "--model", model, "--json")))
    assert [(j["status"], j["result_version"]) for j in jobs] == [("succeeded", 1)]
    table = _ok(_cli(service, "jobs", "--model", model)).splitlines()
    assert table[0].split() == ["id", "kind", "model", "status", "epoch", "version", "created"]
    assert table[2].split()[1:4] == ["train", model, "succeeded"]
    missing = _cli(service, "versions", _name("nope"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: 404 Not Found")


def _route_or_skip(exc: ForecasterAPIError, issue: str) -> None:
    """Skip when the route itself does not exist yet (it arrives with another issue's branch)."""
    if exc.status == 404 and "no resource at" in exc.detail:
        pytest.skip(f"the route arrives with issue {issue}: {exc.detail}")


def test_backtest_scores_a_version_on_new_windows(
    service: Served, demand: tuple[str, str, pd.DataFrame]
) -> None:
    _, model, _ = demand
    longer = _name("longer")  # the same kind of series, two horizons past the training cut-off
    with Client(service.url, API_KEY) as client:
        client.ingest(longer, frame(points=96 + 2 * HORIZON))
        try:
            report = client.backtest(model, 1, longer, n_windows=2)
        except NotFoundError as exc:
            _route_or_skip(exc, "10")
            raise
    assert len(report["windows"]) == 2
    assert {"mae", "rmse", "smape", "mase", "pinball", "msis", "coverage"} <= set(report["metrics"])
    assert {"seasonal_naive", "naive"} <= set(report["baselines"])
    assert len(report["by_step"]["mase"]) == HORIZON


def test_accuracy_reads_live_figures_beside_the_backtest(
    service: Served, demand: tuple[str, str, pd.DataFrame]
) -> None:
    _, model, _ = demand
    with Client(service.url, API_KEY) as client:
        try:
            report = client.accuracy(model, alias="production")
        except NotFoundError as exc:
            _route_or_skip(exc, "12")
            raise
    assert (report["model"], report["version"]) == (model, 1)
    assert {"points", "live", "backtest", "drift", "by_day"} <= set(report)
    assert isinstance(report["drift"], bool)


def test_forecast_without_a_model_waits_for_the_job(service: Served) -> None:
    """No model: the service trains on the posted frame; a 202 is followed to the job's result."""
    history = frame(series=2, seed=9)
    with Client(service.url, API_KEY) as client:
        got = client.forecast(df=history, horizon=HORIZON, config=TINY, wait_seconds=0)
        job = client.job(got.attrs["job_id"])
    assert job.status == "succeeded"
    assert got.attrs["model"] is None
    assert sorted(got["unique_id"].unique()) == ["store-0", "store-1"]
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True),
        records_frame((job.result or {})["forecasts"]),
    )
