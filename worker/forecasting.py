"""Forecast jobs (posted series, no model): the sized quick network or the baseline, answered
on the job, and optionally kept as a model version (``save_as``).

Their lane: every worker runs ``worker_forecast_slots`` extra slots that claim only forecast
jobs and poll every ``forecast_poll_seconds``, so a forecast never waits behind a long training
job; training job threads run at a lower CPU priority (``worker_train_nice``) so the two do not
share the cores evenly.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from forecaster import ForecastConfig
from forecaster.data import prepare
from forecaster.quick import QuickAnswer, answer_record, quick_forecast
from forecaster.sizing import sized_fields, with_overrides
from models.db import session_scope
from models.job_specs import ForecastJobSpec
from models.registry import register_version
from models.tables import JobKind
from worker import queue
from worker.training import (
    JobContext,
    ProgressReporter,
    build_config,
    core_covariates,
    future_rows,
    jsonable,
    save_artifact,
    series_frame,
    version_fields,
)

log = logging.getLogger(__name__)

FORECAST_LANE = frozenset({JobKind.FORECAST})


def run_forecast_job(ctx: JobContext) -> dict[str, Any]:
    """Answer a "forecast" job: fit the sized network, check it, maybe register it (save_as)."""
    spec = ForecastJobSpec.model_validate(ctx.job.spec)
    df = series_frame(spec.series)
    covariates = core_covariates(spec.covariates)
    future = None
    if covariates is not None and covariates.future:
        freq = prepare(df[["unique_id", "ds", "y"]], spec.freq).freq
        future = future_rows(spec.series, freq)
    answer = quick_forecast(
        df,
        spec.horizon,
        forecast_config(spec, df, ctx.device),
        spec.freq,
        ProgressReporter(ctx.lease),
        ctx.lease.should_stop,
        covariates,
        future,
    )
    result = {"model": None, **jsonable(answer_record(answer))}  # the answer's shape
    with session_scope(ctx.sessions) as session:
        queue.lock(session, ctx.job)  # the fence: nothing below commits unless we hold the lease
        version_id = _keep(ctx, answer, spec, result, session)
        queue.complete(
            session, ctx.job, datetime.now(UTC), result=result, result_version_id=version_id
        )
    log.info("forecast answered", extra={"job_id": ctx.job.id, "method": answer.method})
    return result


def forecast_config(spec: ForecastJobSpec, df: pd.DataFrame, device: str) -> ForecastConfig:
    """The sized config for this panel with the request's ``config`` on top, on our device."""
    n_series = int(df["unique_id"].nunique())
    fields = with_overrides(sized_fields(n_series, len(df), spec.horizon), spec.config)
    quantiles = tuple(spec.quantiles) if spec.quantiles else None
    return build_config(fields, device, quantiles=quantiles)


def _keep(
    ctx: JobContext,
    answer: QuickAnswer,
    spec: ForecastJobSpec,
    result: dict[str, Any],
    session: Any,
) -> int | None:
    """Register the request's network as a version of ``save_as`` (None when not asked)."""
    name = spec.save_as
    if not name or answer.model is None:
        return None
    stored = save_artifact(answer.model, ctx.store)
    fields = version_fields(answer.model, stored, ctx.job)
    version = register_version(session, name, **fields)
    result["model"] = {"name": name, "version": version.version}
    log.info("forecast network kept", extra={"job_id": ctx.job.id, "model": name})
    return int(version.id)


def warm_up(device: str) -> None:
    """Run one tiny fit so the first forecast request does not pay torch's first-use cost."""
    steps = np.arange(96)
    df = pd.DataFrame(
        {
            "unique_id": "warm-up",
            "ds": pd.date_range("2024-01-01", periods=96, freq="h"),
            "y": 10 + np.sin(2 * np.pi * steps / 24),
        }
    )
    config = ForecastConfig(hidden_size=4, epochs=1, ensemble=1, device=device)
    quick_forecast(df, 6, config)
