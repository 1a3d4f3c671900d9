"""Cross-cutting behaviour: problems, auth, body limit, request ids, logs, metrics, health."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.app import create_app
from api.auth import key_matches
from migrations.runner import is_at_head
from tests.api.conftest import TestClient, make_settings

PROBLEM = "application/problem+json"


def _problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    body = _problem(client.get("/v1/nothing-here"), 404)
    assert body["instance"] == "/v1/nothing-here"


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    body = _problem(client.delete("/healthz"), 405)
    assert "DELETE" in str(body["detail"])


def test_validation_error_names_the_field(client: TestClient) -> None:
    response = client.post("/v1/models/m/train", json={"dataset": "d", "horizon": 0})
    body = _problem(response, 422)
    assert body["errors"] == [
        {"field": "body.horizon", "reason": "Input should be greater than or equal to 1"}
    ]


def test_malformed_json_is_a_422(client: TestClient) -> None:
    response = client.post(
        "/v1/forecast", content=b"{not json", headers={"content-type": "application/json"}
    )
    body = _problem(response, 422)
    assert str(body["errors"][0]["field"]).startswith("body")  # type: ignore[index]


@pytest.fixture
def small_limit_client(api_pg_url: str, artifact_dir: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(api_pg_url, artifact_dir, max_request_bytes=1000))
    with TestClient(app) as test_client:
        yield test_client


def test_body_over_the_limit_is_a_413(small_limit_client: TestClient) -> None:
    response = small_limit_client.put(
        "/v1/datasets/big/observations",
        content=b"unique_id,ds,y\n" + b"a,2024-01-01,1\n" * 100,
        headers={"content-type": "text/csv"},
    )
    assert "1000 bytes" in str(_problem(response, 413)["detail"])


def test_chunked_body_over_the_limit_is_a_413(small_limit_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"unique_id,ds,y\n"
        for _ in range(100):
            yield b"a,2024-01-01,1\n"

    response = small_limit_client.put(
        "/v1/datasets/big/observations", content=chunks(), headers={"content-type": "text/csv"}
    )
    _problem(response, 413)


def test_body_under_the_limit_passes(small_limit_client: TestClient) -> None:
    response = small_limit_client.put(
        "/v1/datasets/small-one/observations",
        content=b"unique_id,ds,y\na,2024-01-01,1\n",
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("method", "url", "content", "field"),
    [
        ("GET", "/v1/jobs?model=%00", None, "url"),
        ("GET", "/v1/datasets/a%00b", None, "url"),
        ("PUT", "/v1/datasets/d/observations", b"unique_id,ds,y\na\x00,2024-01-01,1\n", "body"),
        ("POST", "/v1/models/m/train", b'{"dataset": "d\\u0000", "horizon": 1}', "body"),
    ],
)
def test_nul_characters_are_a_422_before_any_database_work(
    client: TestClient, method: str, url: str, content: bytes | None, field: str
) -> None:
    """PostgreSQL cannot store NUL in text or JSONB; such input must never reach it."""
    headers = {"content-type": "text/csv" if b"," in (content or b"") else "application/json"}
    response = client.request(method, url, content=content, headers=headers)
    body = _problem(response, 422)
    assert body["errors"] == [{"field": field, "reason": "NUL characters are not allowed"}]


@pytest.fixture
def keyed_client(api_pg_url: str, artifact_dir: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(api_pg_url, artifact_dir, api_keys="k-one, k-two"))
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic k-one"},
        {"Authorization": ""},
    ],
)
def test_v1_needs_a_valid_bearer_key(keyed_client: TestClient, headers: dict[str, str]) -> None:
    response = keyed_client.get("/v1/jobs", headers=headers)
    _problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("key", ["k-one", "k-two"])
def test_any_configured_key_is_accepted(keyed_client: TestClient, key: str) -> None:
    response = keyed_client.get("/v1/jobs", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_health_routes_stay_open_with_keys(keyed_client: TestClient, path: str) -> None:
    assert keyed_client.get(path).status_code == 200


def test_key_comparison() -> None:
    keys = frozenset({"alpha", "beta"})
    assert key_matches("beta", keys)
    assert not key_matches("gamma", keys)
    assert not key_matches("", keys)


def test_request_id_is_honoured_or_made(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert made.headers["x-request-id"] != "bad id\twith spaces"
    assert len(made.headers["x-request-id"]) == 32


def test_one_structured_log_line_per_request(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="api.requests"):
        client.get("/v1/jobs/424242", headers={"X-Request-ID": "req-1"})
    records = [r for r in caplog.records if r.name == "api.requests"]
    assert len(records) == 1
    fields = vars(records[0])
    assert fields["method"] == "GET"
    assert fields["path"] == "/v1/jobs/424242"
    assert fields["route"] == "/v1/jobs/{job_id}"
    assert fields["status"] == 404
    assert fields["request_id"] == "req-1"
    assert fields["duration_ms"] >= 0


def test_metrics_count_requests_by_route_template_and_jobs(client: TestClient) -> None:
    client.get("/v1/jobs/987654")
    client.get("/v1/jobs/987655")
    text = client.get("/metrics").text
    assert (
        'forecaster_http_requests_total{method="GET",route="/v1/jobs/{job_id}",status="404"} 2.0'
        in text
    )
    assert "forecaster_http_request_duration_seconds_bucket" in text
    assert 'forecaster_jobs{status="queued"}' in text
    assert "forecaster_queue_depth " in text


def test_each_app_has_its_own_registry(api_pg_url: str, artifact_dir: Path) -> None:
    settings = make_settings(api_pg_url, artifact_dir)
    first, second = create_app(settings), create_app(settings)
    with TestClient(first) as one, TestClient(second) as two:
        one.get("/healthz")
        assert 'route="/healthz"' in one.get("/metrics").text
        assert 'route="/healthz"' not in two.get("/metrics").text


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_not_ready_before_migrations(tmp_path: Path) -> None:
    app = create_app(
        make_settings(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path), at_head=is_at_head
    )
    with TestClient(app) as test_client:
        assert test_client.get("/healthz").status_code == 200
        body = _problem(test_client.get("/readyz"), 503)
        assert "migration head" in str(body["detail"])


def test_openapi_documents_every_resource(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/datasets/{dataset}/observations",
        "/v1/models/{model}/train",
        "/v1/models/{model}/versions/{version}",
        "/v1/jobs/{job_id}/cancel",
        "/v1/schedules/{schedule_id}",
        "/v1/forecast",
        "/healthz",
    ):
        assert path in paths


def test_unreachable_database_is_a_503(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    with TestClient(create_app(make_settings(url, tmp_path))) as test_client:
        response = test_client.get("/v1/jobs")
        assert _problem(response, 503)["detail"] == "the database is unavailable; retry later"
        assert response.headers["retry-after"] == "5"
        assert _problem(test_client.get("/readyz"), 503)
        assert test_client.get("/metrics").status_code == 200
