"""Schemas of jobs (training and inline-forecast work in the queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.schemas.common import Schema


class JobOut(Schema):
    """A job: its status, attempts, progress (epoch, loss, validation score) and outcome."""

    id: int
    kind: str
    model: str | None
    status: str
    spec: dict[str, Any]
    attempts: int
    max_attempts: int
    cancel_requested: bool
    progress: dict[str, Any] | None = None
    error: str | None = None
    result: dict[str, Any] | None = None
    result_version: int | None = None
    promotion: dict[str, Any] | None = None
    schedule_id: int | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
