"""Running one claimed "train" job: it registers a model version (forecasts: worker.forecasting).

Training reads the dataset, fits the core's Forecaster (writing progress to the job row and
stopping at an epoch boundary when told to), saves the artifact into the content-addressed
store, decides on promotion, and then registers the version, moves the alias and marks the job
succeeded in ONE transaction that first locks the job row under the fence: a worker that lost
its lease commits nothing.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from forecaster import EpochProgress, ForecastConfig, Forecaster
from forecaster.calendar import parse_freq
from forecaster.covariates import CovariateSpec
from models.artifacts import ArtifactStore, StoredArtifact
from models.dataset_frames import read_frame
from models.db import session_scope
from models.digests import data_sha256
from models.errors import NotFound
from models.job_specs import CovariateColumns, PromoteSpec, TrainJobSpec
from models.registry import list_aliases, register_version, resolve_reference, set_alias
from worker import queue
from worker.lease import LeaseKeeper
from worker.promotion import evaluate, recheck

log = logging.getLogger(__name__)
# Epochs kept in a running job's progress for its loss curves (a few KiB of JSON at most).
HISTORY_EPOCHS = 100


@dataclass(frozen=True)
class JobContext:
    """Everything a running job needs: its claim and lease, the database, the artifacts."""

    lease: LeaseKeeper
    sessions: sessionmaker[Session]
    store: ArtifactStore
    device: str

    @property
    def job(self) -> queue.ClaimedJob:
        """The claimed job."""
        return self.lease.job


def jsonable(value: Any) -> Any:
    """VALUE as plain JSON types (numpy scalars, timestamps and the like become str/float)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def build_config(raw: dict[str, Any] | None, device: str, **overrides: Any) -> ForecastConfig:
    """The spec's ForecastConfig, on this worker's device (the worker knows its hardware)."""
    fields = {**(raw or {}), **{k: v for k, v in overrides.items() if v is not None}}
    fields["device"] = device
    return ForecastConfig(**fields)


class ProgressReporter:
    """The ``progress`` callback: writes epoch, loss, score, elapsed and ETA to the job row."""

    def __init__(self, lease: LeaseKeeper) -> None:
        """Report for the job ``lease`` holds, timing from now."""
        self.lease = lease
        self.started = time.monotonic()
        self.history: list[list[Any]] = []

    def __call__(self, progress: EpochProgress) -> None:
        """Record one finished epoch (this heartbeats the lease too)."""
        snapshot = self.snapshot(progress, time.monotonic() - self.started)
        snapshot["history"] = self.remember(progress)
        self.lease.beat(snapshot)

    def remember(self, progress: EpochProgress) -> list[list[Any]]:
        """The last ``HISTORY_EPOCHS`` epochs as ``[member, epoch, train_loss, val_score]``:
        the loss curves a client draws, even when it starts watching mid-job."""
        point = [progress.member, progress.epoch, progress.train_loss, progress.val_score]
        self.history = [*self.history, point][-HISTORY_EPOCHS:]
        return self.history

    @staticmethod
    def snapshot(progress: EpochProgress, elapsed_s: float) -> dict[str, Any]:
        """The JSON written to ``Job.progress`` for one epoch report."""
        members = max(progress.members, 1)
        done = progress.member * progress.epochs + progress.epoch
        total = members * progress.epochs
        remaining = elapsed_s / done * (total - done) if done > 0 else None
        return {
            "epoch": progress.epoch,
            "epochs": progress.epochs,
            "member": progress.member,
            "members": members,
            "train_loss": progress.train_loss,
            "val_score": progress.val_score,
            "elapsed_s": round(elapsed_s, 3),
            "eta_s": None if remaining is None else round(max(remaining, 0.0), 3),
        }


def run_training_job(ctx: JobContext) -> dict[str, Any]:
    """Train, store and register the version of a "train" job; return the job's result."""
    job, spec = ctx.job, TrainJobSpec.model_validate(ctx.job.spec)
    name = job.model_name or ""
    covariates = core_covariates(spec.covariates)
    with session_scope(ctx.sessions) as session:
        df = read_frame(
            session,
            spec.dataset,
            spec.unique_ids,
            covariates.columns if covariates else (),
            static=covariates.static if covariates else (),
        )
    config = build_config(spec.config, ctx.device)
    model = _fit(ctx, config, df, spec.horizon, spec.freq, covariates)
    stored = save_artifact(model, ctx.store)
    promote = spec.promote
    record = (
        None if promote is None else evaluate(promote, model, _champion(ctx, name, promote), df)
    )
    with session_scope(ctx.sessions) as session:
        queue.lock(session, job)  # the fence: nothing below commits unless we hold the lease
        fields = version_fields(model, stored, job, spec.description, spec.tags)
        fields["data_summary"] = {**fields["data_summary"], "sha256": data_sha256(df)}
        version = register_version(session, name, **fields)
        if record is not None:
            current = list_aliases(session, name).get(record["alias"])
            record = {
                **recheck(record, current),
                "challenger": {**(record["challenger"] or {}), "version": version.version},
            }
            version.promotion = record
            if record["promoted"]:
                set_alias(session, name, record["alias"], version.version)
        result = {"model": name, "version": version.version}
        queue.complete(
            session,
            job,
            datetime.now(UTC),
            result=result,
            result_version_id=version.id,
            promotion=record,
        )
    log.info(
        "version registered", extra={"job_id": job.id, "model": name, "version": version.version}
    )
    return result


