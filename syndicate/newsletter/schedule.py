"""When to send what: the due week, missed weeks, back-off. Pure functions, no I/O.

Like an update "decider", these take the clock and the config and return a
decision, so the cron logic is tested without SMTP or a database.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..config import Config
from ..errors import NewsletterError
from .weeks import due_at, due_week, parse_week, shift_week

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
