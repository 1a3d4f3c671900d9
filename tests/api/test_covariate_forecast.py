"""Forecasts with a model trained on covariates: posted series and dataset forecasts (stored
future rows or the body's), checked against the version's spec (422s naming the series, the
column and the first bad timestamp), provenance covering covariates, micro-batching that never
mixes them, and training submissions checked against the dataset's columns."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster import Forecaster
from forecaster.covariates import CovariateSpec
from models import registry
from models.artifacts import ArtifactStore
from models.db import make_engine, make_session_factory, session_scope
from tests.api.conftest import HORIZON, TINY, TestClient, TrainedModel, make_settings, register
from tests.api.test_batching import LONG_WAIT_MS, _app, _post_all, _post_each

SPEC = CovariateSpec(future=("promo",), past=("temp",), static=("region",), categorical=("region",))
POINTS = 72


def promo_frame(series: int = 3, future: int = HORIZON) -> pd.DataFrame:
    """Hourly series with a promotion flag (future-known), a temperature (past-only) and a
    region (static, categorical); FUTURE rows with an empty y close each series."""
    rng = np.random.default_rng(5)
    total = POINTS + future
    ds = pd.date_range("2024-01-01", periods=total, freq="h")
    parts = []
    for i in range(series):
        promo = (np.arange(total) % 5 == 2).astype("float64")
        y = 20 + i + np.sin(np.arange(total) * 2 * np.pi / 24) + 4 * promo
        y = y + rng.normal(0, 0.1, total)
        y[POINTS:] = np.nan
        temp = np.r_[rng.normal(10, 1, POINTS), [np.nan] * future]
        region = "north" if i % 2 else "south"
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": ds,
                    "y": y,
                    "promo": promo,
                    "temp": temp,
                    "region": region,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def covariate_model(artifact_dir: Path) -> TrainedModel:
    """A tiny model trained on promo_frame with SPEC, stored in the artifact store."""
    torch.manual_seed(0)
    history = promo_frame()
    model = Forecaster(TINY).fit(history, horizon=HORIZON, covariates=SPEC)
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp))
        stored = ArtifactStore(artifact_dir).put(Path(tmp))
    return TrainedModel(model, history, stored.sha256, stored.size, stored.uri)


def _register(url: str, name: str, trained: TrainedModel) -> None:
    register(url, name, trained)
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            version = registry.get_version(session, name, 1)
            version.covariates = SPEC.model_dump(mode="json")
    finally:
        engine.dispose()


@pytest.fixture
def served_model(
    any_client: TestClient,
    db_url: str,
    covariate_model: TrainedModel,
    unique_name: Callable[[str], str],
) -> tuple[TestClient, str, str]:
    """(client, model name, dataset name): the model registered, promo_frame ingested."""
    name, dataset = unique_name("cov"), unique_name("promo")
    _register(db_url, name, covariate_model)
    rows = promo_frame().astype(object).where(promo_frame().notna(), None)
    rows["ds"] = promo_frame()["ds"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    response = any_client.put(
        f"/v1/datasets/{dataset}/observations", json={"rows": rows.to_dict("records")}
    )
    assert response.status_code == 200, response.text
    return any_client, name, dataset


def posted(frame: pd.DataFrame, future_steps: int = HORIZON) -> list[dict[str, Any]]:
    """promo_frame's series as posted series: history, covariates, future values, static."""
    out = []
    for uid, rows in frame.groupby("unique_id", sort=True):
        seen, ahead = rows[rows["y"].notna()], rows[rows["y"].isna()]
        out.append(
            {
                "unique_id": uid,
                "ds": [t.isoformat() for t in seen["ds"]],
                "y": seen["y"].tolist(),
                "covariates": {"promo": seen["promo"].tolist(), "temp": seen["temp"].tolist()},
                "future": {"promo": ahead["promo"].tolist()[:future_steps]},
                "static": {"region": rows["region"].iloc[0]},
            }
        )
    return out


