"""The retry policy: how many attempts a job gets and how long it waits between them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from forecaster.errors import HorizonError, InvalidDataError, NotFittedError
from models.errors import InvalidInput, NotFound
from models.settings import Settings

# Failures that another attempt cannot fix: the data or the spec is wrong (or gone). They fail
# the job at once, with the typed error in words; everything else (a lost database, a full
# disk, CUDA out of memory, a killed worker) is transient and retried with backoff.
PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    InvalidDataError,
    HorizonError,
    NotFittedError,
    ValidationError,
    InvalidInput,
    NotFound,
)


def is_permanent(error: BaseException) -> bool:
    """Whether ``error`` would recur on every attempt (so retrying only wastes time)."""
    return isinstance(error, PERMANENT_ERRORS)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base_seconds * factor ** (attempt - 1)``, capped at ``max_seconds``.

    ``attempts`` below always counts the attempts already started (the claim increments it), so
    after the first failure ``attempts == 1``.
    """

    base_seconds: float = 10.0
    factor: float = 2.0
    max_seconds: float = 600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """The policy the configured backoff settings describe."""
        return cls(
            base_seconds=settings.retry_backoff_seconds,
            max_seconds=settings.retry_backoff_max_seconds,
        )

    def should_retry(self, attempts: int, max_attempts: int) -> bool:
        """Whether a job that has used ``attempts`` of ``max_attempts`` may run again."""
        return attempts < max_attempts

    def delay_seconds(self, attempts: int) -> float:
        """The wait before the next attempt, after ``attempts`` failed ones."""
        exponent = max(attempts - 1, 0)
        return float(min(self.max_seconds, self.base_seconds * self.factor**exponent))

    def next_run_after(self, now: datetime, attempts: int) -> datetime:
        """When a job that failed its ``attempts``-th attempt at ``now`` may be claimed again."""
        return now + timedelta(seconds=self.delay_seconds(attempts))
