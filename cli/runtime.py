"""Process-wide runtime choices made once at start-up, before any model runs."""

from __future__ import annotations

import gc
import os

from forecaster.threads import choose_intra_op_threads
from models.settings import Settings

# A large forecast request keeps hundreds of thousands of parsed objects alive while its answer
# allocates as many again; with Python's default thresholds (700, 10, 10) the collector then
# re-scans the live request again and again: 50 ms of a 1,000-series answer's 60 ms of records.
# The service makes few reference cycles, so collecting less often costs little memory.
API_GC_THRESHOLDS = (50_000, 20, 100)


def torch_threads(settings: Settings, *, api_only: bool) -> int | None:
    """How many intra-op threads torch should use here; None leaves torch's own choice.

    An API process that trains nothing answers many small requests: one thread each is faster
    (no wake-up of idle threads per tiny operation) and leaves cores for concurrent requests.
    An explicit ``FORECASTER_TORCH_THREADS`` or ``OMP_NUM_THREADS`` always wins.
    """
    if settings.torch_threads is not None:
        return settings.torch_threads
    if api_only and "OMP_NUM_THREADS" not in os.environ:
        return 1
    return None


def configure_torch_threads(settings: Settings, *, api_only: bool) -> None:
    """Apply ``torch_threads`` to this process (a choice that training keeps)."""
    threads = torch_threads(settings, api_only=api_only)
    if threads is not None:
        choose_intra_op_threads(threads)


def configure_api_gc() -> None:
    """Collect cyclic garbage less often in an API process (see ``API_GC_THRESHOLDS``)."""
    gc.set_threshold(*API_GC_THRESHOLDS)
