"""The worker process: claim jobs, run them under a lease, shut down gracefully.

A worker is stateless; run one per GPU (``CUDA_VISIBLE_DEVICES`` picks it) on as many machines
as the database can serve. On SIGTERM it stops claiming, gives the running job
``shutdown_grace_seconds`` to finish, else releases it back to the queue, and exits 0.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from forecaster.errors import TrainingCancelled
from forecaster.estimator import resolve_device
from models.artifacts import ArtifactStore
from models.db import DatabaseUnavailable, make_engine, make_session_factory, session_scope
from models.settings import Settings
from models.tables import JobKind
from worker import queue
from worker.forecasting import FORECAST_LANE, run_forecast_job, warm_up
from worker.lease import LeaseKeeper
from worker.process import install_stop_handlers, lower_thread_priority, new_worker_id
from worker.queue import ClaimedJob, LeaseLostError
from worker.retry import RetryPolicy, is_permanent
from worker.training import JobContext, run_training_job

log = logging.getLogger(__name__)

HANDLERS: dict[JobKind, Callable[[JobContext], dict[str, Any]]] = {
    JobKind.TRAIN: run_training_job,
    JobKind.FORECAST: run_forecast_job,
}


class Worker:
    """Claims queued jobs and runs them, one at a time per slot: ``worker_concurrency`` slots
    take any job, ``worker_forecast_slots`` more (the forecast lane) only forecast jobs."""

    def __init__(
        self,
        settings: Settings,
        worker_id: str | None = None,
        sessions: sessionmaker[Session] | None = None,
    ) -> None:
        """Connect to the configured database and artifact store."""
        self.settings = settings
        self.worker_id = worker_id or new_worker_id()
        self.device = str(resolve_device(settings.device))  # the core's rule, resolved once
        self._sessions = sessions or make_session_factory(make_engine(settings.database_url))
        self.store = ArtifactStore(settings.artifact_dir)
        self.policy = RetryPolicy.from_settings(settings)
        self.busy_threads: list[threading.Thread] = []

    def run(self, stop: threading.Event) -> None:
        """Claim and run jobs until ``stop`` is set (then finish or release the current ones)."""
        log.info(
            "worker started",
            extra={
                "worker_id": self.worker_id,
                "device": self.device,
                "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            },
        )
        slots = [
            threading.Thread(target=self._loop, args=(stop,), name=f"slot-{i}", daemon=True)
            for i in range(self.settings.worker_concurrency)
        ] + [
            threading.Thread(target=self._lane, args=(stop,), name=f"lane-{i}", daemon=True)
            for i in range(self.settings.worker_forecast_slots)
        ]
        for slot in slots:
            slot.start()
        for slot in slots:
            slot.join()
        log.info("worker stopped", extra={"worker_id": self.worker_id})

    def run_once(
        self, stop: threading.Event | None = None, kinds: Collection[JobKind] | None = None
    ) -> bool:
        """Claim and run at most one job (of ``kinds``; any when None); False when none was
        runnable."""
        job = self._claim(kinds)
        if job is not None:
            self._run_claimed(job, stop or threading.Event())
        return job is not None

    def _loop(
        self,
        stop: threading.Event,
        kinds: Collection[JobKind] | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        poll = self.settings.worker_poll_seconds if poll_seconds is None else poll_seconds
        while not stop.is_set():
            try:
                ran = self.run_once(stop, kinds)
            except DatabaseUnavailable as exc:
                log.warning("database unavailable", extra={"error": str(exc)})
                ran = False
            if not ran:
                stop.wait(poll)

    def _lane(self, stop: threading.Event) -> None:
        """A forecast-lane slot: warm torch up, then claim only forecast jobs, polling often."""
        warm_up(self.device)
        self._loop(stop, FORECAST_LANE, self.settings.forecast_poll_seconds)

    def _claim(self, kinds: Collection[JobKind] | None = None) -> ClaimedJob | None:
        now = datetime.now(UTC)
        if kinds is None:  # the general slots sweep; the lane polls too often to sweep each time
            with session_scope(self._sessions) as session:
                recovered = queue.requeue_expired(session, now, self.policy)
            if recovered:
                log.warning("recovered jobs with expired leases", extra={"job_ids": recovered})
        with session_scope(self._sessions) as session:
            job = queue.claim(session, self.worker_id, now, self.settings.lease_seconds, kinds)
        if job is not None:
            log.info("job claimed", extra=self._extra(job, attempt=job.attempt))
        return job

    def _run_claimed(self, job: ClaimedJob, stop: threading.Event) -> None:
        lease = LeaseKeeper(self._sessions, job, self.settings.lease_seconds)
        lease.start()
        runner = threading.Thread(
            target=self._execute, args=(lease,), name=f"job-{job.id}", daemon=True
        )
        self.busy_threads.append(runner)
        runner.start()
        try:
            self._supervise(runner, lease, stop)
        finally:
            lease.stop()
            if not runner.is_alive():
                self.busy_threads.remove(runner)

    def _supervise(
        self, runner: threading.Thread, lease: LeaseKeeper, stop: threading.Event
    ) -> None:
        """Wait for the job; once ``stop`` is set, allow the grace period, then release it."""
        deadline: float | None = None
        while runner.is_alive():
            runner.join(timeout=0.1)
            if stop.is_set() and deadline is None:
                deadline = time.monotonic() + self.settings.shutdown_grace_seconds
                log.info("stopping: finishing the current job", extra=self._extra(lease.job))
            if deadline is not None and runner.is_alive() and time.monotonic() >= deadline:
                lease.abort.set()
                self._release(lease.job)
                runner.join(timeout=1.0)
                return

    def _release(self, job: ClaimedJob) -> None:
        with session_scope(self._sessions) as session:
            released = queue.release(session, job, datetime.now(UTC))
        message = "job released to the queue" if released else "job ended before release"
        log.info(message, extra=self._extra(job))

    def _execute(self, lease: LeaseKeeper) -> None:
        """Run the job's handler and record how it ended (in the job's own thread)."""
        job = lease.job
        ctx = JobContext(lease=lease, sessions=self._sessions, store=self.store, device=self.device)
        if job.kind == JobKind.TRAIN:
            lower_thread_priority(self.settings.worker_train_nice)  # the forecast lane comes first
        try:
            result = HANDLERS[job.kind](ctx)
        except TrainingCancelled:
            self._stopped(lease)
        except LeaseLostError:
            log.warning("lease lost; result dropped", extra=self._extra(job))
        except Exception as exc:  # noqa: BLE001 - any training error is recorded on the job
            self._failed(lease, exc)
        else:
            log.info("job succeeded", extra=self._extra(job, version=result.get("version")))

    def _stopped(self, lease: LeaseKeeper) -> None:
        job = lease.job
        if lease.abort.is_set() or lease.lost:
            log.info("training stopped", extra=self._extra(job, lost=lease.lost))
            return
        with session_scope(self._sessions) as session:
            cancelled = queue.mark_cancelled(session, job, datetime.now(UTC))
        log.info("job cancelled" if cancelled else "lease lost", extra=self._extra(job))

    def _failed(self, lease: LeaseKeeper, exc: Exception) -> None:
        job = lease.job
        error = f"{type(exc).__name__}: {exc}"
        log.error("job attempt failed", exc_info=exc, extra=self._extra(job, error=error))
        if lease.lost or lease.abort.is_set():
            return
        permanent = is_permanent(exc)
        try:
            with session_scope(self._sessions) as session:
                status = queue.fail(
                    session, job, datetime.now(UTC), error, self.policy, permanent=permanent
                )
        except (LeaseLostError, DatabaseUnavailable) as write_error:
            log.warning("failure not recorded", extra=self._extra(job, error=str(write_error)))
            return
        outcome = "requeued" if status == "queued" else "failed"
        log.info(f"job {outcome}", extra=self._extra(job, permanent=permanent))

    def _extra(self, job: ClaimedJob, **fields: Any) -> dict[str, Any]:
        return {
            "job_id": job.id,
            "model": job.model_name,
            "kind": str(job.kind),
            "worker_id": self.worker_id,
            **fields,
        }


def run_worker_process(settings: Settings) -> None:
    """Run a worker in this process until SIGTERM/SIGINT; always exits 0 after a signal."""
    stop = threading.Event()
    install_stop_handlers(stop)
    worker = Worker(settings)
    worker.run(stop)
    if any(thread.is_alive() for thread in worker.busy_threads):
        # A released job's training thread may still be inside an epoch: do not wait for it.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
