"""Threading defaults that hold up on shared cores, with no environment variable to set.

OpenMP threads that wait for work by spinning make every training step several times slower
when the cores are shared (other processes, other requests; measured 1.4-6 s instead of
0.11-0.17 s per step at two threads). Importing ``forecaster`` therefore asks for passive
waiting (``OMP_WAIT_POLICY=PASSIVE``) before torch loads OpenMP, unless the caller chose a
policy. OpenMP reads the variable once, when it loads: where torch was imported first under
the spinning default, ``fit`` trains on one intra-op thread instead (no thread waits at all)
and restores the previous count afterwards.

Passive threads are slow to wake, and a small network's training step is hundreds of small
operations, each waking them: the then default network (GRU of 64 units, 512 windows a step) trained
twice as fast on one thread as on two passive ones (M4 Hourly, 3 epochs on 2 cores: 11.0 s
against 23.5 s; two spinning threads 11.6 s). A large one gains from threads (hidden 256, 2,048
windows: 192 s on one thread, 112 s on two). So ``fit`` also trains on one thread when a step's
recurrence is below PARALLEL_WORK multiply-adds (``recurrence_work``). An explicit
``OMP_NUM_THREADS``, or a count set with ``choose_intra_op_threads``, is left alone.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

POLICY = "OMP_WAIT_POLICY"
# A training step's recurrence from which intra-op threads pay (multiply-adds): the default
# network's is ~0.35e9 (one thread 2x faster), hidden 256 with 2,048 windows ~22e9 (two
# threads 1.7x faster); the threshold sits between them.
PARALLEL_WORK = 1e9
_chosen = False  # whether the process chose its intra-op thread count (choose_intra_op_threads)
_lock = threading.Lock()
_holders = 0  # training_threads blocks running now
_restore_to = 1  # the count the last of them restores


def _passive_at_import() -> bool:
    """Set the passive policy if OpenMP is not loaded yet; report whether threads wait
    passively (or whether the caller decided otherwise, which we respect)."""
    if "torch" not in sys.modules:
        os.environ.setdefault(POLICY, "PASSIVE")
    return POLICY in os.environ


PASSIVE_OR_CHOSEN = _passive_at_import()


def recurrence_work(windows: int, steps: int, hidden: int, layers: int, directions: int) -> float:
    """Multiply-adds of a recurrent pass over one training step's ``windows``: per window, step,
    layer and direction, three gates of (input + state) x state, the input about as wide as
    the state."""
    return float(windows * steps * layers * directions * 3 * 2 * hidden * hidden)


def choose_intra_op_threads(count: int) -> None:
    """Set torch's intra-op threads for this process as an explicit choice, which ``fit``
    then keeps (a service's ``FORECASTER_TORCH_THREADS``)."""
    import torch

    global _chosen
    torch.set_num_threads(count)
    _chosen = True


@contextmanager
def training_threads(work: float | None = None) -> Iterator[None]:
    """Within the block, one intra-op thread where more would not pay and nobody chose a
    thread count: OpenMP threads may spin, or a step's recurrence (``work`` multiply-adds,
    see ``recurrence_work``) is below PARALLEL_WORK; otherwise torch's own setting.

    torch's count is process-wide and fits may overlap (a worker's training job beside its
    forecast lane): the first block in takes the count down and the last one out restores it,
    so overlapping blocks cannot leave the process at one thread."""
    import torch

    global _holders, _restore_to
    small = work is not None and work < PARALLEL_WORK
    chosen = _chosen or "OMP_NUM_THREADS" in os.environ
    if chosen or (PASSIVE_OR_CHOSEN and not small):
        yield
        return
    with _lock:
        if _holders == 0:
            _restore_to = torch.get_num_threads()
            torch.set_num_threads(1)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                torch.set_num_threads(_restore_to)
