"""The retry policy as a table: attempts used -> retry?, delay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.settings import Settings
from worker.retry import RetryPolicy

POLICY = RetryPolicy(base_seconds=10.0, factor=2.0, max_seconds=60.0)


@pytest.mark.parametrize(
    ("attempts", "max_attempts", "retry", "delay"),
    [
        (1, 3, True, 10.0),
        (2, 3, True, 20.0),
        (3, 3, False, 40.0),
        (4, 5, True, 60.0),  # capped: 80 -> 60
        (10, 20, True, 60.0),
        (0, 1, True, 10.0),  # never claimed yet
        (1, 1, False, 10.0),
    ],
)
def test_retry_table(attempts: int, max_attempts: int, retry: bool, delay: float) -> None:
    assert POLICY.should_retry(attempts, max_attempts) is retry
    assert POLICY.delay_seconds(attempts) == delay


def test_next_run_after_adds_the_delay() -> None:
    now = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert POLICY.next_run_after(now, 2) == now + timedelta(seconds=20)


def test_zero_backoff_retries_at_once() -> None:
    policy = RetryPolicy(base_seconds=0.0)
    assert policy.delay_seconds(5) == 0.0


def test_policy_comes_from_settings() -> None:
    settings = Settings(retry_backoff_seconds=0.5, retry_backoff_max_seconds=2.0)
    policy = RetryPolicy.from_settings(settings)
    assert (policy.base_seconds, policy.max_seconds) == (0.5, 2.0)
    assert policy.delay_seconds(4) == 2.0
