"""The retraining scheduler: turns due schedules into queued training jobs.

Each due time yields exactly one job, however many scheduler replicas run: a replica advances
``next_run_at`` with a compare-and-set in the same transaction as the job insert, and the job's
idempotency key (schedule id + due time) lets the database refuse a duplicate outright. A
schedule whose due times were missed while nothing ran gets one catch-up job, and its next due
time is computed from now, so missed runs are not replayed as a burst.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models.cron import next_due
from models.db import DatabaseUnavailable, make_engine, make_session_factory, session_scope
from models.errors import Conflict
from models.job_specs import TrainJobSpec
from models.jobs import enqueue
from models.settings import Settings
from models.tables import Schedule
from worker.process import install_stop_handlers

log = logging.getLogger(__name__)


def idempotency_key(schedule_id: int, due_at: datetime) -> str:
    """The job key of one due time of one schedule: the database holds it unique."""
    return f"schedule:{schedule_id}:{due_at.astimezone(UTC).isoformat()}"


class Scheduler:
    """Enqueues one training job per due time of every enabled schedule."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session] | None = None) -> None:
        """Connect to the configured database (or use the given session factory)."""
        self.settings = settings
        self._sessions = sessions or make_session_factory(make_engine(settings.database_url))

    def tick(self, now: datetime) -> list[int]:
        """Handle every schedule due at ``now``; return the ids of the jobs enqueued."""
        with session_scope(self._sessions) as session:
            due = session.execute(
                select(Schedule.id, Schedule.next_run_at).where(
                    Schedule.enabled,
                    or_(Schedule.next_run_at.is_(None), Schedule.next_run_at <= now),
                )
            ).all()
        created = [self._fire(schedule_id, due_at, now) for schedule_id, due_at in due]
        return [job_id for job_id in created if job_id is not None]

    def run(self, stop: threading.Event) -> None:
        """Tick every ``scheduler_poll_seconds`` until ``stop`` is set."""
        log.info("scheduler started", extra={"poll_seconds": self.settings.scheduler_poll_seconds})
        while not stop.is_set():
            try:
                self.tick(datetime.now(UTC))
            except DatabaseUnavailable as exc:
                log.warning("scheduler tick failed", extra={"error": str(exc)})
            stop.wait(self.settings.scheduler_poll_seconds)
        log.info("scheduler stopped")

    def _fire(self, schedule_id: int, due_at: datetime | None, now: datetime) -> int | None:
        """Advance one schedule past ``now`` and enqueue its job, if this replica wins the CAS."""
        try:
            with session_scope(self._sessions) as session:
                return self._advance_and_enqueue(session, schedule_id, due_at, now)
        except (IntegrityError, Conflict):
            # Another replica already enqueued this due time; only move the schedule on.
            log.info("due time already enqueued", extra={"schedule_id": schedule_id})
            with session_scope(self._sessions) as session:
                self._compare_and_set(session, schedule_id, due_at, now)
            return None

    def _advance_and_enqueue(
        self, session: Session, schedule_id: int, due_at: datetime | None, now: datetime
    ) -> int | None:
        schedule = self._compare_and_set(session, schedule_id, due_at, now)
        if schedule is None or due_at is None:
            return None
        job = enqueue(
            session,
            schedule.model_name,
            TrainJobSpec.model_validate(schedule.spec).to_json(),
            max_attempts=self.settings.max_attempts,
            idempotency_key=idempotency_key(schedule_id, due_at),
            schedule_id=schedule_id,
        )
        session.flush()
        log.info(
            "scheduled job enqueued",
            extra={"schedule_id": schedule_id, "job_id": job.id, "model": schedule.model_name},
        )
        return job.id

    def _compare_and_set(
        self, session: Session, schedule_id: int, due_at: datetime | None, now: datetime
    ) -> Schedule | None:
        """Move next_run_at from ``due_at`` to the next due time after now; None if we lost."""
        schedule = session.get(Schedule, schedule_id)
        if schedule is None:
            return None
        try:
            following = next_due(schedule.cron, schedule.timezone, now)
        except (ValueError, KeyError) as exc:
            log.error(
                "schedule cannot be evaluated",
                extra={"schedule_id": schedule_id, "error": str(exc)},
            )
            return None
        matches = (
            Schedule.next_run_at.is_(None) if due_at is None else Schedule.next_run_at == due_at
        )
        values = (
            {"next_run_at": following}
            if due_at is None
            else {"next_run_at": following, "last_run_at": now}
        )
        won = cast(
            CursorResult[Any],
            session.execute(
                update(Schedule)
                .where(Schedule.id == schedule_id, Schedule.enabled, matches)
                .values(**values)
                .execution_options(synchronize_session=False)
            ),
        )
        return schedule if won.rowcount == 1 else None


def run_scheduler_process(settings: Settings) -> None:
    """Run a scheduler in this process until SIGTERM or SIGINT."""
    stop = threading.Event()
    install_stop_handlers(stop)
    Scheduler(settings).run(stop)
