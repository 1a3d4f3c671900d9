"""Cron arithmetic for schedules: pure functions of the expression, the zone and ``now``."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter


def next_due(cron: str, timezone: str, after: datetime) -> datetime:
    """The first due time of ``cron`` in ``timezone`` strictly after ``after``, in UTC.

    Due times are wall-clock times in the schedule's zone. A wall time the DST change skips
    runs at the first instant after the gap; a wall time that occurs twice when clocks go back
    runs once (the repeated hour is not run again).
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    local_after = after.astimezone(ZoneInfo(timezone))
    times = croniter(cron, local_after)
    due: datetime = times.get_next(datetime)
    while due.replace(tzinfo=None) <= local_after.replace(tzinfo=None):
        due = times.get_next(datetime)
    return due.astimezone(UTC)


def validate_schedule(cron: str, timezone: str) -> None:
    """Raise ValueError when the cron expression or the time zone is unknown."""
    if not croniter.is_valid(cron):
        raise ValueError(f"invalid cron expression {cron!r}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {timezone!r}") from exc
