"""Schemas of retraining schedules."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from api.schemas.common import Schema
from api.schemas.models import Name, TrainSpec

Cron = Field(min_length=1, max_length=200, description="Five-field cron expression.")
TimeZone = Field(min_length=1, max_length=64, description="IANA time zone, e.g. Europe/Paris.")


class ScheduleIn(Schema):
    """A new schedule: train ``model`` with ``train`` at each due time of ``cron``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "demand",
                    "cron": "0 3 * * *",
                    "timezone": "Europe/Berlin",
                    "train": {
                        "dataset": "demand",
                        "horizon": 24,
                        "promote": {"alias": "production", "policy": "if_better"},
                    },
                }
            ]
        }
    )

    model: Name = Field(description="The model to train.")
    cron: str = Cron
    timezone: str = Field(
        default="UTC", min_length=1, max_length=64, description="IANA time zone of the cron."
    )
    train: TrainSpec = Field(description="The training request, as for POST .../train.")
    enabled: bool = Field(default=True, description="Whether it queues jobs.")


class SchedulePatch(Schema):
    """Fields of a schedule to change; those left out keep their value."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": False}]})

    cron: str | None = Field(
        default=None, min_length=1, max_length=200, description="New cron expression."
    )
    timezone: str | None = Field(
        default=None, min_length=1, max_length=64, description="New IANA time zone."
    )
    train: TrainSpec | None = Field(default=None, description="New training request.")
    enabled: bool | None = Field(default=None, description="Pause (false) or resume (true).")


class ScheduleOut(Schema):
    """A schedule and its next run times."""

    id: int = Field(description="Schedule id.")
    model: str = Field(description="The model it trains.")
    cron: str = Field(description="Five-field cron expression.")
    timezone: str = Field(description="IANA time zone of the cron.")
    train: dict[str, object] = Field(description="The training request of each job.")
    enabled: bool = Field(description="Whether it queues jobs.")
    next_run_at: datetime | None = Field(default=None, description="Next due time (UTC).")
    last_run_at: datetime | None = Field(default=None, description="Last time it queued a job.")
    next_runs: list[datetime] = Field(
        description="The next few due times (UTC); empty while disabled."
    )
    created_at: datetime = Field(description="When it was created.")
    updated_at: datetime | None = Field(default=None, description="Last change.")
