"""Next due times of cron schedules, with time zones and DST changes (``now`` injected)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.cron import next_due, next_runs, validate_cron, validate_timezone


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "zone", "after", "expected"),
    [
        # Plain UTC: strictly after, even when `after` is itself a due time.
        ("0 * * * *", "UTC", utc(2024, 1, 1, 10, 0), utc(2024, 1, 1, 11, 0)),
        ("0 * * * *", "UTC", utc(2024, 1, 1, 10, 0, 1), utc(2024, 1, 1, 11, 0)),
        ("*/15 * * * *", "UTC", utc(2024, 1, 1, 10, 7), utc(2024, 1, 1, 10, 15)),
        # A wall-clock time in a zone: 09:00 Berlin is 08:00 UTC in winter, 07:00 in summer.
        ("0 9 * * *", "Europe/Berlin", utc(2024, 1, 15, 12, 0), utc(2024, 1, 16, 8, 0)),
        ("0 9 * * *", "Europe/Berlin", utc(2024, 7, 15, 12, 0), utc(2024, 7, 16, 7, 0)),
        ("0 9 * * *", "America/New_York", utc(2024, 1, 15, 12, 0), utc(2024, 1, 15, 14, 0)),
        # Across the spring-forward night the offset changes: still 09:00 local.
        ("0 9 * * *", "Europe/Berlin", utc(2024, 3, 30, 12, 0), utc(2024, 3, 31, 7, 0)),
        # 02:30 does not exist on 2024-03-31 in Berlin: it runs at the end of the gap (03:00).
        ("30 2 * * *", "Europe/Berlin", utc(2024, 3, 30, 12, 0), utc(2024, 3, 31, 1, 0)),
        # 02:30 happens twice on 2024-10-27 in Berlin: it runs once, at the first one...
        ("30 2 * * *", "Europe/Berlin", utc(2024, 10, 26, 12, 0), utc(2024, 10, 27, 0, 30)),
        # ...and the repeated 02:30 (01:30 UTC) is not run again: next is the following day.
        ("30 2 * * *", "Europe/Berlin", utc(2024, 10, 27, 0, 30, 1), utc(2024, 10, 28, 1, 30)),
        # Seconds field (croniter's sixth): every 2 seconds.
        ("* * * * * */2", "UTC", utc(2024, 1, 1, 0, 0, 1), utc(2024, 1, 1, 0, 0, 2)),
        # Monthly, on the 1st at midnight Tokyo time.
        ("0 0 1 * *", "Asia/Tokyo", utc(2024, 1, 31, 16, 0), utc(2024, 2, 29, 15, 0)),
    ],
)
def test_next_due(cron: str, zone: str, after: datetime, expected: datetime) -> None:
    due = next_due(cron, zone, after)
    assert due == expected
    assert due.tzinfo is not None
    assert due.utcoffset() is not None
    assert due > after


def test_next_due_accepts_any_aware_now() -> None:
    berlin_now = utc(2024, 1, 15, 12, 0).astimezone(datetime.now().astimezone().tzinfo)
    assert next_due("0 9 * * *", "Europe/Berlin", berlin_now) == utc(2024, 1, 16, 8, 0)


def test_next_due_refuses_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_due("0 * * * *", "UTC", datetime(2024, 1, 1))


def test_validate_rejects_bad_cron_and_zone() -> None:
    with pytest.raises(ValueError, match="cron"):
        validate_cron("not a cron")
    with pytest.raises(ValueError, match="time zone"):
        validate_timezone("Mars/Olympus")


def test_validate_accepts() -> None:
    assert validate_cron("0 9 * * 1-5") == "0 9 * * 1-5"
    assert validate_timezone("Europe/Berlin") == "Europe/Berlin"


def test_next_runs_are_consecutive_due_times() -> None:
    runs = next_runs("0 9 * * *", "Europe/Berlin", utc(2024, 1, 15, 12, 0), 3)
    assert runs == [utc(2024, 1, 16, 8, 0), utc(2024, 1, 17, 8, 0), utc(2024, 1, 18, 8, 0)]


def test_next_runs_of_an_unusable_expression_is_empty() -> None:
    assert next_runs("0 9 31 2 *", "UTC", utc(2024, 1, 15, 12, 0), 3) == []
