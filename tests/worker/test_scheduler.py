"""The scheduler's tick with an injected clock: one job per due time, catch-up, replicas."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.db import session_scope
from models.schedules import create_schedule
from models.settings import Settings
from models.tables import Job, JobStatus, Schedule
from tests.worker.conftest import T0
from worker.scheduler import Scheduler, idempotency_key

SPEC = {"dataset": "d", "horizon": 2, "freq": None, "unique_ids": None, "config": None}


def add_schedule(sessions: sessionmaker[Session], cron: str = "*/10 * * * *", **fields: Any) -> int:
    with session_scope(sessions) as session:
        return create_schedule(session, model_name="m", cron=cron, spec=SPEC, **fields).id


def jobs(sessions: sessionmaker[Session]) -> list[Job]:
    with session_scope(sessions) as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


def schedule(sessions: sessionmaker[Session], schedule_id: int) -> Schedule:
    with session_scope(sessions) as session:
        return session.get_one(Schedule, schedule_id)


def scheduler(db_url: str, sessions: sessionmaker[Session]) -> Scheduler:
    return Scheduler(Settings(database_url=db_url, max_attempts=2), sessions)


def test_a_new_schedule_gets_its_first_due_time_and_no_job(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    sid = add_schedule(sessions)
    assert scheduler(db_url, sessions).tick(T0 + timedelta(minutes=3)) == []
    assert schedule(sessions, sid).next_run_at == T0 + timedelta(minutes=10)
    assert jobs(sessions) == []


def test_one_job_per_due_time(db_url: str, sessions: sessionmaker[Session]) -> None:
    sid = add_schedule(sessions, next_run_at=T0)
    first = scheduler(db_url, sessions)
    assert first.tick(T0 - timedelta(seconds=1)) == []  # not yet due
    created = first.tick(T0 + timedelta(seconds=1))
    assert len(created) == 1
    assert first.tick(T0 + timedelta(seconds=2)) == []  # same due time: nothing more
    assert scheduler(db_url, sessions).tick(T0 + timedelta(seconds=3)) == []  # another replica
    (job,) = jobs(sessions)
    assert (job.id, job.model_name, job.spec, job.status) == (
        created[0],
        "m",
        SPEC,
        JobStatus.QUEUED,
    )
    assert (job.schedule_id, job.max_attempts) == (sid, 2)
    assert job.idempotency_key == idempotency_key(sid, T0)
    row = schedule(sessions, sid)
    assert row.next_run_at == T0 + timedelta(minutes=10)
    assert row.last_run_at == T0 + timedelta(seconds=1)


def test_missed_runs_give_one_catch_up_job_not_a_burst(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    sid = add_schedule(sessions, next_run_at=T0)
    now = T0 + timedelta(hours=5, minutes=3)  # 31 due times missed
    assert len(scheduler(db_url, sessions).tick(now)) == 1
    assert schedule(sessions, sid).next_run_at == T0 + timedelta(hours=5, minutes=10)
    assert scheduler(db_url, sessions).tick(now + timedelta(seconds=1)) == []
    assert len(jobs(sessions)) == 1


def test_disabled_schedules_do_not_fire(db_url: str, sessions: sessionmaker[Session]) -> None:
    add_schedule(sessions, next_run_at=T0, enabled=False)
    assert scheduler(db_url, sessions).tick(T0 + timedelta(hours=1)) == []
    assert jobs(sessions) == []


def tick_together(replicas: list[Scheduler], now: datetime) -> list[list[int]]:
    """Every replica ticks at the same instant, each in its own thread."""
    barrier = threading.Barrier(len(replicas))
    results: list[list[int]] = []

    def tick(replica: Scheduler) -> None:
        barrier.wait()
        results.append(replica.tick(now))

    threads = [threading.Thread(target=tick, args=(replica,)) for replica in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_replicas_enqueue_exactly_once(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    add_schedule(sessions, cron="* * * * *", next_run_at=T0)
    replicas = [scheduler(db_url, sessions) for _ in range(4)]
    for minute in range(3):
        results = tick_together(replicas, T0 + timedelta(minutes=minute, seconds=1))
        assert len(results) == len(replicas)
        assert sum(len(r) for r in results) == 1
    keys = [job.idempotency_key for job in jobs(sessions)]
    assert len(keys) == 3
    assert len(set(keys)) == 3
