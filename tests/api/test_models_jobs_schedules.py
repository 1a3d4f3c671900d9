"""Training requests, idempotency, versions and aliases, jobs, schedules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from tests.api.conftest import TestClient, TrainedModel, register


def _dataset(client: TestClient, name: str) -> None:
    text = "unique_id,ds,y\n" + "".join(f"a,2024-01-01T{h:02d}:00:00Z,{h}\n" for h in range(24))
    response = client.put(
        f"/v1/datasets/{name}/observations", content=text, headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def dataset(client: TestClient, unique_name: Callable[[str], str]) -> str:
    name = unique_name("train-ds")
    _dataset(client, name)
    return name


def _train(client: TestClient, model: str, body: dict[str, object], **headers: str) -> object:
    return client.post(f"/v1/models/{model}/train", json=body, headers=headers)


def test_train_queues_a_job(client: TestClient, dataset: str) -> None:
    body = {"dataset": dataset, "horizon": 4, "config": {"hidden_size": 8, "cell": "lstm"}}
    response = _train(client, "m-train", body)
    assert response.status_code == 202  # type: ignore[attr-defined]
    job = response.json()  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"  # type: ignore[attr-defined]
    assert job["status"] == "queued"
    assert job["kind"] == "train"
    assert job["spec"]["config"] == {"hidden_size": 8, "cell": "lstm"}
    assert client.get(f"/v1/jobs/{job['id']}").json()["id"] == job["id"]


def test_idempotency_key_returns_the_first_job(client: TestClient, dataset: str) -> None:
    body = {"dataset": dataset, "horizon": 4}
    key = f"key-{dataset}"
    first = _train(client, "m-idem", body, **{"Idempotency-Key": key})
    again = _train(client, "m-idem", body, **{"Idempotency-Key": key})
    assert again.json()["id"] == first.json()["id"]  # type: ignore[attr-defined]
    assert again.headers["idempotent-replayed"] == "true"  # type: ignore[attr-defined]
    other = _train(client, "m-idem", {**body, "horizon": 5}, **{"Idempotency-Key": key})
    assert other.status_code == 409  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"hidden_size": 0}, "body.config.hidden_size"),
        ({"cell": "transformer"}, "body.config.cell"),
        ({"dropout": 1.5}, "body.config.dropout"),
        ({"quantiles": [0.5, 1.2]}, "body.config.quantiles"),
        ({"no_such_option": 1}, "body.config.no_such_option"),
    ],
)
def test_bad_config_is_a_422_naming_the_field(
    client: TestClient, config: dict[str, object], field: str
) -> None:
    response = _train(client, "m-bad", {"dataset": "d", "horizon": 3, "config": config})
    assert response.status_code == 422  # type: ignore[attr-defined]
    fields = [e["field"] for e in response.json()["errors"]]  # type: ignore[attr-defined]
    assert field in fields


def test_train_on_a_missing_dataset_or_series_is_a_404(client: TestClient, dataset: str) -> None:
    assert _train(client, "m-x", {"dataset": "absent-ds", "horizon": 3}).status_code == 404  # type: ignore[attr-defined]
    body = {"dataset": dataset, "horizon": 3, "unique_ids": ["a", "zz"]}
    assert _train(client, "m-x", body).status_code == 404  # type: ignore[attr-defined]


def test_versions_and_aliases(
    client: TestClient, api_pg_url: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("model")
    register(api_pg_url, name, trained)
    register(api_pg_url, name, trained)
    versions = client.get(f"/v1/models/{name}/versions").json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["artifact_sha256"] == trained.sha256
    assert versions[0]["horizon"] == 6
    put = client.put(f"/v1/models/{name}/aliases/production", json={"version": 1})
    assert put.json() == {"model": name, "alias": "production", "version": 1}
    model = client.get(f"/v1/models/{name}").json()
    assert model["latest_version"] == 2
    assert model["aliases"] == {"production": 1}
    assert client.get(f"/v1/models/{name}/versions/1").json()["aliases"] == ["production"]
    assert client.post(f"/v1/models/{name}/versions/1/archive").status_code == 409
    archived = client.post(f"/v1/models/{name}/versions/2/archive").json()
    assert archived["status"] == "archived"
    assert client.put(f"/v1/models/{name}/aliases/staging", json={"version": 2}).status_code == 409
    assert client.delete(f"/v1/models/{name}/aliases/production").status_code == 204
    assert client.delete(f"/v1/models/{name}/aliases/production").status_code == 404


def test_unknown_models_and_versions_are_404(
    client: TestClient, api_pg_url: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    assert client.get("/v1/models/never-registered").status_code == 404
    assert client.get("/v1/models/never-registered/versions").status_code == 404
    name = unique_name("model")
    register(api_pg_url, name, trained)
    assert client.get(f"/v1/models/{name}/versions/9").status_code == 404
    response = client.put(f"/v1/models/{name}/aliases/prod", json={"version": 9})
    assert response.status_code == 404


def test_jobs_filter_paginate_and_cancel(
    client: TestClient, dataset: str, unique_name: Callable[[str], str]
) -> None:
    model = unique_name("jobs")
    ids = [
        _train(client, model, {"dataset": dataset, "horizon": h}).json()["id"] for h in (1, 2, 3)
    ]  # type: ignore[attr-defined]
    first = client.get("/v1/jobs", params={"model": model, "limit": 2}).json()
    assert [j["id"] for j in first["items"]] == ids[::-1][:2]
    rest = client.get(
        "/v1/jobs", params={"model": model, "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [j["id"] for j in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None
    cancelled = client.post(f"/v1/jobs/{ids[0]}/cancel").json()
    assert cancelled["status"] == "cancelled"
    by_status = client.get("/v1/jobs", params={"model": model, "status": "cancelled"}).json()
    assert [j["id"] for j in by_status["items"]] == [ids[0]]


def test_job_errors(client: TestClient) -> None:
    assert client.get("/v1/jobs/99999999").status_code == 404
    assert client.post("/v1/jobs/99999999/cancel").status_code == 404
    bad = client.get("/v1/jobs", params={"status": "sleeping"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.status"
    assert client.get("/v1/jobs/0").status_code == 422


def test_schedule_lifecycle(client: TestClient, dataset: str) -> None:
    body = {
        "model": "m-sched",
        "cron": "30 2 * * *",
        "timezone": "Europe/Paris",
        "train": {"dataset": dataset, "horizon": 4},
    }
    created = client.post("/v1/schedules", json=body)
    assert created.status_code == 201
    schedule = created.json()
    assert created.headers["location"] == f"/v1/schedules/{schedule['id']}"
    runs = [datetime.fromisoformat(t) for t in schedule["next_runs"]]
    assert len(runs) == 3
    assert runs == sorted(runs)
    assert schedule["next_run_at"] == schedule["next_runs"][0]
    patched = client.patch(
        f"/v1/schedules/{schedule['id']}", json={"enabled": False, "cron": "0 * * * *"}
    ).json()
    assert patched["enabled"] is False
    assert patched["cron"] == "0 * * * *"
    assert all(datetime.fromisoformat(t).minute == 0 for t in patched["next_runs"])
    listed = client.get("/v1/schedules", params={"limit": 500}).json()["items"]
    assert schedule["id"] in [s["id"] for s in listed]
    assert client.delete(f"/v1/schedules/{schedule['id']}").status_code == 204
    assert client.get(f"/v1/schedules/{schedule['id']}").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cron": "every day"}, "body.cron"),
        ({"timezone": "Mars/Olympus"}, "body.timezone"),
        ({"model": "bad name"}, "body.model"),
    ],
)
def test_bad_schedules_are_a_422(
    client: TestClient, dataset: str, change: dict[str, str], field: str
) -> None:
    body = {"model": "m", "cron": "0 0 * * *", "train": {"dataset": dataset, "horizon": 2}}
    response = client.post("/v1/schedules", json=body | change)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
