"""Schemas of jobs (training and inline-forecast work in the queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from api.schemas.common import Schema


class JobOut(Schema):
    """A job: its status, attempts, progress (epoch, loss, validation score) and outcome."""

    id: int = Field(description="Job id.")
    kind: str = Field(description="train or forecast.")
    model: str | None = Field(description="The model a train job registers a version of.")
    status: str = Field(description="queued, running, succeeded, failed or cancelled.")
    spec: dict[str, Any] = Field(description="What to do: the training request.")
    attempts: int = Field(description="Attempts so far (a lost worker's attempt counts).")
    max_attempts: int = Field(description="Attempts before the job fails.")
    cancel_requested: bool = Field(description="Whether a cancel was asked for.")
    progress: dict[str, Any] | None = Field(
        default=None,
        description="epoch, epochs, member, members, train_loss, val_score, elapsed_s, eta_s.",
    )
    error: str | None = Field(default=None, description="Why it failed.")
    result: dict[str, Any] | None = Field(
        default=None, description="What it produced (version and metrics, or a forecast)."
    )
    result_version: int | None = Field(default=None, description="The version it registered.")
    promotion: dict[str, Any] | None = Field(
        default=None, description="The promotion decision of a train job."
    )
    schedule_id: int | None = Field(default=None, description="The schedule that queued it.")
    created_at: datetime = Field(description="When it was queued.")
    started_at: datetime | None = Field(default=None, description="When a worker claimed it.")
    finished_at: datetime | None = Field(default=None, description="When it ended.")
    updated_at: datetime | None = Field(default=None, description="Last change.")
