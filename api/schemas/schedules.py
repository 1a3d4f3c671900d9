"""Schemas of retraining schedules."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.common import Schema
from api.schemas.models import Name, TrainSpec

Cron = Field(min_length=1, max_length=200, description="Five-field cron expression.")
TimeZone = Field(min_length=1, max_length=64, description="IANA time zone, e.g. Europe/Paris.")


class ScheduleIn(Schema):
    """A new schedule: train ``model`` with ``train`` at each due time of ``cron``."""

    model: Name
    cron: str = Cron
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    train: TrainSpec
    enabled: bool = True


class SchedulePatch(Schema):
    """Fields of a schedule to change; those left out keep their value."""

    cron: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    train: TrainSpec | None = None
    enabled: bool | None = None


class ScheduleOut(Schema):
    """A schedule and its next run times."""

    id: int
    model: str
    cron: str
    timezone: str
    train: dict[str, object]
    enabled: bool
    next_run_at: datetime | None = None
    last_run_at: datetime | None = None
    next_runs: list[datetime] = Field(
        description="The next few due times (UTC); empty while disabled."
    )
    created_at: datetime
    updated_at: datetime | None = None
