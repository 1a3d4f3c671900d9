"""Compute slots handed out oldest request first: a semaphore without barging.

``threading.Semaphore`` lets a thread that arrives just as a slot is released take it ahead of
the threads already waiting, and a woken waiter that lost the race waits again at the back. In
an API process with one slot, the members of a finished batch (each needing the slot once more
to build its answer) then competed with newly arrived requests, and some waited through several
rounds: a p99 two to three times the mean at 32 connections. Here every waiter carries the time
its request arrived, and a released slot goes straight to the oldest waiter: a request that
started earlier finishes earlier.
"""

from __future__ import annotations

import heapq
import itertools
import threading


class FairSlots:
    """At most ``count`` holders at once; waiters are served in order of ``since`` (older first)."""

    def __init__(self, count: int) -> None:
        self._lock = threading.Lock()
        self._free = count
        self._waiters: list[tuple[float, int, threading.Lock]] = []  # heap of (since, n, gate)
        self._order = itertools.count()  # ties: first come, first served

    @property
    def waiting(self) -> int:
        """How many threads wait for a slot now."""
        with self._lock:
            return len(self._waiters)

    def acquire(self, since: float) -> None:
        """Take a slot, waiting behind every waiter whose ``since`` is earlier."""
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            gate = threading.Lock()
            gate.acquire()
            heapq.heappush(self._waiters, (since, next(self._order), gate))
        gate.acquire()  # opened by ``release``, which hands its slot to this thread

    def release(self) -> None:
        """Give the slot to the oldest waiter, or back to the pool."""
        with self._lock:
            if self._waiters:
                heapq.heappop(self._waiters)[2].release()
                return
            self._free += 1
