"""Logging stored-model forecasts: provenance on the hot path, the write in a background thread.

``ForecastLog.record`` is what the forecast route calls after predicting: it hashes the input,
gives the forecast its id and queues it (a reference to the frames, no copy, no encoding);
``record_posted`` does the same for plainly valid posted series, whose forecast never becomes a
frame (``api.posted_panel``): the writer encodes their arrays into the same row. One
writer thread per API process drains the queue: it gathers forecasts for up to FLUSH_SECONDS,
encodes each payload, fixes each series' MASE scale, and writes the batch in one transaction
(binary COPY on PostgreSQL). A crash loses what is queued or being written: at most about the
last second of forecasts. The same thread sweeps rows older than the retention.

Encoding is Python work (~1 ms a forecast from frames, ~0.3 ms from arrays): run freely, a
batch of them held the interpreter lock against the process's requests in bursts, every
FLUSH_SECONDS, and the requests caught in a burst were the slowest of all (p95/p99). With a
``gate`` (the API passes one of the micro-batcher's compute slots,
``MicroBatcher.background_slot``) each forecast is encoded holding a slot, taking turns with
the requests.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.posted_panel import PostedPanel
from api.provenance import Provenance, input_sha256, new_provenance
from api.schemas.forecast import ForecastRequest
from forecaster import Forecaster
from forecaster.predict import future_stamps, output_levels
from models import datasets
from models import forecast_log as store
from models.db import session_scope
from models.errors import StoreError
from models.forecast_payload import ForecastPayload, Runs, encode, encode_runs, id_runs
from models.settings import Settings

logger = logging.getLogger(__name__)

TARGET = ("unique_id", "ds", "y")  # what the MASE scale and live scoring read
MAX_BATCH = 256
FLUSH_SECONDS = 0.5  # the longest a forecast waits in the queue before its batch is written
MAX_QUEUED = 10_000
SWEEP_EVERY_S = 3600.0
WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class StoredModel:
    """The version that answered: its name, number, artifact digest and season (for MASE)."""

    name: str
    version: int
    artifact_sha256: str
    season: int


@dataclass(frozen=True)
class _Frames:
    """A forecast as frames (a forecast by dataset, or posted series that took the full path)."""

    history: pd.DataFrame  # posted history, or what was read (the writer reads the rest)
    given: pd.DataFrame  # what the network was given
    prediction: pd.DataFrame
    future: pd.DataFrame | None = None  # future covariate values the network was given


@dataclass(frozen=True)
class _Arrays:
    """A forecast of plainly valid posted series (``api.posted_panel``): no frame was built,
    and none is: the writer encodes the arrays."""

    posted: PostedPanel
    forecasts: np.ndarray  # [series, trained horizon, levels]
    levels: tuple[float, ...]  # the network's levels (the quantiles and the median)
    quantiles: tuple[float, ...]  # the answer's quantile columns


@dataclass(frozen=True)
class _Entry:
    provenance: Provenance
    body: ForecastRequest
    season: int
    forecast: _Frames | _Arrays


class ForecastLog:
    """Provenance for every stored-model answer; a background writer when logging is on."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        gate: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self._factory = factory
        self._gate = gate  # held while one forecast is encoded (see the module docstring)
        self.enabled = settings.forecast_log
        self.retention = timedelta(days=settings.forecast_log_retention_days)
        self._queue: queue.Queue[_Entry | threading.Event | None] = queue.Queue(MAX_QUEUED)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def record(
        self,
        body: ForecastRequest,
        model: StoredModel,
        history: pd.DataFrame,
        given: pd.DataFrame,
        prediction: pd.DataFrame,
        future: pd.DataFrame | None = None,
    ) -> dict[str, Any]:
        """The answer's provenance fields (the input hash covers covariates and FUTURE's
        values); the forecast is queued for the log when it is on (its target alone)."""
        digest = input_sha256(given, body.horizon, body.quantiles, future)
        if len(history.columns) > len(TARGET):  # the writer's history holds the target alone
            history = history[list(TARGET)]
        return self._queued(body, model, digest, _Frames(history, given, prediction, future))

    def record_posted(
        self,
        body: ForecastRequest,
        model: StoredModel,
        posted: PostedPanel,
        forecasts: np.ndarray,
        network: Forecaster,
    ) -> dict[str, Any]:
        """``record`` of plainly valid posted series and their FORECASTS [series, trained
        horizon, levels] by NETWORK, from the arrays: the same fields and the same log row."""
        digest = posted.input_sha256(body.horizon, body.quantiles)
        forecast = _Arrays(posted, forecasts, network.levels, network.config.quantiles)
        return self._queued(body, model, digest, forecast)

    def _queued(
        self, body: ForecastRequest, model: StoredModel, digest: str, forecast: _Frames | _Arrays
    ) -> dict[str, Any]:
        provenance = new_provenance(model.name, model.version, model.artifact_sha256, digest)
        if self.enabled:
            self._start()
            try:
                self._queue.put_nowait(_Entry(provenance, body, model.season, forecast))
            except queue.Full:
                logger.warning("forecast log queue full; forecast not logged")
        return provenance.answer_fields()

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until everything queued before this call is written (or TIMEOUT passes)."""
        if not self.enabled or self._thread is None:
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def start(self) -> None:
        """Start the writer thread (also started by the first logged forecast)."""
        if self.enabled:
            self._start()

    def stop(self) -> None:
        """Write what is queued, then stop the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def sweep(self, now: datetime | None = None) -> int:
        """Delete log rows older than the retention; how many forecasts went."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        with session_scope(self._factory) as session:
            return store.delete_before(session, cutoff)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="forecast-log-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        running = True
        while running:
            batch, markers, running = self._take()
            if batch:
                self._write(batch)
            for marker in markers:
                marker.set()
            self._maybe_sweep()

    def _take(self) -> tuple[list[_Entry], list[threading.Event], bool]:
        """Block for the first item, then gather for up to FLUSH_SECONDS (or MAX_BATCH entries,
        or until a flush or stop request): one transaction serves many quick forecasts."""
        batch: list[_Entry] = []
        markers: list[threading.Event] = []
        try:
            item = self._queue.get(timeout=SWEEP_EVERY_S / 60)
        except queue.Empty:
            return batch, markers, True
        deadline = time.monotonic() + FLUSH_SECONDS
        while True:
            if item is None:
                return batch, markers, False
            if isinstance(item, threading.Event):
                markers.append(item)
                return batch, markers, True
            batch.append(item)
            wait = deadline - time.monotonic()
            if len(batch) >= MAX_BATCH or wait <= 0:
                return batch, markers, True
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                return batch, markers, True

    def _write(self, batch: list[_Entry]) -> None:
        rows = [row for row in map(self._encoded, batch) if row]
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with session_scope(self._factory) as session:
                    store.write_batch(session, rows)
                return
            except (SQLAlchemyError, StoreError) as exc:
                logger.warning(
                    "forecast log write failed",
                    extra={"error": str(exc), "attempt": attempt, "forecasts": len(rows)},
                )
                time.sleep(0.2 * attempt)
        logger.error("forecast log batch dropped", extra={"forecasts": len(rows)})

    def _encoded(self, entry: _Entry) -> store.LogRow | None:
        full = self._with_full_history(entry)  # a read, outside the gate
        with self._gate():
            return _encoded(full)

    def _with_full_history(self, entry: _Entry) -> _Entry:
        """A forecast by dataset read only the points its network reads (the hot path); the
        MASE scale wants every point before the origin, read here, off the hot path."""
        body, frames = entry.body, entry.forecast
        if body.series is not None or body.dataset is None or not isinstance(frames, _Frames):
            return entry
        ids = [str(i) for i in frames.given["unique_id"].unique()]
        try:
            with self._factory() as session:
                full = datasets.read_observations(session, body.dataset, unique_ids=ids)
        except (SQLAlchemyError, StoreError) as exc:  # the scale then uses the points read
            logger.warning("forecast log: history not read", extra={"error": str(exc)})
            return entry
        origin = frames.given.groupby("unique_id")["ds"].max()
        before = full[full["ds"] <= full["unique_id"].map(origin)].reset_index(drop=True)
        return replace(entry, forecast=replace(frames, history=before))

    def _maybe_sweep(self) -> None:
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + SWEEP_EVERY_S
        try:
            self.sweep()
        except (SQLAlchemyError, StoreError) as exc:
            logger.warning("forecast log retention sweep failed", extra={"error": str(exc)})


def _encoded(entry: _Entry) -> store.LogRow | None:
    """The row of ENTRY; None (logged) if it cannot be encoded, so one bad forecast never stops
    the writer thread and the forecasts queued behind it."""
    try:
        return log_row(entry)
    except Exception:  # the thread must survive; the error is logged in full
        logger.exception("forecast not logged", extra={"forecast_id": entry.provenance.forecast_id})
        return None


def log_row(entry: _Entry) -> store.LogRow:
    """The row (and targets) of one queued forecast: payload encoded, MASE scales fixed."""
    body, provenance = entry.body, entry.provenance
    if isinstance(entry.forecast, _Frames):
        payload, prediction = _frames_payload(entry.forecast, entry.season)
    else:
        payload, prediction = _arrays_payload(entry.forecast, entry.season, body.horizon)
    return store.LogRow(
        forecast_id=provenance.forecast_id,
        model_name=provenance.model,
        version=provenance.version,
        artifact_sha256=provenance.artifact_sha256,
        input_sha256=provenance.input_sha256,
        horizon=body.horizon,
        request=_request_json(body),
        dataset=body.dataset,
        n_series=len(prediction.names),
        payload=payload,
        created_at=provenance.created_at,
        targets=_targets(entry, prediction),
    )


def _frames_payload(frames: _Frames, season: int) -> tuple[bytes, Runs]:
    """The encoded payload and the prediction's runs."""
    scale = mase_scales(frames.history, frames.prediction, season)
    payload = encode(ForecastPayload(frames.given, frames.prediction, scale, frames.future))
    return payload, Runs.of(frames.prediction)


