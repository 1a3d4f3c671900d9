"""A spec that can never succeed is refused at submission (422 naming the field), not queued
to fail three times later; the dataset's frequency is the core's inference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import TestClient


def _put(client: TestClient, name: str, rows: list[tuple[str, str, float]]) -> None:
    body = {"rows": [{"unique_id": u, "ds": d, "y": y} for u, d, y in rows]}
    response = client.put(f"/v1/datasets/{name}/observations", json=body)
    assert response.status_code == 200, response.text


def _hourly(series: str, points: int, skip: tuple[int, ...] = ()) -> list[tuple[str, str, float]]:
    return [
        (series, f"2024-01-{1 + h // 24:02d}T{h % 24:02d}:00:00Z", float(h % 24))
        for h in range(points)
        if h not in skip
    ]


@pytest.fixture
def hourly(client: TestClient, unique_name: Callable[[str], str]) -> str:
    name = unique_name("hourly")
    _put(client, name, _hourly("a", 96) + _hourly("b", 72))
    return name


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"freq": "bogus"}, "body.freq", "unknown frequency"),
        ({"freq": "D"}, "body.freq", "grid"),
        ({"horizon": 60}, "body.horizon", "needs at least"),
    ],
)
def test_a_train_spec_the_data_cannot_satisfy_is_a_422(
    client: TestClient, hourly: str, change: dict[str, Any], field: str, words: str
) -> None:
    response = client.post(
        "/v1/models/m-check/train", json={"dataset": hourly, "horizon": 4, **change}
    )
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert words in error["reason"]


def test_a_valid_train_spec_is_queued(client: TestClient, hourly: str) -> None:
    response = client.post(
        "/v1/models/m-check/train", json={"dataset": hourly, "horizon": 4, "freq": "h"}
    )
    assert response.status_code == 202, response.text


def test_a_one_point_dataset_is_a_422(
    client: TestClient, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("one")
    _put(client, name, [("a", "2024-01-01T00:00:00Z", 1.0)])
    response = client.post("/v1/models/m-one/train", json={"dataset": name, "horizon": 1})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.dataset"
    with_freq = client.post(
        "/v1/models/m-one/train", json={"dataset": name, "horizon": 1, "freq": "h"}
    )
    assert with_freq.json()["errors"][0]["field"] == "body.horizon"


def test_a_horizon_past_the_timestamp_range_is_a_422(
    client: TestClient, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("late")
    rows = [("a", f"2262-0{1 + m}-01T00:00:00Z", float(m)) for m in range(3)]
    _put(client, name, rows)
    response = client.post(
        "/v1/models/m-late/train", json={"dataset": name, "horizon": 2, "freq": "MS"}
    )
    error = response.json()["errors"][0]
    assert response.status_code == 422
    assert error["field"] == "body.horizon"


def test_a_one_point_series_without_a_model_is_a_422_at_once(client: TestClient) -> None:
    series = [{"unique_id": "a", "ds": ["2024-01-01T00:00:00Z"], "y": [1.0]}]
    response = client.post(
        "/v1/forecast", json={"horizon": 2, "series": series, "wait_seconds": 60}
    )
    assert response.status_code == 422
    assert "a" in response.json()["errors"][0]["field"]


def test_the_dataset_frequency_is_the_cores_inference_even_with_gaps(
    client: TestClient, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("gappy")
    _put(client, name, _hourly("a", 48, skip=(5, 17, 30)))
    assert client.get(f"/v1/datasets/{name}").json()["freq"] == "h"
