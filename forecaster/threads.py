"""Threading defaults that hold up on shared cores, with no environment variable to set.

OpenMP threads that wait for work by spinning make every training step several times slower
when the cores are shared (other processes, other requests; measured 1.4-6 s instead of
0.11-0.17 s per step at two threads). Importing ``forecaster`` therefore asks for passive
waiting (``OMP_WAIT_POLICY=PASSIVE``) before torch loads OpenMP, unless the caller chose a
policy. OpenMP reads the variable once, when it loads: where torch was imported first under
the spinning default, ``fit`` trains on one intra-op thread instead (no thread waits at all)
and restores the previous count afterwards. An explicit ``OMP_NUM_THREADS`` is left alone.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

POLICY = "OMP_WAIT_POLICY"


def _passive_at_import() -> bool:
    """Set the passive policy if OpenMP is not loaded yet; report whether threads wait
    passively (or whether the caller decided otherwise, which we respect)."""
    if "torch" not in sys.modules:
        os.environ.setdefault(POLICY, "PASSIVE")
    return POLICY in os.environ


PASSIVE_OR_CHOSEN = _passive_at_import()


@contextmanager
def training_threads() -> Iterator[None]:
    """Within the block, one intra-op thread if OpenMP threads may spin and nobody chose a
    thread count; otherwise torch's own setting."""
    import torch

    if PASSIVE_OR_CHOSEN or "OMP_NUM_THREADS" in os.environ or torch.get_num_threads() == 1:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
