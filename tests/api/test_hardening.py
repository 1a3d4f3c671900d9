"""Defects a fault and fuzz campaign found against a served instance, each reproduced here."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api.app import create_app
from api.schemas.forecast import ForecastRequest
from tests.api.conftest import (
    HORIZON,
    TestClient,
    TrainedModel,
    make_settings,
    register,
    series_payload,
)

PROBLEM = "application/problem+json"
ONE_SERIES = [{"unique_id": "a", "ds": ["2024-01-01T00:00:00Z"], "y": [1.0]}]


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body


def _csv_dataset(client: TestClient, name: str, points: int = 48) -> None:
    rows = "".join(f"a,2024-01-{1 + h // 24:02d}T{h % 24:02d}:00:00Z,{h}\n" for h in range(points))
    response = client.put(
        f"/v1/datasets/{name}/observations",
        content="unique_id,ds,y\n" + rows,
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"horizon": 2, "series": []}', "text/plain"),
        (b"horizon=2&model=m", "application/x-www-form-urlencoded"),
        (b'{"horizon": 2}', "multipart/form-data; boundary=x"),
    ],
)
def test_forecast_refuses_bodies_that_are_not_json(
    client: TestClient, content: bytes, content_type: str
) -> None:
    response = client.post("/v1/forecast", content=content, headers={"content-type": content_type})
    assert "application/json" in _problem(response, 415)["detail"]


def test_json_routes_refuse_other_media_types(client: TestClient) -> None:
    response = client.post(
        "/v1/models/m/train",
        content=b'{"dataset": "d", "horizon": 2}',
        headers={"content-type": "text/plain"},
    )
    _problem(response, 415)
    assert client.post("/v1/jobs/999999999/cancel").status_code == 404  # no body: no 415


@pytest.mark.parametrize(
    ("series", "horizon", "field"),
    [
        ([{"unique_id": "a", "ds": ["2024-01-01T00:00:00Z"], "y": [True]}], 2, "body.series.0.y"),
        ([{"unique_id": "a", "ds": ["2024-01-01T00:00:00Z"], "y": ["12"]}], 2, "body.series.0.y"),
        (ONE_SERIES, "24", "body.horizon"),
        ([{"unique_id": 7, "ds": ["2024-01-01T00:00:00Z"], "y": [1.0]}], 2, "body.series.0"),
    ],
)
def test_values_are_not_coerced(
    client: TestClient, series: list[dict[str, Any]], horizon: object, field: str
) -> None:
    response = client.post(
        "/v1/forecast", json={"model": "m", "horizon": horizon, "series": series}
    )
    errors = _problem(response, 422)["errors"]
    assert any(e["field"].startswith(field) for e in errors), errors


def test_schedule_flags_are_not_coerced(client: TestClient) -> None:
    body = {"model": "m", "cron": "0 * * * *", "train": {"dataset": "d", "horizon": 2}}
    response = client.post("/v1/schedules", json={**body, "enabled": "yes"})
    assert _problem(response, 422)["errors"][0]["field"] == "body.enabled"


@pytest.mark.parametrize("stamp", ["2262-04-11T00:00:00Z", "2300-01-01T00:00:00Z", "1600-01-01"])
def test_timestamps_outside_the_representable_range_are_refused(
    client: TestClient, stamp: str
) -> None:
    series = [{"unique_id": "a", "ds": [stamp], "y": [1.0]}]
    response = client.post("/v1/forecast", json={"model": "m", "horizon": 1, "series": series})
    assert "outside the supported range" in str(_problem(response, 422)["errors"])
    rows = {"rows": [{"unique_id": "a", "ds": stamp, "y": 1.0}]}
    _problem(client.put("/v1/datasets/far/observations", json=rows), 422)


@pytest.mark.parametrize(
    ("stamps", "refused"),
    [
        (["2024-01-01T00:00:00", "2024-01-01T01:00:00Z", "1600-01-01T00:00:00Z"], True),
        (["2024-01-01T00:00:00+05:00", "2262-04-10T23:00:00", "2262-04-11T00:00:00Z"], True),
        (["1677-09-22T00:00:00Z", "2024-01-01T00:00:00"], False),
    ],
)
def test_posted_series_are_range_checked_whatever_mix_of_offsets(
    stamps: list[str], refused: bool
) -> None:
    """The range of a posted series is checked per list (min and max), also when naive and
    offset timestamps are mixed (then one by one)."""
    series = {"unique_id": "a", "ds": stamps, "y": [1.0] * len(stamps)}
    body = {"model": "m", "horizon": 1, "series": [series]}
    if not refused:
        assert ForecastRequest.model_validate(body).series is not None
        return
    with pytest.raises(ValidationError, match="outside the supported range") as caught:
        ForecastRequest.model_validate(body)
    assert caught.value.errors()[0]["loc"] == ("series", 0, "ds")


def test_the_schema_states_the_timestamp_range_nul_and_problem_documents(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    ds = document["components"]["schemas"]["SeriesIn"]["properties"]["ds"]["items"]
    assert ds["formatExclusiveMaximum"].startswith("2262-04-11")
    assert "NUL" in document["info"]["description"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if code[0] in "45":
                    assert list(response["content"]) == [PROBLEM], (path, method, code)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_an_impossible_cron_is_refused(
    client: TestClient, unique_name: Callable[[str], str]
) -> None:
    dataset = unique_name("cron-ds")
    _csv_dataset(client, dataset)
    body = {"model": "m", "cron": "0 0 30 2 *", "train": {"dataset": dataset, "horizon": 2}}
    response = client.post("/v1/schedules", json=body)
    error = _problem(response, 422)["errors"][0]
    assert error["field"] == "body.cron"
    assert "never" in error["reason"]
    created = client.post("/v1/schedules", json={**body, "cron": "0 0 * * *", "enabled": False})
    assert created.status_code == 201
    assert created.json()["next_runs"] == []
    patched = client.patch(f"/v1/schedules/{created.json()['id']}", json={"cron": "0 0 31 4 *"})
    assert _problem(patched, 422)["errors"][0]["field"] == "body.cron"


def test_an_empty_cursor_is_the_first_page(client: TestClient) -> None:
    for path in ("/v1/models", "/v1/datasets", "/v1/jobs", "/v1/schedules"):
        assert client.get(path, params={"cursor": ""}).status_code == 200, path


def test_a_deleted_artifact_directory_is_a_server_fault_that_is_logged(
    api_pg_url: str,
    trained: TrainedModel,
    artifact_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store_root = tmp_path / "artifacts"
    shutil.copytree(artifact_dir, store_root)
    shutil.rmtree(store_root / trained.sha256)
    name = f"gone-{tmp_path.name}"[:60]
    register(api_pg_url, name, trained)
    app = create_app(make_settings(api_pg_url, store_root))
    with TestClient(app) as client, caplog.at_level(logging.ERROR):
        series = series_payload(trained.history)
        response = client.post(
            "/v1/forecast", json={"model": name, "horizon": HORIZON, "series": series}
        )
    detail = _problem(response, 500)["detail"]
    assert "missing from the artifact store" in detail
    assert str(tmp_path) not in detail
    assert any(r.levelno == logging.ERROR and "artifact" in r.getMessage() for r in caplog.records)


def test_with_auth_on_a_malformed_body_is_a_401_not_a_422(
    api_pg_url: str, artifact_dir: Path
) -> None:
    app = create_app(make_settings(api_pg_url, artifact_dir, api_keys="secret-key"))
    with TestClient(app) as client:
        for path in ("/v1/models/m/train", "/v1/schedules", "/v1/forecast"):
            response = client.post(
                path, content=b"{not json", headers={"content-type": "application/json"}
            )
            _problem(response, 401)
        wrong = client.post(
            "/v1/models/m/train",
            content=b"{not json",
            headers={"content-type": "application/json", "authorization": "Bearer nope"},
        )
        _problem(wrong, 401)
        allowed = client.post(
            "/v1/models/m/train",
            content=b"{not json",
            headers={"content-type": "application/json", "authorization": "Bearer secret-key"},
        )
        _problem(allowed, 422)


def test_readyz_discloses_no_host_or_driver(artifact_dir: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    app = create_app(make_settings(url, artifact_dir))
    with TestClient(app) as client:
        body = _problem(client.get("/readyz"), 503)
    text = str(body)
    for secret in ("127.0.0.1", "psycopg", "nowhere", "connection", "port"):
        assert secret not in text, secret


def test_archived_versions_can_be_restored(
    client: TestClient, api_pg_url: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("restore")
    register(api_pg_url, name, trained)
    register(api_pg_url, name, trained)
    archived = client.post(f"/v1/models/{name}/versions/2/archive")
    assert archived.json()["status"] == "archived"
    assert client.get(f"/v1/models/{name}").json()["latest_version"] == 1
    restored = client.post(f"/v1/models/{name}/versions/2/unarchive")
    assert restored.status_code == 200
    assert restored.json()["status"] == "ready"
    assert client.get(f"/v1/models/{name}").json()["latest_version"] == 2


def test_deleting_a_scheduled_dataset_needs_force(
    client: TestClient, unique_name: Callable[[str], str]
) -> None:
    dataset = unique_name("used")
    _csv_dataset(client, dataset)
    body = {"model": "m", "cron": "0 0 * * *", "train": {"dataset": dataset, "horizon": 2}}
    schedule = client.post("/v1/schedules", json=body).json()
    refused = _problem(client.delete(f"/v1/datasets/{dataset}"), 409)
    assert f"schedule {schedule['id']}" in refused["detail"]
    assert client.get(f"/v1/datasets/{dataset}").status_code == 200
    assert client.delete(f"/v1/datasets/{dataset}", params={"force": "true"}).status_code == 204
    assert client.get(f"/v1/datasets/{dataset}").status_code == 404
