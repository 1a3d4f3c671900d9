"""Datasets with covariates: extra columns and future rows in JSON, CSV and Parquet, read back
exactly (PostgreSQL and SQLite), and every bad input a 422 naming series, column and time."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from models import datasets
from models.dataset_frames import read_frame
from tests.api.conftest import TestClient

PARQUET = "application/vnd.apache.parquet"
HISTORY, FUTURE = 6, 3


def _frame() -> pd.DataFrame:
    """Two series: 6 observed hours, then 3 future rows (y empty) with promo and price known,
    ``temp`` (past-only) and ``region`` (static, categorical)."""
    points = HISTORY + FUTURE
    ds = pd.date_range("2024-03-01", periods=points, freq="h")
    frames = []
    for i, region in enumerate(["north", "south"]):
        y = np.r_[np.arange(HISTORY, dtype="float64") + 10 * i, [np.nan] * FUTURE]
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": ds,
                    "y": y,
                    "promo": (np.arange(points) % 4 == 3).astype("float64"),
                    "price": 2.5 + 0.25 * np.arange(points) + i,
                    "temp": np.r_[np.linspace(1, 2, HISTORY), [np.nan] * FUTURE],
                    "region": region,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _json_rows(frame: pd.DataFrame) -> dict[str, Any]:
    rows = []
    for record in frame.to_dict("records"):
        row = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in record.items()}
        row["ds"] = record["ds"].isoformat()
        rows.append(row)
    return {"rows": rows}


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode()


def _parquet(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue()


def _put(client: TestClient, dataset: str, frame: pd.DataFrame, fmt: str) -> Any:
    path = f"/v1/datasets/{dataset}/observations"
    if fmt == "json":
        return client.put(path, json=_json_rows(frame))
    body, media = (_csv(frame), "text/csv") if fmt == "csv" else (_parquet(frame), PARQUET)
    return client.put(path, content=body, headers={"content-type": media})


def _session(client: TestClient) -> Session:
    factory = client.app.state.services.session_factory  # type: ignore[attr-defined]
    session: Session = factory()
    return session


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_covariates_and_future_rows_round_trip(
    any_client: TestClient, unique_name: Callable[[str], str], fmt: str
) -> None:
    name = unique_name("cov")
    frame = _frame()
    response = _put(any_client, name, frame, fmt)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["rows"] == 18
    assert answer["written"] == 12  # observations only: the future rows store none
    assert answer["future_rows"] == 6
    assert answer["covariate_values"] == 18 * 3 + 12  # temp is empty in the future rows
    summary = any_client.get(f"/v1/datasets/{name}").json()
    assert summary["points"] == 12  # readers of y see the observations alone
    assert summary["last_ds"].startswith("2024-03-01T05:00:00")
    assert summary["columns"] == [
        {"name": "promo", "kind": "numeric", "categories": 0},
        {"name": "price", "kind": "numeric", "categories": 0},
        {"name": "temp", "kind": "numeric", "categories": 0},
        {"name": "region", "kind": "categorical", "categories": 2},
    ]
    series = any_client.get(f"/v1/datasets/{name}/series/s1").json()
    assert series["y"] == list(np.arange(HISTORY, dtype="float64") + 10)
    with _session(any_client) as session:
        back = read_frame(session, name, columns=["promo", "price", "temp", "region"])
        only_y = datasets.read_observations(session, name)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    pd.testing.assert_frame_equal(
        only_y,
        frame.dropna(subset=["y"])[["unique_id", "ds", "y"]].reset_index(drop=True),
        check_dtype=False,
    )


def test_later_ingests_fill_y_and_extend_covariates(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("cov")
    frame = _frame()
    assert _put(any_client, name, frame, "json").status_code == 200
    later = frame[frame["y"].isna()].copy()
    later["y"] = 100.0  # the future arrived
    later["temp"] = 3.0
    extra = later.assign(ds=later["ds"] + pd.Timedelta(hours=FUTURE), y=np.nan, temp=np.nan)
    answer = _put(any_client, name, pd.concat([later, extra]), "csv").json()
    assert (answer["written"], answer["future_rows"]) == (6, 6)
    with _session(any_client) as session:
        back = read_frame(session, name, columns=["promo", "temp"], last=4)
    s0 = back[back["unique_id"] == "s0"]
    assert len(s0) == 4 + FUTURE  # the last 4 observations, then the new future rows
    assert s0["y"].tolist()[:4] == [5.0, 100.0, 100.0, 100.0]
    assert s0["temp"].tolist()[1:4] == [3.0, 3.0, 3.0]
    assert s0["y"].iloc[4:].isna().all()


def test_a_frame_without_covariates_answers_as_before(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    frame = _frame().dropna(subset=["y"])[["unique_id", "ds", "y"]]
    answer = _put(any_client, unique_name("plain"), frame, "parquet").json()
    assert set(answer) == {"dataset", "rows", "series", "new_series", "written"}


def _error(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    error: dict[str, str] = response.json()["errors"][0]
    return error


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_an_empty_y_inside_the_history_is_a_422(
    any_client: TestClient, unique_name: Callable[[str], str], fmt: str
) -> None:
    frame = _frame()
    frame.loc[2, "y"] = np.nan
    name = unique_name("bad")
    reason = _error(_put(any_client, name, frame, fmt))["reason"]
    assert "series 's0' at 2024-03-01T02:00:00" in reason
    assert "column 'y'" in reason
    assert "inside the history" in reason
    assert any_client.get(f"/v1/datasets/{name}").status_code == 404


def test_an_empty_y_before_a_stored_observation_is_a_422(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("bad")
    assert _put(any_client, name, _frame().dropna(subset=["y"]), "json").status_code == 200
    early = _frame().iloc[[1]].assign(y=np.nan)
    reason = _error(_put(any_client, name, early, "json"))["reason"]
    assert "series 's0' at 2024-03-01T01:00:00" in reason
    assert "inside the history" in reason


def test_a_text_value_in_a_numeric_column_is_a_422_naming_it(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("bad")
    assert _put(any_client, name, _frame(), "json").status_code == 200
    later = _frame().astype({"price": object})
    later.loc[10, "price"] = "cheap"
    reason = _error(_put(any_client, name, later, "csv"))["reason"]
    assert "column 'price'" in reason
    assert "series 's1' at 2024-03-01T01:00:00" in reason
    assert "'cheap' is not a number" in reason


def test_an_infinite_covariate_and_a_bare_empty_y_are_422s(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    frame = _frame()
    frame.loc[4, "price"] = np.inf
    reason = _error(_put(any_client, unique_name("bad"), frame, "parquet"))["reason"]
    assert "column 'price'" in reason
    assert "series 's0' at 2024-03-01T04:00:00" in reason
    bare = _frame()[["unique_id", "ds", "y", "temp"]]  # future rows with no value at all
    reason = _error(_put(any_client, unique_name("bad"), bare, "json"))["reason"]
    assert "series 's0' at 2024-03-01T06:00:00" in reason
    assert "y must be a finite" in reason


def test_deleting_a_dataset_deletes_its_covariates(
    any_client: TestClient, unique_name: Callable[[str], str]
) -> None:
    from sqlalchemy import func, select

    from models.tables import CovariateValue, Dataset, DatasetColumn

    name = unique_name("gone")
    assert _put(any_client, name, _frame(), "parquet").status_code == 200
    with _session(any_client) as session:
        before = session.scalar(select(func.count()).select_from(CovariateValue))
        dataset_id = session.scalar(select(Dataset.id).where(Dataset.name == name))
    assert any_client.delete(f"/v1/datasets/{name}").status_code == 204
    with _session(any_client) as session:
        after = session.scalar(select(func.count()).select_from(CovariateValue))
        columns = session.scalar(select(func.count()).where(DatasetColumn.dataset_id == dataset_id))
    assert before is not None
    assert after == before - 66
    assert columns == 0
