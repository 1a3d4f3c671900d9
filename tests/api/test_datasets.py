"""Datasets: JSON and CSV ingest, summaries, series reads, pagination, deletion, bad input."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.conftest import TestClient

CSV = "text/csv"


def _put_csv(client: TestClient, dataset: str, text: str, **params: str) -> object:
    return client.put(
        f"/v1/datasets/{dataset}/observations",
        content=text.encode(),
        headers={"content-type": CSV},
        params=params,
    )


def _hourly_csv(series: tuple[str, ...] = ("a", "b"), points: int = 5) -> str:
    rows = [
        f"{uid},2024-03-01T{hour:02d}:00:00Z,{i * 10 + hour}"
        for i, uid in enumerate(series)
        for hour in range(points)
    ]
    return "unique_id,ds,y\n" + "\n".join(rows) + "\n"


def test_csv_ingest_and_summary(any_client: TestClient, unique_name: Callable[[str], str]) -> None:
    name = unique_name("ds")
    response = _put_csv(any_client, name, _hourly_csv())
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert response.json() == {  # type: ignore[attr-defined]
        "dataset": name,
        "rows": 10,
        "series": 2,
        "new_series": 2,
        "written": 10,
    }
    summary = any_client.get(f"/v1/datasets/{name}").json()
    assert summary["series"] == 2
    assert summary["points"] == 10
    assert summary["first_ds"] == "2024-03-01T00:00:00Z"
    assert summary["last_ds"] == "2024-03-01T04:00:00Z"
    assert summary["freq"] == "h"


def test_json_ingest_upserts(client: TestClient, unique_name: Callable[[str], str]) -> None:
    name = unique_name("ds")
    rows = [{"unique_id": "a", "ds": "2024-01-01T00:00:00+01:00", "y": 1.5}]
    first = client.put(f"/v1/datasets/{name}/observations", json={"rows": rows})
    assert first.json()["new_series"] == 1
    rows[0]["y"] = 2.5
    second = client.put(f"/v1/datasets/{name}/observations", json={"rows": rows})
    assert second.json()["new_series"] == 0
    series = client.get(f"/v1/datasets/{name}/series/a").json()
    assert series == {
        "dataset": name,
        "unique_id": "a",
        "ds": ["2023-12-31T23:00:00Z"],
        "y": [2.5],
    }


def test_csv_of_one_series_with_query_unique_id(
    client: TestClient, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("ds")
    response = _put_csv(client, name, "ds,y\n2024-01-01,1\n2024-01-02,2\n", unique_id="only")
    assert response.json()["series"] == 1  # type: ignore[attr-defined]
    assert client.get(f"/v1/datasets/{name}/series/only").json()["y"] == [1.0, 2.0]


def test_series_between_start_and_end(
    client: TestClient, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("ds")
    _put_csv(client, name, _hourly_csv(("a",), points=6))
    response = client.get(
        f"/v1/datasets/{name}/series/a",
        params={"start": "2024-03-01T02:00:00Z", "end": "2024-03-01T03:00:00Z"},
    )
    assert response.json()["y"] == [2.0, 3.0]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ("unique_id,ds,y\na,yesterday,1\n", "csv.ds", "not an ISO 8601 timestamp"),
        ("unique_id,ds,y\na,2024-01-01,abc\n", "csv.y", "not a finite number"),
        ("unique_id,ds,y\na,2024-01-01,\n", "csv.y", "not a finite number"),
        ("unique_id,ds,y\na,2024-01-01,nan\n", "csv.y", "not a finite number"),
        ("id,time,value\na,2024-01-01,1\n", "csv.header", "expected the columns"),
        ("unique_id,ds,y\na,2024-01-01,1\na,2024-01-01,2\n", "csv.ds", "duplicate timestamp"),
        ("unique_id,ds,y\na,2024-01-01,1,9\n", "csv", "more fields than the header"),
        ("unique_id,ds,y\n", "csv", "no rows"),
        ("", "csv", "empty"),
    ],
)
def test_bad_csv_is_a_422_naming_the_column(
    client: TestClient, body: str, field: str, reason: str
) -> None:
    response = _put_csv(client, "never-stored", body)
    assert response.status_code == 422  # type: ignore[attr-defined]
    error = response.json()["errors"][0]  # type: ignore[attr-defined]
    assert error["field"] == field
    assert reason in error["reason"]
    assert client.get("/v1/datasets/never-stored").status_code == 404


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([], "body.rows"),
        ([{"unique_id": "a", "ds": "soon", "y": 1}], "body.rows.0.ds"),
        ([{"unique_id": "a", "ds": "2024-01-01", "y": "x"}], "body.rows.0.y"),
        ([{"unique_id": "", "ds": "2024-01-01", "y": 1}], "body.rows.0.unique_id"),
        ([{"unique_id": "a", "ds": "2024-01-01"}], "body.rows.0.y"),
    ],
)
def test_bad_json_rows_are_a_422_naming_the_field(
    client: TestClient, rows: list[dict[str, object]], field: str
) -> None:
    response = client.put("/v1/datasets/never-stored/observations", json={"rows": rows})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_unsupported_media_type_is_a_415(client: TestClient) -> None:
    response = client.put(
        "/v1/datasets/x/observations", content=b"<xml/>", headers={"content-type": "text/xml"}
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert "text/csv" in response.json()["detail"]


def test_bad_dataset_name_is_a_422(client: TestClient) -> None:
    response = client.put("/v1/datasets/-bad/observations", json={"rows": []})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.dataset"


def test_unknown_dataset_and_series_are_404(
    client: TestClient, unique_name: Callable[[str], str]
) -> None:
    assert client.get("/v1/datasets/no-such-dataset").status_code == 404
    assert client.delete("/v1/datasets/no-such-dataset").status_code == 404
    name = unique_name("ds")
    _put_csv(client, name, _hourly_csv(("a",)))
    response = client.get(f"/v1/datasets/{name}/series/zzz")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_delete_dataset(client: TestClient, unique_name: Callable[[str], str]) -> None:
    name = unique_name("ds")
    _put_csv(client, name, _hourly_csv())
    assert client.delete(f"/v1/datasets/{name}").status_code == 204
    assert client.get(f"/v1/datasets/{name}").status_code == 404


def test_list_is_paginated_newest_first(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    names = [unique_name("page") for _ in range(3)]
    for name in names:
        _put_csv(any_client, name, _hourly_csv(("a",), points=2))
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params = {"limit": "1"} | ({"cursor": cursor} if cursor else {})
        page = any_client.get("/v1/datasets", params=params).json()
        assert len(page["items"]) == 1
        seen.append(page["items"][0]["name"])
        cursor = page["next_cursor"]
        assert cursor
    assert seen == names[::-1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "query.limit"),
        ({"limit": "501"}, "query.limit"),
        ({"cursor": "!!"}, "query.cursor"),
    ],
)
def test_bad_page_parameters_are_a_422(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get("/v1/datasets", params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
