"""Time for the whole toolkit: dates as written, ISO weeks in the site's timezone, and the send schedule.

Dates: front-matter and command-line dates in their many spellings become
timezone-aware datetimes (naive ones are read in the site's timezone).

Weeks: an issue covers one ISO week (Monday 00:00 to the next Monday 00:00, site
time). It becomes due at the first configured send weekday and time after its
week has ended: with ``send_weekday = "friday"`` and ``send_time = "07:00"``,
the issue of week 47 is due on the Friday of week 48 at 07:00. At any moment
the *due* week is the latest week whose due time has passed, so a run after
missed ones catches up with the latest issue, never a stale older one.

Schedule: when to send what (the due week, missed weeks, back-off). Pure
functions of the clock and the config, no I/O, like an update "decider", so
the cron logic is tested without SMTP or a database.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from ._errors import InvalidArgumentError, NewsletterError

if TYPE_CHECKING:
    from ._config import Config


def aware(value: datetime, tz: tzinfo) -> datetime:
    """``value`` with ``tz`` attached when it is naive; unchanged otherwise."""
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def parse_date(value: object, tz: tzinfo) -> datetime:
    """Parse a front-matter date (a YAML date, datetime or ISO-8601 string).

    Naive values are taken to be in ``tz``, the site's timezone. Raises
    ``ValueError`` with a readable message when the value is not a date.
    """
    if isinstance(value, datetime):
        return aware(value, tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tz)
    if isinstance(value, str):
        text = value.strip()
        candidate = text.replace(" ", "T", 1) if len(text) > 10 and text[10] == " " else text
        if candidate.endswith("Z"):
            candidate = candidate[:-1] + "+00:00"
        try:
            return aware(datetime.fromisoformat(candidate), tz)
        except ValueError:
            pass
        for layout in ("%Y-%m-%d %H:%M", "%d %B %Y", "%B %d, %Y", "%b %d, %Y"):
            try:
                return aware(datetime.strptime(text, layout), tz)
            except ValueError:
                continue
        raise InvalidArgumentError(f"unparsable date {value!r} (use ISO 8601, e.g. 2026-10-14 09:30)")
    raise InvalidArgumentError(f"unparsable date {value!r} (use ISO 8601, e.g. 2026-10-14 09:30)")


# --- ISO weeks ---------------------------------------------------------------------------------

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
    """The ISO week of ``moment`` as ``YYYY-Www``, e.g. ``2026-W47``."""
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


# --- the send schedule -------------------------------------------------------------------------

MAX_BACKOFF = timedelta(hours=24)


def backoff(attempts: int, retry_minutes: float) -> timedelta:
    """The wait before the next try after ``attempts`` deferrals: doubling, capped at a day."""
    return min(timedelta(minutes=retry_minutes * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def missed_weeks(last_sent: str | None, due: str) -> list[str]:
    """Weeks after ``last_sent`` and before ``due`` that were never sent."""
    if last_sent is None or last_sent >= due:
        return []
    weeks: list[str] = []
    week = shift_week(last_sent, 1)
    while week < due and len(weeks) < 520:
        weeks.append(week)
        week = shift_week(week, 1)
    return weeks


def resolve_week(config: Config, week: str | None, now: datetime) -> tuple[str, bool]:
    """The week a run is about, and whether it was asked for explicitly (``--week``)."""
    if week is not None:
        try:
            year, number = parse_week(week)
        except ValueError as exc:
            raise NewsletterError(str(exc)) from None
        return f"{year}-W{number:02d}", True  # one spelling, as the ledger's key
    nl = config.newsletter
    return due_week(now, config.site.tz, nl.send_weekday, nl.send_time), False


def next_due(config: Config, now: datetime) -> datetime:
    """When the next issue (after the one due now) becomes due."""
    nl = config.newsletter
    current = due_week(now, config.site.tz, nl.send_weekday, nl.send_time)
    return due_at(shift_week(current, 1), config.site.tz, nl.send_weekday, nl.send_time)
