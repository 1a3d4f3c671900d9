"""What every long-running worker-side process shares: stop signals and a stable identity."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from types import FrameType

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_stop_handlers(stop: threading.Event) -> None:
    """Make SIGTERM and SIGINT set ``stop`` (call from the main thread)."""

    def _handle(signum: int, _frame: FrameType | None) -> None:
        log.info("stop requested", extra={"signal": signal.Signals(signum).name})
        stop.set()

    for signum in STOP_SIGNALS:
        signal.signal(signum, _handle)


def new_worker_id(prefix: str = "worker") -> str:
    """An identity unique across machines and restarts: prefix, host, pid and a random part."""
    return f"{prefix}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's nice value by ``nice`` (Linux: threads are scheduled alone).

    Threads it starts afterwards (torch's OpenMP team for this thread) inherit the value, so a
    training job yields the cores to forecast jobs running beside it. A no-op where the platform
    has no per-thread priority or refuses.
    """
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except OSError as exc:
        log.info("thread priority unchanged", extra={"error": str(exc)})
