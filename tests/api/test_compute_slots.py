"""api.compute_slots: a released slot goes to the oldest waiting request, never to a newcomer."""

from __future__ import annotations

import threading
import time

from api.compute_slots import FairSlots


def _waiting(slots: FairSlots, since: float, served: list[float]) -> threading.Thread:
    def take() -> None:
        slots.acquire(since)
        served.append(since)
        slots.release()

    thread = threading.Thread(target=take)
    thread.start()
    return thread


def _queued(slots: FairSlots, count: int) -> None:
    deadline = time.monotonic() + 10
    while slots.waiting < count:
        assert time.monotonic() < deadline, "waiters never queued"
        time.sleep(0.001)


def test_waiters_are_served_oldest_request_first() -> None:
    slots = FairSlots(1)
    slots.acquire(0.0)
    served: list[float] = []
    threads = [_waiting(slots, since, served) for since in (5.0, 3.0, 4.0, 1.0, 2.0)]
    _queued(slots, 5)
    slots.release()
    for thread in threads:
        thread.join(10)
    assert served == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_a_newcomer_does_not_take_a_slot_someone_waits_for() -> None:
    slots = FairSlots(1)
    slots.acquire(0.0)
    served: list[float] = []
    waiter = _waiting(slots, 1.0, served)
    _queued(slots, 1)
    slots.release()  # handed to the waiter, not returned to the pool
    newcomer = _waiting(slots, 0.5, served)
    waiter.join(10)
    newcomer.join(10)
    assert served == [1.0, 0.5]


def test_free_slots_are_taken_at_once_up_to_the_count() -> None:
    slots = FairSlots(2)
    slots.acquire(2.0)
    slots.acquire(1.0)
    served: list[float] = []
    waiter = _waiting(slots, 3.0, served)
    _queued(slots, 1)
    assert served == []
    slots.release()
    waiter.join(10)
    assert served == [3.0]
