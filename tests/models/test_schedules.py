"""Schedules CRUD on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from models.errors import InvalidInput, NotFound
from models.jobs import enqueue, get_job
from models.schedules import (
    create_schedule,
    delete_schedule,
    get_schedule,
    list_schedules,
    update_schedule,
)
from tests.models.conftest import unique_name

SPEC = {"dataset": "d", "horizon": 24}


def test_create_get_update_delete(session: Session) -> None:
    model = unique_name()
    due = datetime(2024, 1, 1, 6, tzinfo=UTC)
    schedule = create_schedule(
        session,
        model_name=model,
        cron="0 6 * * *",
        timezone="Europe/Paris",
        spec=SPEC,
        next_run_at=due,
    )
    got = get_schedule(session, schedule.id)
    assert (got.cron, got.timezone, got.enabled, got.next_run_at) == (
        "0 6 * * *",
        "Europe/Paris",
        True,
        due,
    )
    update_schedule(session, schedule.id, enabled=False, last_run_at=due)
    assert get_schedule(session, schedule.id).enabled is False
    moved = update_schedule(session, schedule.id, cron="30 6 * * 1")
    assert moved.next_run_at is None
    job = enqueue(session, model, SPEC, max_attempts=1, schedule_id=schedule.id)
    delete_schedule(session, schedule.id)
    with pytest.raises(NotFound):
        get_schedule(session, schedule.id)
    session.expire_all()
    assert get_job(session, job.id).schedule_id is None


def test_list_filters(session: Session) -> None:
    model = unique_name()
    a = create_schedule(session, model_name=model, cron="@daily", spec=SPEC)
    b = create_schedule(session, model_name=model, cron="@hourly", spec=SPEC, enabled=False)
    assert [s.id for s in list_schedules(session, model=model).items] == [b.id, a.id]
    assert [s.id for s in list_schedules(session, model=model, enabled=True).items] == [a.id]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cron": "every day"}, "cron"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"model_name": "x"}, "unknown"),
    ],
)
def test_invalid_values_are_refused(
    session: Session, changes: dict[str, str], message: str
) -> None:
    schedule = create_schedule(session, model_name=unique_name(), cron="@daily", spec=SPEC)
    with pytest.raises(InvalidInput, match=message):
        update_schedule(session, schedule.id, **changes)
    with pytest.raises(InvalidInput):
        create_schedule(session, model_name="m", cron="61 * * * *", spec=SPEC)
