"""Retraining schedules: create, get, list, update, delete.

Firing them (computing ``next_run_at``, enqueueing) is ``worker.scheduler``'s job; a schedule
created without ``next_run_at`` is picked up by the scheduler, which sets it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cron import validate_cron, validate_timezone
from models.errors import InvalidInput, NotFound
from models.names import validate_name
from models.pagination import DEFAULT_LIMIT, Page, paginate
from models.tables import Schedule

UPDATABLE = frozenset({"cron", "timezone", "spec", "enabled", "next_run_at", "last_run_at"})


def create_schedule(
    session: Session,
    *,
    model_name: str,
    cron: str,
    spec: dict[str, Any],
    timezone: str = "UTC",
    enabled: bool = True,
    next_run_at: datetime | None = None,
) -> Schedule:
    """A new schedule that trains MODEL_NAME with SPEC at each CRON time in TIMEZONE."""
    schedule = Schedule(
        model_name=validate_name(model_name, "model name"),
        cron=validate_cron(cron),
        timezone=validate_timezone(timezone),
        spec=spec,
        enabled=enabled,
        next_run_at=next_run_at,
    )
    session.add(schedule)
    session.flush()
    return schedule


def get_schedule(session: Session, schedule_id: int) -> Schedule:
    """The schedule SCHEDULE_ID; NotFound otherwise."""
    schedule = session.get(Schedule, schedule_id)
    if schedule is None:
        raise NotFound(f"schedule {schedule_id} not found")
    return schedule


def list_schedules(
    session: Session,
    *,
    model: str | None = None,
    enabled: bool | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Schedule]:
    """Schedules newest first, optionally of one MODEL and/or only ENABLED ones."""
    stmt = select(Schedule)
    if model is not None:
        stmt = stmt.where(Schedule.model_name == model)
    if enabled is not None:
        stmt = stmt.where(Schedule.enabled == enabled)
    return paginate(session, stmt, Schedule.created_at, Schedule.id, limit=limit, cursor=cursor)


def update_schedule(session: Session, schedule_id: int, **changes: Any) -> Schedule:
    """Apply CHANGES (cron, timezone, spec, enabled, next_run_at, last_run_at) to a schedule.

    Changing the cron or the zone clears ``next_run_at`` unless given, so the scheduler
    recomputes it.
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidInput(f"unknown schedule field(s): {sorted(unknown)}")
    if "cron" in changes:
        validate_cron(changes["cron"])
    if "timezone" in changes:
        validate_timezone(changes["timezone"])
    schedule = get_schedule(session, schedule_id)
    if ({"cron", "timezone"} & changes.keys()) and "next_run_at" not in changes:
        changes["next_run_at"] = None
    for field, value in changes.items():
        setattr(schedule, field, value)
    session.flush()
    return schedule


def delete_schedule(session: Session, schedule_id: int) -> None:
    """Delete a schedule (its past jobs keep their rows, with schedule_id cleared)."""
    session.delete(get_schedule(session, schedule_id))
    session.flush()
