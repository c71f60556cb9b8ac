"""Turning the many ways dates are written into timezone-aware datetimes."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo

from .errors import InvalidArgumentError


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


def iso_week_label(moment: datetime) -> str:
    """The ISO week of ``moment`` as ``YYYY-Www``, e.g. ``2026-W47``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"
