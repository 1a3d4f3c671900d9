"""Keeping a claimed job's lease alive while it runs, and knowing when to stop it."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from models.db import DatabaseUnavailable, session_scope
from worker import queue
from worker.queue import ClaimedJob, LeaseLostError

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Heartbeats one claimed job from a background thread (every third of the lease).

    It also carries the three reasons a running job must stop at its next epoch boundary:
    a cancel request seen by a heartbeat, the lease lost, or ``abort`` (shutdown grace over).
    """

    def __init__(
        self, sessions: sessionmaker[Session], job: ClaimedJob, lease_seconds: float
    ) -> None:
        """Prepare to keep ``job``'s lease; ``start()`` begins heartbeating."""
        self._sessions = sessions
        self.job = job
        self.lease_seconds = lease_seconds
        self.cancel_requested = False
        self.lost = False
        self.abort = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job.id}", daemon=True)

    def start(self) -> None:
        """Begin heartbeating in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop heartbeating (the job finished, one way or the other)."""
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.lease_seconds)

    def should_stop(self) -> bool:
        """True when training must stop: cancelled, lease lost, or shutdown grace over."""
        return self.cancel_requested or self.lost or self.abort.is_set()

    def beat(self, progress: dict[str, Any] | None = None) -> None:
        """One fenced heartbeat (recording ``progress`` when given); notes cancel and loss."""
        if self.lost:
            return
        with self._lock:
            try:
                with session_scope(self._sessions) as session:
                    beat = queue.heartbeat(
                        session, self.job, datetime.now(UTC), self.lease_seconds, progress
                    )
            except LeaseLostError:
                self.lost = True
                log.warning("lease lost", extra={"job_id": self.job.id})
                return
            except DatabaseUnavailable as exc:
                log.warning("heartbeat failed", extra={"job_id": self.job.id, "error": str(exc)})
                return
        if beat.cancel_requested and not self.cancel_requested:
            log.info("cancel requested", extra={"job_id": self.job.id})
        self.cancel_requested = self.cancel_requested or beat.cancel_requested

    def _run(self) -> None:
        interval = self.lease_seconds / 3
        while not self._done.wait(interval):
            self.beat()
