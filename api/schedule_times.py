"""Due times of cron schedules, for the API's answers (``next_runs``) and ``next_run_at``.

The same arithmetic as the scheduler's (``worker.cron.next_due``, which the API may not import):
due times are wall-clock times in the schedule's zone, returned in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from api.errors import InvalidFieldError

NEXT_RUNS = 3


def check_schedule(cron: str, timezone: str) -> None:
    """422 naming the field when the cron expression or the time zone is not valid."""
    if not croniter.is_valid(cron):
        raise InvalidFieldError("body.cron", f"{cron!r} is not a valid cron expression")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        reason = f"{timezone!r} is not a known IANA time zone"
        raise InvalidFieldError("body.timezone", reason) from exc


def next_runs(cron: str, timezone: str, after: datetime, count: int = NEXT_RUNS) -> list[datetime]:
    """The next ``count`` due times strictly after ``after`` (UTC, timezone-aware)."""
    local_after = after.astimezone(ZoneInfo(timezone))
    try:
        times = croniter(cron, local_after)
        out: list[datetime] = []
        while len(out) < count:
            due: datetime = times.get_next(datetime)
            if due.replace(tzinfo=None) > local_after.replace(tzinfo=None):
                out.append(due.astimezone(UTC))
    except (CroniterError, ValueError, OverflowError):
        return []
    return out