def _forecast(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post("/v1/forecast", json=body)


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _refused(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    error: dict[str, str] = response.json()["errors"][0]
    return error


def test_dataset_future_rows_and_posted_values_give_the_same_forecast(
    served_model: tuple[TestClient, str, str], covariate_model: TrainedModel
) -> None:
    client, name, dataset = served_model
    frame = promo_frame()
    by_dataset = _ok(_forecast(client, {"model": name, "horizon": HORIZON, "dataset": dataset}))
    by_body = _ok(_forecast(client, {"model": name, "horizon": HORIZON, "series": posted(frame)}))
    expected = covariate_model.model.predict(frame.iloc[:0].pipe(lambda _: frame))
    assert [f["mean"] for f in by_dataset["forecasts"]] == [f["mean"] for f in by_body["forecasts"]]
    for record in by_body["forecasts"]:
        mine = expected[expected["unique_id"] == record["unique_id"]]["mean"].tolist()
        assert record["mean"] == pytest.approx(mine, rel=1e-9)
    assert by_dataset["input_sha256"] == by_body["input_sha256"]
    flags = {f"s{i}": {"promo": [1.0] * HORIZON} for i in range(3)}
    promoted = _ok(
        _forecast(client, {"model": name, "horizon": HORIZON, "dataset": dataset, "future": flags})
    )
    assert promoted["input_sha256"] != by_dataset["input_sha256"]
    assert [f["mean"] for f in promoted["forecasts"]] != [
        f["mean"] for f in by_dataset["forecasts"]
    ]


def test_only_a_covariate_changes_the_input_hash(
    served_model: tuple[TestClient, str, str],
) -> None:
    client, name, _ = served_model
    series = posted(promo_frame())
    first = _ok(_forecast(client, {"model": name, "horizon": HORIZON, "series": series}))
    series[0]["covariates"]["temp"][-1] += 0.5
    second = _ok(_forecast(client, {"model": name, "horizon": HORIZON, "series": series}))
    assert first["input_sha256"] != second["input_sha256"]
    series[0]["covariates"]["temp"][-1] -= 0.5
    series[1]["static"]["region"] = "south"
    third = _ok(_forecast(client, {"model": name, "horizon": HORIZON, "series": series}))
    assert third["input_sha256"] not in (first["input_sha256"], second["input_sha256"])


LAST = pd.Timestamp("2024-01-01") + pd.Timedelta(hours=POINTS - 1)


def _step(k: int) -> str:
    return (LAST + pd.Timedelta(hours=k)).isoformat()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            lambda s: s["future"].update(promo=[0.0] * (HORIZON - 2)),
            "body.series.0.future",
            ["series 's0'", "column 'promo'", f"no value at {_step(HORIZON - 1)}"],
        ),
        (
            lambda s: s["future"].update(promo=[0.0] * (HORIZON + 1)),
            "body.series.0.future",
            ["series 's0'", "column 'promo'", f"an extra value at {_step(HORIZON + 1)}"],
        ),
        (
            lambda s: s["future"].pop("promo"),
            "body.series.0.future",
            ["series 's0'", "column 'promo'", f"no value at {_step(1)}"],
        ),
        (
            lambda s: s["future"].update(price=[1.0] * HORIZON),
            "body.series.0.future",
            ["series 's0'", "column 'price'", "does not read it"],
        ),
        (
            lambda s: s["covariates"].pop("temp"),
            "body.series.0.covariates",
            ["series 's0'", "column 'temp'", "no value at 2024-01-01T00:00:00"],
        ),
        (
            lambda s: s["static"].clear(),
            "body.series.0.static",
            ["series 's0'", "column 'region'", "missing"],
        ),
        (
            lambda s: s["covariates"]["temp"].pop(),
            "body.series.0",
            ["series 's0'", "column 'temp'", f"no value at {LAST.isoformat()}"],
        ),
        (
            lambda s: s["future"]["promo"].__setitem__(2, None),
            "series[s0].promo",
            ["series 's0'", "column 'promo'", _step(3)],
        ),
        (
            lambda s: s["covariates"]["temp"].__setitem__(-2, "warm"),
            "series[s0].temp",
            ["series 's0'", "column 'temp'", _step(-1), "'warm'"],
        ),
    ],
)
def test_a_posted_series_that_does_not_match_the_spec_is_a_422_naming_it(
    served_model: tuple[TestClient, str, str],
    change: Callable[[dict[str, Any]], object],
    field: str,
    words: list[str],
) -> None:
    client, name, _ = served_model
    series = posted(promo_frame())
    change(series[0])
    error = _refused(_forecast(client, {"model": name, "horizon": HORIZON, "series": series}))
    assert error["field"].startswith(field)
    for word in words:
        assert word in error["reason"]


