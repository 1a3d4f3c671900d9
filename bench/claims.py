"""Queue benchmark: job claims per second with 8 worker processes on PostgreSQL.

A fresh database (created and dropped here, on 127.0.0.1:5432 as user postgres unless
FORECASTER_BENCH_ADMIN_URL says otherwise) gets N no-op jobs; 8 processes then claim and
complete them through ``worker.queue`` (the same ``FOR UPDATE SKIP LOCKED`` claim and fenced
completion the workers use, each in its own transaction) until the queue is empty. Prints the
claims per second and checks that no job was claimed twice: every process reports the ids it
claimed, and the database must show every job succeeded after exactly one attempt.
Usage: ``.venv/bin/python bench/claims.py [--jobs N --workers N]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file's name shadows the standard library's ``queue`` (which torch and multiprocessing
# import) when it runs as a script: take its folder off the import path first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import multiprocessing as mp  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from migrations.runner import upgrade  # noqa: E402
from models.db import make_engine, make_session_factory, session_scope  # noqa: E402
from models.tables import Job, JobKind, JobStatus  # noqa: E402
from worker import queue  # noqa: E402

ADMIN_URL = os.environ.get(
    "FORECASTER_BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
LEASE_SECONDS = 60.0


def _admin(statement: sql.Composed) -> None:
    conninfo = make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(statement)


def _enqueue(url: str, jobs: int) -> None:
    engine = make_engine(url)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "kind": JobKind.TRAIN,
            "model_name": "bench",
            "spec": {},
            "status": JobStatus.QUEUED,
            "run_after": now,
            "max_attempts": 1,
        }
        for _ in range(jobs)
    ]
    with session_scope(make_session_factory(engine)) as session:
        session.execute(insert(Job), rows)
    engine.dispose()


def _claim_all(url: str, worker_id: str, start: Any, results: Any) -> None:
    """Claim and complete jobs until none is left; report the ids claimed."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    claimed: list[int] = []
    start.wait()
    while True:
        now = datetime.now(UTC)
        with session_scope(sessions) as session:
            job = queue.claim(session, worker_id, now, LEASE_SECONDS)
        if job is None:
            break
        with session_scope(sessions) as session:
            queue.complete(session, job, datetime.now(UTC), result={})
        claimed.append(job.id)
    engine.dispose()
    results.put(claimed)


def _check(url: str, claims: list[int], jobs: int) -> None:
    twice = [job_id for job_id, n in Counter(claims).items() if n > 1]
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        done = session.scalar(
            select(func.count()).where(Job.status == JobStatus.SUCCEEDED, Job.attempts == 1)
        )
    engine.dispose()
    print(f"claims reported: {len(claims)}; claimed twice: {len(twice)}; succeeded once: {done}")
    if twice or len(claims) != jobs or done != jobs:
        raise SystemExit("a job was claimed twice or not at all")


def run(jobs: int, workers: int) -> None:
    """Create a database, time the claims of ``workers`` processes, check, drop it."""
    name = f"forecaster_bench_{uuid.uuid4().hex[:8]}"
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        _enqueue(url, jobs)
        context = mp.get_context("spawn")
        start, results = context.Event(), context.Queue()
        procs = [
            context.Process(target=_claim_all, args=(url, f"bench-{i}", start, results))
            for i in range(workers)
        ]
        for proc in procs:
            proc.start()
        time.sleep(3.0)  # let every process import and connect before the clock starts
        began = time.perf_counter()
        start.set()
        claims = [job_id for _ in procs for job_id in results.get()]
        elapsed = time.perf_counter() - began
        for proc in procs:
            proc.join()
        print(f"{jobs} no-op jobs, {workers} worker processes: {elapsed:.2f} s")
        print(f"claims/s: {jobs / elapsed:.0f}")
        _check(url, claims, jobs)
    finally:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    run(args.jobs, args.workers)


if __name__ == "__main__":
    main()
