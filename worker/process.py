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