def test_a_dataset_without_future_rows_is_a_422_naming_the_first_missing_step(
    served_model: tuple[TestClient, str, str],
) -> None:
    client, name, dataset = served_model
    flags = {f"s{i}": {"promo": [1.0] * (HORIZON - 1)} for i in range(3)}
    body = {"model": name, "horizon": HORIZON, "dataset": dataset, "future": flags}
    error = _refused(_forecast(client, body))
    assert error["field"] == "body.future.s0"
    assert f"no value at {_step(HORIZON)}" in error["reason"]


def test_a_model_without_covariates_refuses_them_and_answers_as_before(
    any_client: TestClient, db_url: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("plain")
    register(db_url, name, trained)
    series = posted(promo_frame())
    error = _refused(_forecast(any_client, {"model": name, "horizon": HORIZON, "series": series}))
    assert "column 'promo'" in error["reason"]
    assert "does not read it" in error["reason"]
    for entry in series:
        for key in ("covariates", "future", "static"):
            entry.pop(key)
    answer = _ok(_forecast(any_client, {"model": name, "horizon": HORIZON, "series": series}))
    version = any_client.get(f"/v1/models/{name}/versions/1").json()
    assert version["covariates"] is None
    assert len(answer["forecasts"]) == 3


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            lambda s: s[1]["covariates"].pop("temp"),
            "body.series.1.covariates",
            ["series 's1'", "column 'temp'", "same covariates columns as series 's0'"],
        ),
        (
            lambda s: s[0]["covariates"].pop("promo"),
            "body.series.1.covariates",
            ["series 's1'", "column 'promo'", "same covariates columns"],
        ),
        (
            lambda s: [x["covariates"].pop("promo") for x in s],
            "body.series.0.covariates",
            ["column 'promo'", "needs its history values"],
        ),
        (
            lambda s: s[2]["future"]["promo"].__setitem__(1, None),
            "series[s2].promo",
            ["series 's2'", "column 'promo'", _step(2)],
        ),
        (
            lambda s: s[0]["future"]["promo"].pop(),
            "body.series.0.future",
            ["series 's0'", "column 'promo'", f"no value at {_step(HORIZON)}"],
        ),
    ],
)
def test_posted_covariates_without_a_model_are_checked_before_any_job(
    any_client: TestClient,
    change: Callable[[list[dict[str, Any]]], object],
    field: str,
    words: list[str],
) -> None:
    series = posted(promo_frame())
    change(series)
    error = _refused(_forecast(any_client, {"horizon": HORIZON, "series": series}))
    assert error["field"].startswith(field)
    for word in words:
        assert word in error["reason"]
    assert any_client.get("/v1/jobs?kind=forecast&limit=500").status_code == 200


def test_the_kinds_of_posted_covariates_are_read_from_their_shape() -> None:
    from api.covariate_inputs import inferred_spec
    from api.schemas.forecast import SeriesIn

    series = [SeriesIn.model_validate(s, strict=False) for s in posted(promo_frame())]
    assert inferred_spec(series) == SPEC  # temp past-only, promo future-known, region a label


def test_the_version_shows_its_covariate_spec(served_model: tuple[TestClient, str, str]) -> None:
    client, name, _ = served_model
    version = client.get(f"/v1/models/{name}/versions/1").json()
    assert version["covariates"] == {
        "future": ["promo"],
        "past": ["temp"],
        "static": ["region"],
        "categorical": ["region"],
    }


