"""The series of a dataset: search by name, pages by unique_id, sizes and spans, bad input."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.conftest import TestClient


def _ingest(client: TestClient, dataset: str, ids: list[str], points: int = 3) -> None:
    rows = [
        f"{uid},2024-03-01T{hour + i:02d}:00:00Z,{hour}"
        for i, uid in enumerate(ids)
        for hour in range(points + i)
    ]
    body = "unique_id,ds,y\n" + "\n".join(rows) + "\n"
    response = client.put(
        f"/v1/datasets/{dataset}/observations",
        content=body.encode(),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text


def test_series_are_listed_by_name_with_their_size_and_span(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("ds")
    _ingest(any_client, name, ["b-2", "a-1", "c-3"])
    page = any_client.get(f"/v1/datasets/{name}/series").json()
    assert [s["unique_id"] for s in page["items"]] == ["a-1", "b-2", "c-3"]
    # a-1 was written second (i = 1): 4 points from 01:00 to 04:00.
    assert page["items"][0] == {
        "unique_id": "a-1",
        "points": 4,
        "first_ds": "2024-03-01T01:00:00Z",
        "last_ds": "2024-03-01T04:00:00Z",
    }
    assert page["next_cursor"] is None


def test_series_search_and_pages(any_client: TestClient, unique_name: Callable[[str], str]) -> None:
    name = unique_name("ds")
    ids = [f"Store_{i:02d}" for i in range(7)] + ["other", "50%_off"]
    _ingest(any_client, name, ids, points=1)
    found = any_client.get(f"/v1/datasets/{name}/series", params={"q": "store", "limit": 3})
    first = found.json()
    assert [s["unique_id"] for s in first["items"]] == ["Store_00", "Store_01", "Store_02"]
    rest = any_client.get(
        f"/v1/datasets/{name}/series",
        params={"q": "store", "limit": 10, "cursor": first["next_cursor"]},
    ).json()
    assert [s["unique_id"] for s in rest["items"]] == [f"Store_{i:02d}" for i in range(3, 7)]
    assert rest["next_cursor"] is None
    # LIKE wildcards in the query are taken literally.
    literal = any_client.get(f"/v1/datasets/{name}/series", params={"q": "%_"}).json()
    assert [s["unique_id"] for s in literal["items"]] == ["50%_off"]


def test_series_of_an_unknown_dataset_or_with_bad_limits_are_4xx(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    missing = any_client.get(f"/v1/datasets/{unique_name('none')}/series")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    name = unique_name("ds")
    _ingest(any_client, name, ["a"])
    bad = any_client.get(f"/v1/datasets/{name}/series", params={"limit": 0})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.limit"
