"""Formats beyond JSON: Parquet ingest (one validator with CSV and JSON) and CSV forecasts."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.api.conftest import HORIZON, TestClient, TrainedModel, register, series_payload

PARQUET = "application/vnd.apache.parquet"


def _parquet(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue()


def _frame(points: int = 5) -> pd.DataFrame:
    ds = pd.date_range("2024-03-01", periods=points, freq="h")
    return pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], points),
            "ds": np.tile(ds, 2),
            "y": np.arange(2 * points, dtype="float64") / 3,
        }
    )


def _put(client: TestClient, dataset: str, body: bytes, **params: str) -> object:
    return client.put(
        f"/v1/datasets/{dataset}/observations",
        content=body,
        headers={"content-type": PARQUET},
        params=params,
    )


def test_parquet_ingest_stores_the_exact_values(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("pq")
    frame = _frame()
    response = _put(any_client, name, _parquet(frame))
    assert response.json() == {  # type: ignore[attr-defined]
        "dataset": name,
        "rows": 10,
        "series": 2,
        "new_series": 2,
        "written": 10,
    }
    stored = any_client.get(f"/v1/datasets/{name}/series/b").json()
    assert stored["y"] == frame["y"].iloc[5:].tolist()
    assert stored["ds"][0] == "2024-03-01T00:00:00Z"


def test_parquet_with_a_unique_id_query_and_tz_aware_stamps(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("pq")
    ds = pd.date_range("2024-03-01 01:00", periods=3, freq="h", tz="Europe/Paris")
    body = _parquet(pd.DataFrame({"ds": ds, "y": [1.0, 2.0, 3.0]}))
    assert _put(any_client, name, body, unique_id="solo").status_code == 200  # type: ignore[attr-defined]
    stored = any_client.get(f"/v1/datasets/{name}/series/solo").json()
    assert stored["ds"][0] == "2024-03-01T00:00:00Z"


@pytest.mark.parametrize(
    ("frame", "field", "reason"),
    [
        (_frame().assign(y=[1.0, np.nan, *range(8)]), "parquet.y", "row 2: the value is null"),
        (_frame().drop(columns="y"), "parquet.columns", "expected the columns unique_id,ds,y"),
        (_frame().assign(y=[np.inf, *range(9)]), "parquet.y", "row 1: "),
        (pd.concat([_frame(), _frame().iloc[:1]]), "parquet.ds", "row 11: duplicate timestamp"),
        (_frame().assign(ds="yesterday"), "parquet.ds", "row 1: 'yesterday' is not an ISO"),
        (_frame().assign(unique_id="a\x00"), "parquet.unique_id", "row 1: NUL characters"),
    ],
)
def test_bad_parquet_is_a_422_naming_the_field_and_nothing_is_stored(
    client: TestClient,
    unique_name: Callable[[str], str],
    frame: pd.DataFrame,
    field: str,
    reason: str,
) -> None:
    name = unique_name("pq")
    response = _put(client, name, _parquet(frame))
    assert response.status_code == 422  # type: ignore[attr-defined]
    error = response.json()["errors"][0]  # type: ignore[attr-defined]
    assert error["field"] == field
    assert error["reason"].startswith(reason), error
    assert client.get(f"/v1/datasets/{name}").status_code == 404


def test_bytes_that_are_not_parquet_are_a_422(
    client: TestClient, unique_name: Callable[[str], str]
) -> None:
    response = _put(client, unique_name("pq"), b"unique_id,ds,y\na,2024-01-01,1\n")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert response.json()["errors"][0]["field"] == "parquet"  # type: ignore[attr-defined]


def test_accept_text_csv_answers_the_same_numbers_as_json(
    client: TestClient,
    api_pg_url: str,
    trained: TrainedModel,
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("m")
    register(api_pg_url, name, trained)
    body = {"model": name, "horizon": HORIZON, "series": series_payload(trained.history)}
    as_json = client.post("/v1/forecast", json=body).json()
    response = client.post("/v1/forecast", json=body, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["forecaster-model"] == f"{name}@1"
    table = pd.read_csv(io.StringIO(response.text))
    keys = sorted(as_json["forecasts"][0]["quantiles"], key=float)
    assert list(table.columns) == ["unique_id", "ds", "mean", *(f"q{k}" for k in keys)]
    first = as_json["forecasts"][0]
    rows = table[table["unique_id"] == first["unique_id"]]
    assert rows["ds"].tolist() == first["ds"]
    assert rows["mean"].tolist() == first["mean"]
    assert rows[f"q{keys[0]}"].tolist() == first["quantiles"][keys[0]]
    assert len(table) == HORIZON * len(as_json["forecasts"])


def test_csv_is_only_chosen_when_preferred_and_errors_stay_problems(
    client: TestClient, api_pg_url: str, trained: TrainedModel, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("m")
    register(api_pg_url, name, trained)
    body = {"model": name, "horizon": HORIZON, "series": series_payload(trained.history)}
    mixed = {"Accept": "application/json, text/csv;q=0.5"}
    assert client.post("/v1/forecast", json=body, headers=mixed).headers["content-type"] == (
        "application/json"
    )
    bad = client.post("/v1/forecast", json={**body, "horizon": 999}, headers={"Accept": "text/csv"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


def test_parquet_module_needs_no_files(tmp_path: Path) -> None:
    """The body is decoded from memory: nothing is written next to the service."""
    from api.parquet import parse_parquet

    frame = parse_parquet(_parquet(_frame()), None)
    assert list(frame.columns) == ["unique_id", "ds", "y"]
    assert list(tmp_path.iterdir()) == []
