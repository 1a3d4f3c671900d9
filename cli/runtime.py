"""Process-wide runtime choices made once at start-up, before any model runs."""

from __future__ import annotations

import os

from models.settings import Settings


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
    """Apply ``torch_threads`` to this process."""
    threads = torch_threads(settings, api_only=api_only)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