def test_batched_covariate_answers_equal_solo_answers(
    api_pg_url: str,
    artifact_dir: Path,
    covariate_model: TrainedModel,
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("covmb")
    _register(api_pg_url, name, covariate_model)
    bodies = []
    for k in range(6):
        frame = promo_frame(series=1 + k % 2)
        frame["y"] = frame["y"] * (1 + 0.1 * k)
        frame["promo"] = np.roll(frame["promo"].to_numpy(), k)
        bodies.append({"model": name, "horizon": HORIZON, "series": posted(frame)})
    alone = _app(make_settings(api_pg_url, artifact_dir, batch_max_series=1))
    series = sum(len(b["series"]) for b in bodies)
    together = _app(
        make_settings(api_pg_url, artifact_dir, batch_wait_ms=LONG_WAIT_MS, batch_max_series=series)
    )
    solo = _post_each(alone, bodies)
    batched = asyncio.run(_post_all(together, bodies))
    assert {r.headers["x-batch-requests"] for r in batched} == {"6"}
    for one, shared in zip(solo, batched, strict=True):
        assert one.status_code == shared.status_code == 200
        assert one.json()["forecasts"] == shared.json()["forecasts"]


# ----- training submissions ---------------------------------------------------------------
def _train(client: TestClient, dataset: str, covariates: dict[str, list[str]]) -> Any:
    body = {"dataset": dataset, "horizon": HORIZON, "covariates": covariates}
    return client.post("/v1/models/never-trained/train", json=body)


@pytest.mark.parametrize(
    ("covariates", "field", "words"),
    [
        ({"future": ["price"]}, "body.covariates.future", ["'price'", "promo, temp, region"]),
        ({"static": ["region"]}, "body.covariates.categorical", ["'region' holds text"]),
        (
            {"future": ["temp"]},
            "body.covariates.future",
            ["series 's0'", "column 'temp'", f"no future value at {_step(1)}"],
        ),
        (
            {"past": ["promo"], "categorical": ["temp"]},
            "body.covariates",
            ["categorical column 'temp'"],
        ),
    ],
)
def test_a_train_spec_the_dataset_cannot_serve_is_a_422(
    served_model: tuple[TestClient, str, str],
    covariates: dict[str, list[str]],
    field: str,
    words: list[str],
) -> None:
    client, _, dataset = served_model
    error = _refused(_train(client, dataset, covariates))
    assert error["field"] == field
    for word in words:
        assert word in error["reason"]
    assert client.get("/v1/jobs?model=never-trained").json()["items"] == []


@pytest.mark.parametrize(
    ("holidays", "words"),
    [
        ({"country": "XX"}, ["unknown holiday country 'XX'"]),
        ({"country": "DE", "subdiv": "ZZ"}, ["unknown subdivision 'ZZ'"]),
        ({"country": "DE", "timezone": "Europe/Nowhere"}, ["unknown time zone 'Europe/Nowhere'"]),
    ],
)
def test_a_holiday_calendar_the_service_does_not_know_is_a_422(
    served_model: tuple[TestClient, str, str], holidays: dict[str, str], words: list[str]
) -> None:
    client, _, dataset = served_model
    body = {"dataset": dataset, "horizon": HORIZON, "config": {"holidays": holidays}}
    error = _refused(client.post("/v1/models/never-trained/train", json=body))
    assert error["field"].startswith("body.config.holidays")
    for word in words:
        assert word in error["reason"]
    assert client.get("/v1/jobs?model=never-trained").json()["items"] == []


def test_missing_history_values_and_changing_statics_are_422s(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    dataset = unique_name("gaps")
    frame = promo_frame()
    frame.loc[10, "temp"] = np.nan
    frame.loc[POINTS + HORIZON + 20, "region"] = "east"
    rows = frame.astype(object).where(frame.notna(), None)
    rows["ds"] = frame["ds"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    put = any_client.put(
        f"/v1/datasets/{dataset}/observations", json={"rows": rows.to_dict("records")}
    )
    assert put.status_code == 200, put.text
    error = _refused(_train(any_client, dataset, {"past": ["temp"]}))
    assert error["field"] == "body.covariates.past"
    assert "series 's0', column 'temp': no value at 2024-01-01T10:00:00" in error["reason"]
    error = _refused(_train(any_client, dataset, {"static": ["region"], "categorical": ["region"]}))
    assert error["field"] == "body.covariates.static"
    assert "series 's1', column 'region'" in error["reason"]
    assert "changes at 2024-01-01T20:00:00" in error["reason"]
    accepted = _train(any_client, dataset, {"future": ["promo"]})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["spec"]["covariates"]["future"] == ["promo"]


def test_a_logged_covariate_forecast_replays_identically(
    served_model: tuple[TestClient, str, str],
) -> None:
    client, name, dataset = served_model
    flags = {f"s{i}": {"promo": [1.0, 0.0] * (HORIZON // 2)} for i in range(3)}
    body = {"model": name, "horizon": HORIZON, "dataset": dataset, "future": flags}
    answer = _ok(_forecast(client, body))
    replay = client.post(f"/v1/forecasts/{answer['forecast_id']}/replay")
    assert replay.status_code == 200, replay.text
    assert replay.json()["identical"] is True
    assert replay.json()["forecasts"] == answer["forecasts"]
