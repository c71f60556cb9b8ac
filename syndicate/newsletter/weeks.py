"""ISO weeks in the site's timezone, and which week's issue is due when.

An issue covers one ISO week (Monday 00:00 to the next Monday 00:00, site
time). It becomes due at the first configured send weekday and time after its
week has ended: with ``send_weekday = "friday"`` and ``send_time = "07:00"``,
the issue of week 47 is due on the Friday of week 48 at 07:00. At any moment
the *due* week is the latest week whose due time has passed, so a run after
missed ones catches up with the latest issue, never a stale older one.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

from ..errors import InvalidArgumentError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(label: str) -> tuple[int, int]:
    """``"2026-W47"`` -> ``(2026, 47)``; raises InvalidArgumentError (a ValueError) on anything else."""
    match = _LABEL.match(label.strip())
    if not match:
        raise InvalidArgumentError(f"bad week {label!r}: use the ISO form YYYY-Www, e.g. 2026-W47")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InvalidArgumentError(f"bad week {label!r}: {year} has no ISO week {week}") from None
    return year, week


def week_label(moment: datetime | date) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def week_window(label: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """The [start, end) of an ISO week in ``tz``: Monday 00:00 to the next Monday 00:00."""
    year, week = parse_week(label)
    monday = date.fromisocalendar(year, week, 1)
    start = datetime.combine(monday, time(0, 0), tz)
    return start, datetime.combine(monday + timedelta(days=7), time(0, 0), tz)


def shift_week(label: str, weeks: int) -> str:
    year, week = parse_week(label)
    return week_label(date.fromisocalendar(year, week, 1) + timedelta(weeks=weeks))


def due_at(label: str, tz: tzinfo, send_weekday: str, send_time: str) -> datetime:
    """When the issue of week ``label`` becomes due (always after the week ends)."""
    _, end = week_window(label, tz)
    hours, minutes = (int(part) for part in send_time.split(":"))
    offset = WEEKDAYS.index(send_weekday.lower())  # end is a Monday
    return datetime.combine(end.date() + timedelta(days=offset), time(hours, minutes), tz)


def latest_complete_week(now: datetime, tz: tzinfo) -> str:
    """The last ISO week that has fully ended at ``now`` (site time)."""
    return week_label(now.astimezone(tz) - timedelta(days=7))


def due_week(now: datetime, tz: tzinfo, send_weekday: str, send_time: str) -> str:
    """The latest week whose issue is due at ``now``."""
    label = latest_complete_week(now, tz)
    while due_at(label, tz, send_weekday, send_time) > now:
        label = shift_week(label, -1)
    return label