def series_frame(series: list[dict[str, Any]]) -> pd.DataFrame:
    """The long frame (unique_id, ds, y, and any covariates: history values per ds, statics
    spread over the rows) of a forecast request's inline series."""
    frames = []
    for item in series:
        frame = pd.DataFrame(
            {
                "unique_id": str(item["unique_id"]),
                "ds": pd.to_datetime(item["ds"], utc=True).tz_localize(None),
                "y": pd.to_numeric(pd.Series(item["y"], dtype="float64")),
            }
        )
        for name, values in (item.get("covariates") or {}).items():
            frame[name] = pd.Series(values, dtype=object)
        for name, value in (item.get("static") or {}).items():
            frame[name] = value
        frames.append(frame)
    return _numbers_where_numeric(pd.concat(frames, ignore_index=True))


def future_rows(series: list[dict[str, Any]], freq: str) -> pd.DataFrame:
    """The future frame (unique_id, ds, future-known columns) of inline series: each one's
    ``future`` values at the steps after its last ds."""
    offset = parse_freq(freq)
    frames = []
    for item in series:
        given = item.get("future") or {}
        steps = max((len(v) for v in given.values()), default=0)
        last = pd.to_datetime(item["ds"], utc=True).tz_localize(None).max()
        frame = pd.DataFrame(
            {
                "unique_id": str(item["unique_id"]),
                "ds": pd.date_range(last, periods=steps + 1, freq=offset)[1:],
            }
        )
        for name, values in given.items():
            frame[name] = pd.Series([*values, *[None] * (steps - len(values))], dtype=object)
        frames.append(frame)
    return _numbers_where_numeric(pd.concat(frames, ignore_index=True))


def _numbers_where_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Covariate columns of JSON numbers as float64 (None: NaN); columns with text stay."""
    for name in frame.columns:
        if name in ("unique_id", "ds", "y") or frame[name].dtype != object:
            continue
        present = frame[name].dropna()
        if present.map(lambda v: isinstance(v, bool | int | float)).all():
            frame[name] = pd.to_numeric(frame[name].map(_number), errors="coerce")
    return frame


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def core_covariates(columns: CovariateColumns | None) -> CovariateSpec | None:
    """The core's spec of a job's covariate columns (None: the model reads y alone)."""
    if columns is None:
        return None
    spec = CovariateSpec(**columns.model_dump())
    return spec if spec else None


def _fit(
    ctx: JobContext,
    config: ForecastConfig,
    df: pd.DataFrame,
    horizon: int,
    freq: str | None,
    covariates: CovariateSpec | None,
) -> Forecaster:
    log.info(
        "training",
        extra={
            "job_id": ctx.job.id,
            "model": ctx.job.model_name,
            "rows": len(df),
            "device": ctx.device,
        },
    )
    return Forecaster(config).fit(
        df,
        horizon=horizon,
        freq=freq,
        progress=ProgressReporter(ctx.lease),
        should_stop=ctx.lease.should_stop,
        covariates=covariates,
    )


def save_artifact(model: Forecaster, store: ArtifactStore) -> StoredArtifact:
    """Write ``model`` into the content-addressed store."""
    with tempfile.TemporaryDirectory(prefix="forecaster-job-") as tmp:
        directory = Path(tmp) / "model"
        directory.mkdir()
        model.save(directory)
        return store.put(directory)


def _champion(
    ctx: JobContext, name: str, promote: PromoteSpec
) -> tuple[int, Callable[[], Forecaster]] | None:
    """The alias's current version and a loader for it (None when the alias is not set)."""
    try:
        with session_scope(ctx.sessions) as session:
            current = resolve_reference(session, f"{name}@{promote.alias}")
            number, sha256 = current.version, current.artifact_sha256
    except NotFound:
        return None
    return number, lambda: Forecaster.load(ctx.store.open(sha256), device=ctx.device)


def version_fields(
    model: Forecaster,
    stored: StoredArtifact,
    job: queue.ClaimedJob,
    description: str | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The ModelVersion columns of a model trained by ``job``."""
    return {
        "horizon": model.horizon,
        "freq": model.freq,
        "config": model.config.model_dump(mode="json"),
        "metrics": jsonable(model.metrics),
        "backtest": jsonable(model.backtest_report),
        "data_summary": jsonable(model.data_summary),
        "artifact_uri": stored.uri,
        "artifact_sha256": stored.sha256,
        "artifact_size": stored.size,
        "device": model.device,
        "train_seconds": model.train_seconds,
        "library_versions": jsonable(model.library_versions),
        "job_id": job.id,
        "description": description,
        "tags": tags or {},
        "covariates": model.covariates.model_dump(mode="json") if model.covariates else None,
    }
