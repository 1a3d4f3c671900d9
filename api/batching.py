"""Micro-batching: concurrent forecasts with the same model version share one forward pass.

A forward pass of a hundred series costs little more than one of a few, so requests that arrive
together for the same artifact (keyed by its sha256, never by name or alias) are coalesced: the
first one to arrive leads a batch, waits up to ``wait_s`` for others (or until ``max_series``
series have joined), runs one ``forecast_panel`` over all of them and hands every caller its own
rows. While a model's forward pass runs, the next batch for it keeps filling, so batches grow
with the load instead of queueing one forward pass behind another. The wait is skipped when the
model's previous batch had a single request (no concurrency seen lately), so sequential clients
pay nothing for it; a model's first batch waits. Then, while other requests of the process are
still being prepared (already inside, they may join), the leader waits for them up to
PREPARING_WAIT_S more.

Python work is gated: ``slot()`` admits at most ``slots`` threads of one API process at a time to
a forecast's CPU work (parsing, preparing, the forward pass, building the answer). A forward pass
is hundreds of small torch operations, each releasing the GIL and taking it back; with other
threads busy in Python each take-back waits for the interpreter's switch interval, which made a
loaded process's forward pass about 10 times slower than alone. Waiting for a batch gives the slot
up, so requests keep joining while a pass runs. Slots go to the oldest request first
(``api.compute_slots``): a batch's members finish before newer requests start.

Answers do not change: every request is validated and prepared on its own before it joins, and
the core's forward is per-series independent bit for bit (``forecaster.predict.ROW_MULTIPLE``). A
batch whose forward pass fails is retried request by request, so one bad request fails alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from api.compute_slots import FairSlots
from api.forecasting import require_horizon
from forecaster import Forecaster
from forecaster.data import Panel, concat_panels
from forecaster.errors import ForecasterError
from forecaster.predict import forecast_frame

# Under load, requests queue for a compute slot and join a batch one by one as they are
# prepared: the leader waits for those (they are already in the process), at most this long.
PREPARING_WAIT_S = 0.05
POLL_S = 0.0005


@dataclass(frozen=True)
class BatchTiming:
    """Where one answer's time went: waiting for its batch, and the batch's forward pass."""

    queue_ms: float
    compute_ms: float
    requests: int  # requests in the batch
    series: int  # series in the batch

    def headers(self) -> dict[str, str]:
        """Response headers: ``Server-Timing`` plus the same figures as plain headers."""
        return {
            "Server-Timing": (
                f"queue_ms;dur={self.queue_ms:.2f}, compute_ms;dur={self.compute_ms:.2f}"
            ),
            "X-Queue-Ms": f"{self.queue_ms:.2f}",
            "X-Compute-Ms": f"{self.compute_ms:.2f}",
            "X-Batch-Requests": str(self.requests),
            "X-Batch-Series": str(self.series),
        }


@dataclass
class _Batch:
    """Panels waiting for one forward pass of ``model``; filled under the batcher's lock."""

    model: Forecaster
    panels: list[Panel] = field(default_factory=list)
    series: int = 0
    full: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    forecasts: np.ndarray | None = None  # [series, horizon, levels] when the forward succeeded
    started: float = 0.0
    compute_s: float = 0.0

    def add(self, panel: Panel) -> int:
        """Append ``panel``; return the row where its series start."""
        offset = self.series
        self.panels.append(panel)
        self.series += len(panel.ids)
        return offset


