"""Datasets and observations on both backends: upsert, read-back, validation, summaries."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.datasets import (
    delete_dataset,
    get_dataset_summary,
    list_datasets,
    read_observations,
    series_spans,
    upsert_observations,
)
from models.errors import Conflict, InvalidInput, NotFound
from models.jobs import enqueue
from models.registry import register_version, set_alias
from models.schedules import create_schedule
from models.tables import Observation, Series
from tests.models.conftest import unique_name, version_fields


def frame(
    series: dict[str, list[float]], start: str = "2024-01-01", freq: str = "h"
) -> pd.DataFrame:
    """A long frame with one hourly series per key."""
    parts = [
        pd.DataFrame(
            {"unique_id": uid, "ds": pd.date_range(start, periods=len(ys), freq=freq), "y": ys}
        )
        for uid, ys in series.items()
    ]
    return pd.concat(parts, ignore_index=True)


def test_upsert_then_read_returns_the_same_frame(session: Session) -> None:
    name = unique_name("d")
    df = frame({"b": [1.5, 2.0, 3.0], "a": [0.1, 1e-12, -7.25]})
    result = upsert_observations(session, name, df)
    assert (result.series, result.new_series, result.rows, result.written) == (2, 2, 6, 6)
    out = read_observations(session, name)
    expected = df.sort_values(["unique_id", "ds"], ignore_index=True)
    assert list(out.columns) == ["unique_id", "ds", "y"]
    assert out["ds"].dtype == np.dtype("datetime64[ns]")
    assert out["y"].dtype == np.float64
    assert out["unique_id"].tolist() == expected["unique_id"].tolist()
    assert (out["ds"].to_numpy() == expected["ds"].to_numpy()).all()
    assert out["y"].tolist() == expected["y"].tolist()


def test_upsert_is_idempotent_and_updates_changed_values(session: Session) -> None:
    name = unique_name("d")
    df = frame({"a": [1.0, 2.0, 3.0]})
    upsert_observations(session, name, df)
    again = upsert_observations(session, name, df)
    assert (again.new_series, again.written) == (0, 0)
    changed = df.copy()
    changed.loc[1, "y"] = 20.0
    more = frame({"a": [4.0], "b": [5.0]}, start="2024-01-01 03:00")
    result = upsert_observations(session, name, pd.concat([changed, more], ignore_index=True))
    assert (result.rows, result.new_series, result.written) == (5, 1, 3)
    assert read_observations(session, name)["y"].tolist() == [1.0, 20.0, 3.0, 4.0, 5.0]


def test_read_a_subset_and_a_time_range(session: Session) -> None:
    name = unique_name("d")
    upsert_observations(session, name, frame({"a": [1, 2, 3, 4], "b": [5, 6, 7, 8], "c": [9]}))
    out = read_observations(
        session,
        name,
        unique_ids=["b", "a"],
        start="2024-01-01 01:00",
        end=datetime(2024, 1, 1, 2, tzinfo=UTC),
    )
    assert out["unique_id"].tolist() == ["a", "a", "b", "b"]
    assert out["y"].tolist() == [2.0, 3.0, 6.0, 7.0]
    assert read_observations(session, name, start="2030-01-01").empty


def test_timezones_are_converted_to_utc_and_returned_naive(session: Session) -> None:
    name = unique_name("d")
    stamps = pd.date_range("2024-03-10 09:00", periods=2, freq="h", tz="America/New_York")
    upsert_observations(session, name, pd.DataFrame({"unique_id": "x", "ds": stamps, "y": [1, 2]}))
    out = read_observations(session, name)
    assert out["ds"].tolist() == [
        pd.Timestamp("2024-03-10 13:00"),
        pd.Timestamp("2024-03-10 14:00"),
    ]
    summary = get_dataset_summary(session, name)
    assert summary.first_ds == datetime(2024, 3, 10, 13, tzinfo=UTC)


DAY = pd.to_datetime(["2024-01-01"])  # the store takes typed columns, as the validator returns


@pytest.mark.parametrize(
    ("df", "message"),
    [
        (pd.DataFrame({"unique_id": ["a"], "ds": DAY}), "missing column"),
        (
            pd.DataFrame({"unique_id": ["a", "a"], "ds": DAY.repeat(2), "y": [1, 2]}),
            "'a'.*duplicate",
        ),
        (
            pd.DataFrame({"unique_id": ["a", "b"], "ds": DAY.repeat(2), "y": [1, np.nan]}),
            "'b'.*finite",
        ),
        (pd.DataFrame({"unique_id": ["a"], "ds": DAY, "y": [np.inf]}), "finite"),
        # Text is the validator's to parse (forecaster.frames); the store refuses it unread.
        (pd.DataFrame({"unique_id": ["a"], "ds": ["2024-01-01"], "y": [1]}), "not timestamps"),
        (pd.DataFrame({"unique_id": ["a"], "ds": [pd.NaT], "y": [1]}), "missing timestamps"),
        (pd.DataFrame({"unique_id": ["a"], "ds": DAY, "y": ["1"]}), "not numbers"),
        (pd.DataFrame({"unique_id": [None], "ds": DAY, "y": [1]}), "unique_id"),
        (pd.DataFrame({"unique_id": [], "ds": [], "y": []}), "no observations"),
    ],
)
def test_bad_frames_are_refused_before_any_write(
    session: Session, df: pd.DataFrame, message: str
) -> None:
    name = unique_name("d")
    with pytest.raises(InvalidInput, match=message):
        upsert_observations(session, name, df)
    with pytest.raises(NotFound):
        get_dataset_summary(session, name)


def test_bad_dataset_names_are_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="dataset name"):
        upsert_observations(session, "../etc", frame({"a": [1.0]}))


def test_reading_unknown_datasets_or_series_is_not_found(session: Session) -> None:
    name = unique_name("d")
    with pytest.raises(NotFound, match="dataset"):
        read_observations(session, name)
    upsert_observations(session, name, frame({"a": [1.0]}))
    with pytest.raises(NotFound, match="'zz'"):
        read_observations(session, name, unique_ids=["a", "zz"])


def test_summary_list_and_delete(session: Session) -> None:
    names = [unique_name("d") for _ in range(3)]
    for name in names:
        upsert_observations(session, name, frame({"a": [1.0, 2.0], "b": [3.0]}))
    summary = get_dataset_summary(session, names[0])
    assert (summary.series, summary.observations) == (2, 3)
    assert summary.last_ds == datetime(2024, 1, 1, 1, tzinfo=UTC)
    first = list_datasets(session, limit=2)
    assert [d.name for d in first.items] == [names[2], names[1]]
    assert first.next_cursor is not None
    second = list_datasets(session, limit=2, cursor=first.next_cursor)
    assert second.items[0].name == names[0]
    delete_dataset(session, names[0])
    with pytest.raises(NotFound):
        get_dataset_summary(session, names[0])
    orphans = session.scalar(
        select(func.count())
        .select_from(Observation)
        .outerjoin(Series, Series.id == Observation.series_id)
        .where(Series.id.is_(None))
    )
    assert orphans == 0


def test_read_only_the_last_points_of_each_series(session: Session) -> None:
    name = unique_name("d")
    df = frame({"a": [float(i) for i in range(10)], "b": [1.0, 2.0]})
    upsert_observations(session, name, df)
    tail = read_observations(session, name, last=3)
    assert tail["unique_id"].tolist() == ["a", "a", "a", "b", "b"]
    assert tail["y"].tolist() == [7.0, 8.0, 9.0, 1.0, 2.0]
    assert tail["ds"].iloc[2] == pd.Timestamp("2024-01-01 09:00")
    bounded = read_observations(session, name, unique_ids=["a"], end="2024-01-01 04:00", last=2)
    assert bounded["y"].tolist() == [3.0, 4.0]
    with pytest.raises(InvalidInput):
        read_observations(session, name, last=0)


def test_series_spans_count_and_bound_each_series(session: Session) -> None:
    name = unique_name("d")
    upsert_observations(session, name, frame({"b": [1.0, 2.0, 3.0], "a": [5.0]}))
    spans = series_spans(session, name)
    assert spans["unique_id"].tolist() == ["a", "b"]
    assert spans["points"].tolist() == [1, 3]
    assert spans["last"].tolist() == [
        pd.Timestamp("2024-01-01 00:00"),
        pd.Timestamp("2024-01-01 02:00"),
    ]
    assert series_spans(session, name, unique_ids=["b"])["points"].tolist() == [3]


def test_a_dataset_in_use_is_deleted_only_by_force(session: Session) -> None:
    name = unique_name("d")
    model = unique_name("m")
    upsert_observations(session, name, frame({"a": [1.0, 2.0, 3.0]}))
    spec = {"dataset": name, "horizon": 1}
    job = enqueue(session, model, spec, max_attempts=1)
    version = register_version(session, model, **version_fields(job_id=job.id))
    set_alias(session, model, "production", version.version)
    schedule = create_schedule(session, model_name=model, cron="0 * * * *", spec=spec)
    with pytest.raises(Conflict) as refused:
        delete_dataset(session, name)
    assert f"schedule {schedule.id}" in str(refused.value)
    assert f"model {model}@production" in str(refused.value)
    delete_dataset(session, name, force=True)
    with pytest.raises(NotFound):
        read_observations(session, name)