def _arrays_payload(arrays: _Arrays, season: int, horizon: int) -> tuple[bytes, Runs]:
    """``_frames_payload`` of the frames ``forecast_frame`` would build, from the arrays."""
    posted = arrays.posted
    count = len(posted.panel.ids)
    stamps = future_stamps(posted.panel, horizon).view(np.int64)
    prediction = Runs(posted.history.names, np.full(count, horizon, dtype=np.int64), stamps)
    columns = output_levels(arrays.levels, arrays.quantiles)
    picked = list(columns.values())
    values = arrays.forecasts[:, :horizon, picked].reshape(count * horizon, len(picked))
    scale = run_scales(posted.history.lengths, posted.history_y, season)
    payload = encode_runs(posted.given, posted.given_y, prediction, list(columns), values, scale)
    return payload, prediction


def _request_json(body: ForecastRequest) -> dict[str, Any]:
    return {
        "horizon": body.horizon,
        "quantiles": body.quantiles,
        "dataset": body.dataset,
        "unique_ids": body.unique_ids,
        "source": "series" if body.series is not None else "dataset",
    }


def _targets(entry: _Entry, prediction: Runs) -> list[store.TargetRow]:
    """One target per forecast series when the forecast names a dataset to score against."""
    body = entry.body
    if body.dataset is None:
        return []
    mapping = scoring_names(body)
    ends = np.cumsum(prediction.lengths)
    stamps = prediction.ds.view("datetime64[ns]")
    firsts, lasts = stamps[ends - prediction.lengths], stamps[ends - 1]
    return [
        store.TargetRow(
            forecast_id=entry.provenance.forecast_id,
            row=row,
            dataset=body.dataset,
            unique_id=mapping.get(str(name), str(name)),
            first_ts=pd.Timestamp(firsts[row]).tz_localize(UTC).to_pydatetime(),
            last_ts=pd.Timestamp(lasts[row]).tz_localize(UTC).to_pydatetime(),
            remaining=int(prediction.lengths[row]),
        )
        for row, name in enumerate(prediction.names)
    ]