class MicroBatcher:
    """Coalesces concurrent ``forecast`` calls per artifact digest (thread-safe).

    ``wait_s`` bounds how long the first request of a batch waits for company; ``max_series``
    closes a batch early (a request that alone reaches it runs at once, without waiting).
    ``slots`` threads at most hold a ``slot()`` at once. ``on_batch(requests, series)`` is
    called once per forward pass (metrics).
    """

    def __init__(
        self,
        wait_s: float,
        max_series: int,
        on_batch: Callable[[int, int], None] | None = None,
        slots: int = 1,
    ) -> None:
        self.wait_s = wait_s
        self.max_series = max_series
        self._on_batch = on_batch
        self._slots = FairSlots(slots)
        self._holder = threading.local()  # whether this thread holds a slot, is preparing, since
        self._preparing = 0  # requests in slot() that have not reached forecast() yet
        self._lock = threading.Lock()
        self._open: dict[str, _Batch] = {}
        self._running: dict[str, threading.Lock] = {}
        self._last_requests: dict[str, int] = {}  # requests in each model's previous batch

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the process's compute slots for the block (``forecast`` lends it out
        while it waits for its batch). Slots go to the oldest request first."""
        self._set_preparing(True)
        self._holder.since = time.perf_counter()
        try:
            with self._slot_held():
                self._holder.held = True
                try:
                    yield
                finally:
                    self._holder.held = False
        finally:
            self._holder.since = None
            self._set_preparing(False)

    def background_slot(self) -> AbstractContextManager[None]:
        """A slot for background work of the process (the forecast log's encoding), queued
        behind the requests that arrived before it."""
        return self._slot_held()

    @contextmanager
    def _slot_held(self) -> Iterator[None]:
        """A slot for the block, queued by this thread's request arrival (now, if none)."""
        self._slots.acquire(getattr(self._holder, "since", None) or time.perf_counter())
        try:
            yield
        finally:
            self._slots.release()

    def _set_preparing(self, preparing: bool) -> None:
        """Count this thread among the requests being prepared (they may join a batch soon)."""
        if getattr(self._holder, "preparing", False) == preparing:
            return
        self._holder.preparing = preparing
        with self._lock:
            self._preparing += 1 if preparing else -1

    @contextmanager
    def _lent(self) -> Iterator[None]:
        """Give this thread's slot (if it holds one) up for the block; take one back after."""
        held = getattr(self._holder, "held", False)
        if held:
            self._slots.release()
        try:
            yield
        finally:
            if held:
                self._slots.acquire(self._holder.since)

    def forecast(self, key: str, model: Forecaster, panel: Panel) -> tuple[np.ndarray, BatchTiming]:
        """Quantile forecasts [series, trained horizon, levels] of ``panel``'s series."""
        arrived = time.perf_counter()
        self._set_preparing(False)
        batch, offset, leads = self._join(key, model, panel)
        with self._lent():
            if leads:
                self._lead(key, batch)
            else:
                batch.done.wait()
        rows = slice(offset, offset + len(panel.ids))
        if batch.forecasts is None:  # the shared pass failed: this request alone, its own error
            return self._alone(model, panel, arrived)
        timing = BatchTiming(
            queue_ms=(batch.started - arrived) * 1e3,
            compute_ms=batch.compute_s * 1e3,
            requests=len(batch.panels),
            series=batch.series,
        )
        return batch.forecasts[rows], timing

    def _join(self, key: str, model: Forecaster, panel: Panel) -> tuple[_Batch, int, bool]:
        """Add ``panel`` to the open batch of ``key`` (or open one); whether this call leads it."""
        with self._lock:
            batch = self._open.get(key)
            if batch is not None and batch.series + len(panel.ids) > self.max_series:
                self._close(key, batch)  # no room left: it runs now, this request starts anew
                batch = None
            leads = batch is None
            if batch is None:
                batch = self._open[key] = _Batch(model)
            offset = batch.add(panel)
            if batch.series >= self.max_series:
                self._close(key, batch)
            return batch, offset, leads

    def _close(self, key: str, batch: _Batch) -> None:
        """Stop ``batch`` accepting requests and wake its leader (called under the lock)."""
        if self._open.get(key) is batch:
            del self._open[key]
        batch.full.set()

    def _lead(self, key: str, batch: _Batch) -> None:
        """Wait for company, then for the model's previous pass; run this batch; wake the rest."""
        try:
            self._await_company(key, batch)
            # The batch keeps filling while an earlier pass runs and while it waits for a slot.
            with self._running_lock(key), self._slot_held():
                with self._lock:
                    self._close(key, batch)
                batch.started = time.perf_counter()
                batch.forecasts = _forward(batch.model, batch.panels)
                batch.compute_s = time.perf_counter() - batch.started
                self._last_requests[key] = len(batch.panels)
        except (ForecasterError, RuntimeError, ValueError):  # each member retries alone
            batch.forecasts = None
        finally:
            batch.done.set()
        if self._on_batch is not None and batch.forecasts is not None:
            self._on_batch(len(batch.panels), batch.series)

    def _await_company(self, key: str, batch: _Batch) -> None:
        """Wait ``wait_s`` for the batch to fill (not when the model's previous batch had one
        request), then, while other requests of this process are still being prepared (they
        may join), up to PREPARING_WAIT_S more; a full batch ends the wait."""
        cap = time.perf_counter() + self.wait_s + PREPARING_WAIT_S
        if self._last_requests.get(key, 2) > 1:
            batch.full.wait(self.wait_s)
        while self._preparing > 0 and not batch.full.is_set() and time.perf_counter() < cap:
            batch.full.wait(POLL_S)

    def _running_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._running.setdefault(key, threading.Lock())

    def _alone(
        self, model: Forecaster, panel: Panel, arrived: float
    ) -> tuple[np.ndarray, BatchTiming]:
        started = time.perf_counter()
        forecasts = model.forecast_panel(panel)
        compute = time.perf_counter() - started
        timing = BatchTiming((started - arrived) * 1e3, compute * 1e3, 1, len(panel.ids))
        return forecasts, timing


def _forward(model: Forecaster, panels: list[Panel]) -> np.ndarray:
    """One forward pass over the series of every panel, in order."""
    if len(panels) == 1:
        return model.forecast_panel(panels[0])
    # Each request's covariates stay with its own series (one artifact: one covariate spec).
    return model.forecast_panel(concat_panels(panels))


def batched_predict(
    batcher: MicroBatcher,
    key: str,
    model: Forecaster,
    history: pd.DataFrame,
    horizon: int,
    trained_horizon: int,
    future: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, BatchTiming]:
    """``Forecaster.predict`` through ``batcher``: the same frame, plus where time went.

    The history (with its covariates, and FUTURE's values over the horizon) is validated on
    its own first (a bad request never joins a batch).
    """
    require_horizon(horizon, min(trained_horizon, model.horizon))
    panel = model.prepare(history, future, horizon)
    forecasts, timing = batcher.forecast(key, model, panel)
    frame = forecast_frame(panel, forecasts, model.levels, model.config.quantiles, horizon)
    return frame, timing
