"""Cron arithmetic for schedules: pure functions of the expression, the zone and ``now``.

Both the scheduler (which fires schedules) and the API (which shows their next run times) use
these, so a schedule's due times are computed one way only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from models.errors import InvalidInput


def validate_cron(cron: str) -> str:
    """CRON when croniter accepts it (five fields, or six with seconds); InvalidInput otherwise."""
    if not isinstance(cron, str) or not croniter.is_valid(cron):
        raise InvalidInput(f"{cron!r} is not a valid cron expression")
    return cron


def validate_timezone(timezone: str) -> str:
    """TIMEZONE when it is an IANA zone name such as ``Europe/Paris``; InvalidInput otherwise."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InvalidInput(f"{timezone!r} is not a known IANA time zone") from exc
    return timezone


def validate_schedule(cron: str, timezone: str, now: datetime) -> datetime:
    """The first due time after ``now``; InvalidInput for an expression that never fires
    (``0 0 30 2 *``) or a zone that does not exist, so no such schedule is ever stored."""
    validate_cron(cron)
    validate_timezone(timezone)
    runs = next_runs(cron, timezone, now, count=1)
    if not runs:
        raise InvalidInput(f"{cron!r} has no due time in the coming years; it would never run")
    return runs[0]


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


def next_runs(cron: str, timezone: str, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` due times strictly after ``after`` (UTC); [] if they cannot be found."""
    runs: list[datetime] = []
    try:
        while len(runs) < count:
            runs.append(next_due(cron, timezone, runs[-1] if runs else after))
    except (CroniterError, ValueError, KeyError, OverflowError):
        return []
    return runs
