"""Ingest benchmark: upsert 1,000,000 observations into PostgreSQL and read them back.

1,000 series x 1,000 hourly points go into a fresh database (created and dropped here, on
127.0.0.1:5432 as user postgres unless FORECASTER_BENCH_ADMIN_URL says otherwise), through
``models.datasets.upsert_observations``; then ``read_observations`` returns the long frame;
then the same million rows are upserted again with every tenth value changed (the
``ON CONFLICT DO UPDATE`` path). Prints seconds and rows/s for each step.
With ``--covariates K`` every row carries K covariates (K-1 numeric, one categorical label per
series) stored beside it, read back with ``read_frame``.
Usage: ``.venv/bin/python bench/ingest.py [--series N --points N --covariates K]``.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from migrations.runner import upgrade
from models.dataset_frames import read_frame
from models.datasets import upsert_observations
from models.db import make_engine, make_session_factory, session_scope

ADMIN_URL = os.environ.get(
    "FORECASTER_BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def make_frame(series: int, points: int, covariates: int = 0, seed: int = 0) -> pd.DataFrame:
    """SERIES hourly series of POINTS random-walk values, in long format, with COVARIATES
    columns (numeric ``x0...``, then a categorical ``region``)."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2020-01-01", periods=points, freq="h")
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i:05d}" for i in range(series)], points),
            "ds": np.tile(stamps.to_numpy(), series),
            "y": rng.standard_normal(series * points).cumsum(),
        }
    )
    for k in range(max(covariates - 1, 0)):
        frame[f"x{k}"] = rng.standard_normal(series * points)
    if covariates:
        frame["region"] = np.repeat([f"r{i % 7}" for i in range(series)], points)
    return frame


def _admin(statement: sql.Composed) -> None:
    conninfo = make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(statement)


def run(series: int, points: int, covariates: int = 0) -> None:
    """Create a database, time the upsert and the read, drop the database."""
    name = f"forecaster_bench_{uuid.uuid4().hex[:8]}"
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        upgrade(url)
        frame = make_frame(series, points, covariates)
        columns = [c for c in frame.columns if c not in ("unique_id", "ds", "y")]
        factory = make_session_factory(engine)
        rows = len(frame)
        start = time.perf_counter()
        with session_scope(factory) as session:
            upsert_observations(session, "bench", frame)
        _report("upsert", rows, time.perf_counter() - start)
        start = time.perf_counter()
        with session_scope(factory) as session:
            out = read_frame(session, "bench", columns=columns)
        _report("read", len(out), time.perf_counter() - start)
        assert len(out) == rows
        assert np.array_equal(np.sort(out["y"].to_numpy()), np.sort(frame["y"].to_numpy()))
        frame.loc[frame.index % 10 == 0, "y"] += 1.0
        start = time.perf_counter()
        with session_scope(factory) as session:
            result = upsert_observations(session, "bench", frame)
        _report("update", rows, time.perf_counter() - start)
        assert result.written == rows // 10
    finally:
        engine.dispose()
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _report(step: str, rows: int, seconds: float) -> None:
    print(f"{step:>6}: {rows:,} rows in {seconds:6.2f} s = {rows / seconds:12,.0f} rows/s")


def main() -> None:
    """Parse the sizes and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--covariates", type=int, default=0)
    args = parser.parse_args()
    run(args.series, args.points, args.covariates)


if __name__ == "__main__":
    main()
