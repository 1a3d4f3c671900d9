"""Scoring logged forecasts when their actuals arrive, off the ingest's hot path.

After an ingest has answered, ``after_ingest`` (a background task of that request) scores at
most ``INLINE_POINTS`` points of the dataset; a larger ingest leaves the rest to this process's
scorer thread, which also looks for unscored actuals every ``POLL_SECONDS`` (ingests through
another process, forecasts logged after their actuals). Scores are claimed in the database
(``models.live_scoring``), so several API processes never count a point twice.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.forecast_log import ForecastLog
from models.db import session_scope
from models.errors import StoreError
from models.live_scoring import score_pending

logger = logging.getLogger(__name__)

INLINE_POINTS = 5_000
BATCH_POINTS = 20_000
POLL_SECONDS = 60.0


class LiveScorer:
    """Runs scoring passes: a bounded one after each ingest, the rest in a background thread."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        forecast_log: ForecastLog,
        inline_points: int = INLINE_POINTS,
    ) -> None:
        self._factory = factory
        self._log = forecast_log
        self.inline_points = inline_points
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_ingest(self, dataset: str) -> int:
        """Score DATASET's new actuals, at most ``inline_points`` here; a larger ingest wakes
        the scorer thread (started with the app) for the rest. How many points were scored."""
        if not self._log.enabled:
            return 0
        self._log.flush()  # forecasts this process answered are in the log before we look
        seen = self._pass(dataset, self.inline_points)
        if seen >= self.inline_points:
            self._wake.set()
        return seen

    def score_all(self) -> int:
        """Score every pending point, in batches; how many were looked at."""
        total = 0
        while (seen := self._pass(None, BATCH_POINTS)) > 0:
            total += seen
            if seen < BATCH_POINTS:
                break
        return total

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        if self._log.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="live-scorer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the background thread after its current pass."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join()
            self._stop.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            if not self._stop.is_set():
                self.score_all()

    def _pass(self, dataset: str | None, limit: int) -> int:
        try:
            with session_scope(self._factory) as session:
                return score_pending(session, dataset, limit)
        except (SQLAlchemyError, StoreError) as exc:
            logger.warning("live scoring pass failed", extra={"error": str(exc)})
            return 0
