"""Covariates end to end: a real ``serve`` and a real ``worker`` on PostgreSQL. A dataset with
a future-known promotion flag (and its future rows) is ingested with the client, a model is
trained on it by the worker, and forecasts take the flag's future values from the dataset or
from the request: the same values give the same numbers, a promotion raises the forecast."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from forecaster.client import Client, ValidationError
from tests.conftest import postgres_database
from tests.e2e.served import API_KEY, Served, served

pytestmark = pytest.mark.slow
HORIZON, POINTS, LIFT = 6, 240, 20.0
CONFIG = {
    "hidden_size": 16,
    "num_layers": 1,
    "epochs": 25,
    "ensemble": 1,
    "lookback": 48,
    "device": "cpu",
    "batch_size": 64,
    "backtest_windows": 1,
    "seed": 0,
}


@pytest.fixture(scope="module")
def service(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One served instance on its own PostgreSQL database."""
    directory: Path = tmp_path_factory.mktemp("covariates")
    with (
        postgres_database(postgres_url, "forecaster_cov") as url,
        served(url, directory) as running,
    ):
        yield running


def promo_frame(series: int = 4, seed: int = 1) -> pd.DataFrame:
    """Hourly daily sines lifted by LIFT on promoted hours, then HORIZON future rows (y empty)
    whose flag is known: promoted on every second step."""
    rng = np.random.default_rng(seed)
    total = POINTS + HORIZON
    ds = pd.date_range("2024-05-01", periods=total, freq="h")
    parts = []
    for i in range(series):
        promo = (rng.random(total) < 0.25).astype("float64")
        promo[POINTS:] = np.arange(HORIZON) % 2
        season = 3 * np.sin(np.arange(total) * 2 * np.pi / 24)
        y = 50 + 5 * i + season + LIFT * promo + rng.normal(0, 0.3, total)
        y[POINTS:] = np.nan
        parts.append(pd.DataFrame({"unique_id": f"store-{i}", "ds": ds, "y": y, "promo": promo}))
    return pd.concat(parts, ignore_index=True)


def _future(flags: list[float], series: list[str]) -> dict[str, dict[str, list[float]]]:
    return {uid: {"promo": flags} for uid in series}


def _post(service: Served, body: dict[str, object]) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    response = httpx.post(f"{service.url}/v1/forecast", json=body, headers=headers, timeout=120)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def test_a_promotion_flag_trains_and_forecasts_from_the_dataset_and_the_body(
    service: Served,
) -> None:
    dataset, model = f"promo-{uuid.uuid4().hex[:8]}", f"promo-{uuid.uuid4().hex[:8]}"
    history = promo_frame()
    series = sorted(history["unique_id"].unique())
    with Client(service.url, API_KEY) as client:
        stored = client.ingest(dataset, history)
        assert (stored["written"], stored["future_rows"]) == (4 * POINTS, 4 * HORIZON)
        with pytest.raises(ValidationError) as refused:  # a column the dataset lacks
            client.train(model, dataset, HORIZON, covariates={"future": ["price"]})
        assert "'price'" in str(refused.value)
        job = client.train(model, dataset, HORIZON, config=CONFIG, covariates={"future": ["promo"]})
        assert job.wait(progress=False, poll=0.2, timeout=400) == 1, service.output()
        version = client.version(model, 1)
        from_dataset = client.forecast(model=model, dataset=dataset, horizon=HORIZON)
        posted = client.forecast(model=model, df=history, horizon=HORIZON)
    assert version["covariates"] == {
        "future": ["promo"],
        "past": [],
        "static": [],
        "categorical": [],
    }
    assert len(version["data_summary"]["sha256"]) == 64
    pd.testing.assert_frame_equal(posted, from_dataset)  # the same future values
    stored_flags = [float(s % 2) for s in range(HORIZON)]
    body = {"model": model, "horizon": HORIZON, "dataset": dataset}
    same = _post(service, {**body, "future": _future(stored_flags, series)})
    assert [f["mean"] for f in same["forecasts"]] == [  # type: ignore[index]
        from_dataset[from_dataset["unique_id"] == uid]["mean"].tolist() for uid in series
    ]
    none = _post(service, {**body, "future": _future([0.0] * HORIZON, series)})
    every = _post(service, {**body, "future": _future([1.0] * HORIZON, series)})
    assert none["input_sha256"] != every["input_sha256"] != same["input_sha256"]
    lift = np.array([f["mean"] for f in every["forecasts"]]) - np.array(  # type: ignore[index]
        [f["mean"] for f in none["forecasts"]]  # type: ignore[index]
    )
    assert lift.mean() > LIFT / 2  # the flag moves the forecast by about its effect


def test_posted_covariates_without_a_model_are_read_from_their_shape(service: Served) -> None:
    """The worker's forecast lane trains on the posted flag (future-known: it has future values)."""
    history = promo_frame(series=2, seed=2)
    payload = []
    for uid, rows in history.groupby("unique_id"):
        seen, ahead = rows[rows["y"].notna()], rows[rows["y"].isna()]
        payload.append(
            {
                "unique_id": uid,
                "ds": [t.isoformat() for t in seen["ds"]],
                "y": seen["y"].tolist(),
                "covariates": {"promo": seen["promo"].tolist()},
                "future": {"promo": ahead["promo"].tolist()},
            }
        )
    config = {**CONFIG, "epochs": 5}
    body = {"horizon": HORIZON, "series": payload, "config": config, "wait_seconds": 60}
    answer = _post(service, body)
    assert answer["method"] in ("network", "seasonal_naive", "naive")
    forecasts = answer["forecasts"]
    assert [f["unique_id"] for f in forecasts] == ["store-0", "store-1"]  # type: ignore[index]
    assert all(len(f["mean"]) == HORIZON for f in forecasts)  # type: ignore[union-attr]
