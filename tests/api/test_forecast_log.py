"""The forecast log: provenance, the log itself, exact replay, retention, concurrent writes."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.forecast_log import ForecastLog, StoredModel
from api.schemas.forecast import ForecastRequest
from migrations.runner import is_at_head
from models.artifacts import ArtifactStore
from models.db import make_engine, make_session_factory, session_scope
from models.forecast_log import LogRow, TargetRow, write_batch
from models.forecast_payload import ForecastPayload, encode
from models.tables import ForecastRecord, ForecastScore, ForecastTarget
from tests.api.conftest import HORIZON, TrainedModel, make_settings, register, series_payload


def _forecast(client: TestClient, **body: Any) -> Any:
    response = client.post("/v1/forecast", json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def model_name(db_url: str, trained: TrainedModel, unique_name: Callable[[str], str]) -> str:
    name = unique_name("log")
    register(db_url, name, trained)
    return name


def test_answers_carry_provenance_and_a_stable_input_hash(
    any_client: TestClient, model_name: str, trained: TrainedModel
) -> None:
    series = series_payload(trained.history)
    first = _forecast(any_client, model=model_name, horizon=HORIZON, series=series)
    again = _forecast(any_client, model=model_name, horizon=HORIZON, series=series)
    assert first["model"] == {"name": model_name, "version": 1, "artifact_sha256": trained.sha256}
    assert first["forecast_id"] != again["forecast_id"]
    assert len(first["input_sha256"]) == 64
    assert first["input_sha256"] == again["input_sha256"]
    assert datetime.fromisoformat(first["created_at"]).tzinfo is not None
    series[1]["y"][-1] += 0.5  # one changed point
    changed = _forecast(any_client, model=model_name, horizon=HORIZON, series=series)
    assert changed["input_sha256"] != first["input_sha256"]
    shorter = _forecast(any_client, model=model_name, horizon=HORIZON - 1, series=series)
    assert shorter["input_sha256"] != changed["input_sha256"]


def test_a_logged_forecast_reads_back_lists_and_replays_identically(
    any_client: TestClient, model_name: str, trained: TrainedModel
) -> None:
    series = series_payload(trained.history)
    answer = _forecast(any_client, model=model_name, horizon=HORIZON, series=series)
    forecast_id = answer["forecast_id"]
    logged = any_client.get(f"/v1/forecasts/{forecast_id}").json()
    assert logged["model"] == answer["model"]
    assert logged["input_sha256"] == answer["input_sha256"]
    assert logged["series"] == 3
    assert logged["horizon"] == HORIZON
    assert logged["forecasts"] == answer["forecasts"]
    replay = any_client.post(f"/v1/forecasts/{forecast_id}/replay").json()
    assert replay["identical"] is True
    assert replay["max_abs_diff"] == 0.0
    assert replay["forecasts"] == answer["forecasts"]
    second = _forecast(any_client, model=model_name, horizon=2, series=series)
    page = any_client.get("/v1/forecasts", params={"model": model_name, "limit": 1}).json()
    assert [item["forecast_id"] for item in page["items"]] == [second["forecast_id"]]
    rest = any_client.get(
        "/v1/forecasts", params={"model": model_name, "limit": 1, "cursor": page["next_cursor"]}
    ).json()
    assert [item["forecast_id"] for item in rest["items"]] == [forecast_id]
    assert rest["next_cursor"] is None
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert any_client.get("/v1/forecasts", params={"since": later}).json()["items"] == []
    assert any_client.get(f"/v1/forecasts/{'0' * 8}-0000-0000-0000-{'0' * 12}").status_code == 404
    assert any_client.get("/v1/forecasts/not-an-id").status_code == 422


def test_an_archived_version_replays_and_a_deleted_artifact_is_410(
    db_url: str, trained: TrainedModel, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    with tempfile.TemporaryDirectory() as tmp:
        trained.model.save(Path(tmp))
        store.put(Path(tmp))
    name = unique_name("gone")
    register(db_url, name, trained)
    register(db_url, name, trained)
    settings = make_settings(db_url, tmp_path / "artifacts")
    series = series_payload(trained.history)
    with TestClient(create_app(settings, at_head=is_at_head)) as client:
        kept = _forecast(client, model=f"{name}@1", horizon=HORIZON, series=series)
        assert client.post(f"/v1/models/{name}/versions/1/archive").status_code == 200
        replay = client.post(f"/v1/forecasts/{kept['forecast_id']}/replay")
        assert replay.status_code == 200
        assert replay.json()["identical"] is True
    shutil.rmtree(tmp_path / "artifacts" / trained.sha256)
    with TestClient(create_app(settings, at_head=is_at_head)) as client:  # a cold model cache
        gone = client.post(f"/v1/forecasts/{kept['forecast_id']}/replay")
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert "no longer stored" in gone.json()["detail"]
    assert str(tmp_path) not in gone.text


def test_logging_off_still_gives_provenance_but_keeps_nothing(
    db_url: str, artifact_dir: Path, model_name: str, trained: TrainedModel
) -> None:
    settings = make_settings(db_url, artifact_dir, forecast_log=False)
    with TestClient(create_app(settings, at_head=is_at_head)) as client:
        answer = _forecast(
            client, model=model_name, horizon=HORIZON, series=series_payload(trained.history)
        )
        assert len(answer["input_sha256"]) == 64
        assert client.get(f"/v1/forecasts/{answer['forecast_id']}").status_code == 404


def _logged_count(url: str, model: str) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            stmt = select(func.count()).where(ForecastRecord.model_name == model)
            return int(session.scalar(stmt) or 0)
    finally:
        engine.dispose()


def test_concurrent_forecasts_are_all_logged(
    db_url: str, artifact_dir: Path, model_name: str, trained: TrainedModel
) -> None:
    series = series_payload(trained.history)
    requests = 24
    with TestClient(create_app(make_settings(db_url, artifact_dir))) as client:

        def one(_: int) -> str:
            return str(_forecast(client, model=model_name, horizon=3, series=series)["forecast_id"])

        with ThreadPoolExecutor(max_workers=6) as pool:
            ids = set(pool.map(one, range(requests)))
    # Leaving the client shut the app down: its writer wrote everything queued.
    assert len(ids) == requests
    assert _logged_count(db_url, model_name) == requests


def test_the_writer_encodes_each_forecast_holding_its_gate(
    db_url: str, artifact_dir: Path, model_name: str, trained: TrainedModel
) -> None:
    """The API passes a compute slot as the gate: encoding takes turns with requests."""
    entered: list[int] = []

    @contextmanager
    def gate() -> Iterator[None]:
        entered.append(1)
        yield

    history = trained.history
    body = ForecastRequest.model_validate(
        {"model": model_name, "horizon": 2, "series": series_payload(history)}
    )
    engine = make_engine(db_url)
    try:
        forecast_log = ForecastLog(
            make_session_factory(engine), make_settings(db_url, artifact_dir), gate=gate
        )
        stored = StoredModel(model_name, 1, trained.sha256, 24)
        prediction = trained.model.predict(history, horizon=2)
        for _ in range(3):
            forecast_log.record(body, stored, history, history, prediction)
        forecast_log.stop()
    finally:
        engine.dispose()
    assert len(entered) == 3
    assert _logged_count(db_url, model_name) == 3


def _log_row(name: str, created_at: datetime, trained: TrainedModel) -> LogRow:
    history = trained.history
    prediction = trained.model.predict(history, horizon=2)
    forecast_id = f"{created_at:%Y%m%d}-{name[-8:]}"[:36]
    first = datetime(2030, 1, 1, tzinfo=UTC)
    return LogRow(
        forecast_id=forecast_id,
        model_name=name,
        version=1,
        artifact_sha256=trained.sha256,
        input_sha256="0" * 64,
        horizon=2,
        request={},
        dataset="nowhere",
        n_series=3,
        payload=encode(ForecastPayload(history, prediction)),
        created_at=created_at,
        targets=[TargetRow(forecast_id, 0, "nowhere", "s0", first, first, 2)],
    )


def _score(name: str, row: LogRow) -> ForecastScore:
    return ForecastScore(
        forecast_id=row.forecast_id,
        row=0,
        ts=row.created_at,
        model_name=name,
        version=1,
        forecast_created_at=row.created_at,
        day=row.created_at.date(),
        step=1,
        abs_error=1.0,
        scaled_error=1.0,
        smape=1.0,
    )


def test_retention_deletes_old_rows_only(
    db_url: str, artifact_dir: Path, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("ret")
    now = datetime.now(UTC)
    old, young = now - timedelta(days=40), now - timedelta(days=20)
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    try:
        rows = [_log_row(name, old, trained), _log_row(name, young, trained)]
        with session_scope(factory) as session:
            write_batch(session, rows)
            session.add_all(_score(name, row) for row in rows)
        settings = make_settings(db_url, artifact_dir, forecast_log_retention_days=30)
        forecast_log = ForecastLog(factory, settings)
        assert forecast_log.sweep(now) >= 1
        with factory() as session:
            kept = session.scalars(
                select(ForecastRecord.created_at).where(ForecastRecord.model_name == name)
            ).all()
            targets = session.scalars(
                select(ForecastTarget.forecast_id).where(
                    ForecastTarget.forecast_id.in_(
                        [f"{t:%Y%m%d}-{name[-8:]}" for t in (old, young)]
                    )
                )
            ).all()
            scores = session.scalars(
                select(ForecastScore.forecast_id).where(ForecastScore.model_name == name)
            ).all()
    finally:
        engine.dispose()
    assert [pd.Timestamp(t) for t in kept] == [pd.Timestamp(young)]
    assert targets == [f"{young:%Y%m%d}-{name[-8:]}"]
    assert scores == [f"{young:%Y%m%d}-{name[-8:]}"]