def scoring_names(body: ForecastRequest) -> dict[str, str]:
    """Posted series -> the dataset series their actuals arrive in (``unique_ids``, in order)."""
    if body.series is None or body.unique_ids is None:
        return {}
    return {s.unique_id: uid for s, uid in zip(body.series, body.unique_ids, strict=True)}


def mase_scales(history: pd.DataFrame, prediction: pd.DataFrame, season: int) -> np.ndarray:
    """Per forecast series (in prediction order): the mean absolute seasonal difference of ALL
    its history before the origin, as M4 scales MASE (``forecaster.metrics.naive_scale``: lag
    ``season``, lag 1 when the series is too short; NaN when there is none). Vectorised."""
    names, lengths, y = _series_runs(history)
    scales = run_scales(lengths, y, season).tolist()
    lookup = dict(zip((str(n) for n in names), scales, strict=True))
    wanted, _ = id_runs(prediction["unique_id"].to_numpy())
    return np.array([lookup.get(str(n), np.nan) for n in wanted], dtype=np.float64)


def run_scales(lengths: np.ndarray, y: np.ndarray, season: int) -> np.ndarray:
    """``mase_scales`` of series given as runs of LENGTHS of their values Y (in time order)."""
    run = np.repeat(np.arange(len(lengths)), lengths)
    by_lag = {lag: _mean_abs_diff(y, run, len(lengths), lag) for lag in {season, 1}}
    return np.where(lengths > season, by_lag[season], by_lag[1])


def _series_runs(history: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(series names, lengths, values) with each series contiguous and in time order."""
    ids = history["unique_id"].to_numpy()
    ds = history["ds"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    y = history["y"].to_numpy(dtype=np.float64)
    names, lengths = id_runs(ids)
    boundary = np.zeros(len(ids), dtype=bool)
    boundary[np.cumsum(lengths)[:-1]] = True
    ordered = bool(np.all((np.diff(ds) > 0) | boundary[1:])) if len(ds) > 1 else True
    if ordered and len(set(names.tolist())) == len(names):
        return names, lengths, y
    codes, _ = pd.factorize(ids)
    order = np.lexsort((ds, codes))
    names, lengths = id_runs(ids[order])
    return names, lengths, y[order]


def _mean_abs_diff(y: np.ndarray, run: np.ndarray, runs: int, lag: int) -> np.ndarray:
    """Per run: mean |y[t] - y[t - lag]| over pairs inside the run (NaN without a pair)."""
    same = run[lag:] == run[:-lag]
    diffs = np.abs(y[lag:] - y[:-lag])[same]
    owner = run[lag:][same]
    sums = np.bincount(owner, weights=diffs, minlength=runs)
    counts = np.bincount(owner, minlength=runs)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
