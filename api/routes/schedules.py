"""Retraining schedules: create, list, read, change, delete; each shows its next run times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.errors import field_of_store_errors
from api.jobs import check_training_data
from api.schemas.common import Cursor, Limit, Page
from api.schemas.schedules import ScheduleIn, ScheduleOut, SchedulePatch
from models import schedules as store
from models.cron import next_runs, validate_schedule, validate_timezone
from models.tables import Schedule

router = APIRouter(prefix="/schedules", tags=["schedules"])
NEXT_RUNS = 3

ScheduleId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Schedule id.")]


@router.post("", status_code=201, response_model=ScheduleOut)
def create_schedule(body: ScheduleIn, session: SessionDep, response: Response) -> ScheduleOut:
    """Train ``model`` with ``train`` at each due time of ``cron`` in ``timezone``."""
    first = check_schedule(body.cron, body.timezone)
    check_training_data(session, body.train)
    with field_of_store_errors("body"):
        schedule = store.create_schedule(
            session,
            model_name=body.model,
            cron=body.cron,
            spec=body.train.to_job_spec().to_json(),
            timezone=body.timezone,
            enabled=body.enabled,
            next_run_at=first,
        )
    response.headers["Location"] = f"/v1/schedules/{schedule.id}"
    return schedule_out(schedule)


@router.get("", response_model=Page[ScheduleOut])
def list_schedules(
    session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[ScheduleOut]:
    """Schedules, newest first."""
    with field_of_store_errors("query.cursor"):
        page = store.list_schedules(session, limit=limit, cursor=cursor)
    return Page(items=[schedule_out(s) for s in page.items], next_cursor=page.next_cursor)


@router.get("/{schedule_id}", response_model=ScheduleOut)
def get_schedule(schedule_id: ScheduleId, session: SessionDep) -> ScheduleOut:
    """One schedule and its next run times."""
    return schedule_out(store.get_schedule(session, schedule_id))


@router.patch("/{schedule_id}", response_model=ScheduleOut)
def update_schedule(
    schedule_id: ScheduleId, body: SchedulePatch, session: SessionDep
) -> ScheduleOut:
    """Change the cron, zone, training spec or enabled flag of a schedule."""
    current = store.get_schedule(session, schedule_id)
    changes = _changes(session, current, body)
    with field_of_store_errors("body"):
        updated = store.update_schedule(session, schedule_id, **changes)
    return schedule_out(updated)


@router.delete("/{schedule_id}", status_code=204, response_class=Response)
def delete_schedule(schedule_id: ScheduleId, session: SessionDep) -> Response:
    """Delete a schedule (the jobs it created are kept)."""
    store.delete_schedule(session, schedule_id)
    return Response(status_code=204)


def _changes(session: Session, current: Schedule, body: SchedulePatch) -> dict[str, object]:
    changes: dict[str, object] = {}
    if body.enabled is not None:
        changes["enabled"] = body.enabled
    if body.train is not None:
        check_training_data(session, body.train)
        changes["spec"] = body.train.to_job_spec().to_json()
    if body.cron is not None or body.timezone is not None:
        cron = body.cron or current.cron
        timezone = body.timezone or current.timezone
        first = check_schedule(cron, timezone)
        changes.update(cron=cron, timezone=timezone, next_run_at=first)
    return changes


def check_schedule(cron: str, timezone: str) -> datetime:
    """The first due time; 422 naming the field when the cron expression is not valid or
    never fires, or the time zone is not known."""
    with field_of_store_errors("body.timezone"):
        validate_timezone(timezone)
    with field_of_store_errors("body.cron"):
        return validate_schedule(cron, timezone, datetime.now(UTC))


def _upcoming(schedule: Schedule) -> list[datetime]:
    """The next due times; none while the schedule is disabled (it will not run)."""
    if not schedule.enabled:
        return []
    return next_runs(schedule.cron, schedule.timezone, datetime.now(UTC), NEXT_RUNS)


def schedule_out(schedule: Schedule) -> ScheduleOut:
    """A schedule row as the API schema, with its next few due times."""
    return ScheduleOut(
        id=schedule.id,
        model=schedule.model_name,
        cron=schedule.cron,
        timezone=schedule.timezone,
        train=schedule.spec,
        enabled=schedule.enabled,
        next_run_at=schedule.next_run_at,
        last_run_at=schedule.last_run_at,
        next_runs=_upcoming(schedule),
        created_at=schedule.created_at,
        updated_at=schedule.updated_at,
    )
