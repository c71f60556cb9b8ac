"""Numbers, dates and validators from HTTP response headers, parsed with bounds.

Response headers are written by servers we do not control. Every parser
here takes arbitrary text and returns a bounded value or ``None``; none of
them raises. A ``Retry-After`` of twenty nines once overflowed ``timedelta``
and stopped every fetch run for good, which is why nothing from a header
reaches arithmetic before passing through this module.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# A delay longer than this (about 31 years) is not a delay, whatever the header says;
# callers clamp further to their own ceiling (``[sources] max_wait_days``).
MAX_DELAY = timedelta(days=365 * 31)
# HTTP dates outside these years are typos or attacks; either way unusable.
EARLIEST_YEAR = 1970
LATEST_YEAR = 9000
# Bodies are capped at a few MB; a declared length beyond this is simply "too big".
MAX_CONTENT_LENGTH = 10**18
# Validators are echoed back in If-None-Match / If-Modified-Since. Anything long or
# outside printable ASCII would fail to encode on the next request (for ever).
MAX_ETAG = 512
MAX_HTTP_DATE = 64

_DECIMAL = re.compile(r"[0-9]{1,30}(?:\.[0-9]{1,30})?")
_DIGITS = re.compile(r"[0-9]+")
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?([0-9]+)\"?", re.IGNORECASE)
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")


def delay_seconds(value: str | None, ceiling: timedelta = MAX_DELAY) -> timedelta | None:
    """A non-negative count of seconds (``delta-seconds``), at most ``ceiling``.

    Digits only (ASCII), optionally with a fraction, which some servers send;
    a sign, an exponent or anything else is not a delay.
    """
    if value is None:
        return None
    text = value.strip()
    if not _DECIMAL.fullmatch(text):
        return None
    whole = text.split(".", 1)[0].lstrip("0")
    # Compare digit counts before converting: int() of a 5,000-digit string raises.
    if len(whole) > 12:
        return ceiling
    return min(timedelta(seconds=float(text)), ceiling)


def http_date(value: str | None) -> datetime | None:
    """An HTTP date (RFC 9110 and the obsolete forms email.utils knows) as aware UTC, or None.

    Dates before 1970 or after the year 9000 are refused: no server clock
    is that far off, and converting them to UTC can overflow.
    """
    if not value or len(value) > MAX_HTTP_DATE:
        return None
    try:
        moment = parsedate_to_datetime(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return None
    return moment


def retry_after(
    value: str | None, now: datetime, server_date: str | None = None, ceiling: timedelta = MAX_DELAY
) -> timedelta | None:
    """``Retry-After`` as a delay in ``[0, ceiling]``: seconds, or an HTTP date.

    A date is measured from the response's own ``Date`` when that parses, so
    a server whose clock is off still gets the wait it asked for.
    """
    if value is None:
        return None
    seconds = delay_seconds(value, ceiling)
    if seconds is not None:
        return seconds
    moment = http_date(value)
    if moment is None:
        return None
    reference = http_date(server_date) or now.astimezone(UTC)
    return min(max(moment - reference, timedelta(0)), ceiling)


def max_age(cache_control: str | None, ceiling: timedelta = MAX_DELAY) -> timedelta | None:
    """The ``max-age`` directive of a ``Cache-Control`` header, at most ``ceiling``."""
    if not cache_control:
        return None
    found = _MAX_AGE.search(cache_control)
    return None if found is None else delay_seconds(found.group(1), ceiling)


def content_length(value: str | None) -> int | None:
    """A declared ``Content-Length``: ASCII digits only, at most :data:`MAX_CONTENT_LENGTH`."""
    if value is None:
        return None
    text = value.strip()
    if not _DIGITS.fullmatch(text):
        return None
    digits = text.lstrip("0")
    if len(digits) > 18:
        return MAX_CONTENT_LENGTH
    return min(int(digits or "0"), MAX_CONTENT_LENGTH)


def etag_validator(value: str | None) -> str:
    """An ``ETag`` worth storing and sending back, or ``""``.

    Printable ASCII only and at most :data:`MAX_ETAG` characters: a longer or
    non-ASCII one cannot be sent in ``If-None-Match`` and would make every
    later request of the source fail.
    """
    if not value:
        return ""
    text = value.strip()
    if len(text) > MAX_ETAG or not _PRINTABLE_ASCII.fullmatch(text):
        return ""
    return text


def last_modified_validator(value: str | None) -> str:
    """A ``Last-Modified`` worth sending back in ``If-Modified-Since``, or ``""``.

    Kept as the server wrote it (servers often compare the text), but only if
    it is a real HTTP date in printable ASCII.
    """
    if not value:
        return ""
    text = value.strip()
    if not _PRINTABLE_ASCII.fullmatch(text) or http_date(text) is None:
        return ""
    return text
