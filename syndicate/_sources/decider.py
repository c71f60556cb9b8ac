"""The update decider: which sources are due, and their health after a fetch.

Pure functions over data, no I/O, so every rule (back-off, Retry-After,
410 Gone, moved feeds) is tested without a server or a database, in the
manner of lemon24/reader's update decider.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .._model import Source, SourceHealth

# A Retry-After further away than this is treated as this (a typo or a hostile server);
# the default of ``[sources] max_wait_days``, the ceiling on every wait the decider sets.
MAX_RETRY_AFTER = timedelta(days=7)
# A health row's last error is one line of at most this many characters: it comes
# from servers and exception texts, and is shown in a table.
MAX_ERROR = 500


class OutcomeKind(StrEnum):
    """What one fetch of one source came to."""

    FETCHED = "fetched"  # 200 and a usable feed
    NOT_MODIFIED = "not-modified"  # 304: nothing to parse
    GONE = "gone"  # 410: the source is disabled
    THROTTLED = "throttled"  # 429/503: the server asked us to come back later
    FAILED = "failed"  # anything else: counts towards back-off


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """The facts of one fetch that health depends on."""

    kind: OutcomeKind
    status: int | None = None
    error: str = ""
    etag: str = ""
    last_modified: str = ""
    retry_after: timedelta | None = None
    moved_to: str = ""  # the end of a chain of permanent (301/308) redirects, if any
    entries: int = 0

    @property
    def ok(self) -> bool:
        return self.kind in (OutcomeKind.FETCHED, OutcomeKind.NOT_MODIFIED)


@dataclass(frozen=True, slots=True)
class Policy:
    """The knobs of the decider, from ``[sources]``."""

    backoff: timedelta = timedelta(minutes=30)
    backoff_max: timedelta = timedelta(hours=24)
    moved_after_runs: int = 3
    max_wait: timedelta = MAX_RETRY_AFTER


def is_due(health: SourceHealth | None, now: datetime) -> bool:
    """True when a source may be fetched now: not disabled, back-off elapsed."""
    if health is None:
        return True
    if health.disabled:
        return False
    return health.next_attempt is None or health.next_attempt <= now


def due_sources(
    sources: Iterable[Source], healths: dict[str, SourceHealth], now: datetime, *, force: bool = False
) -> list[Source]:
    """The sources to fetch in this run. ``force`` ignores back-off, never a 410."""
    due = []
    for source in sources:
        health = healths.get(source.url)
        if (health is not None and health.disabled) or not (force or is_due(health, now)):
            continue
        due.append(source)
    return due


def _ceiling(policy: Policy) -> float:
    return max(min(policy.backoff_max, policy.max_wait).total_seconds(), 0.0)


def backoff_delay(failures: int, policy: Policy) -> timedelta:
    """Wait after ``failures`` consecutive failures: base, 2x, 4x ... up to the cap.

    Computed in float seconds and capped before it becomes a timedelta, so
    no count of failures and no configured base can overflow.
    """
    if failures <= 0:
        return timedelta(0)
    factor = 2.0 ** min(failures - 1, 60)
    return timedelta(seconds=min(policy.backoff.total_seconds() * factor, _ceiling(policy)))


def one_line_error(error: str) -> str:
    """``error`` on one line of printable characters, at most :data:`MAX_ERROR` long, encodable as UTF-8."""
    # Control characters from a server's reason phrase would garble a terminal table.
    text = "".join(c for c in " ".join(error.split()) if c.isprintable())
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def next_health(health: SourceHealth, outcome: FetchOutcome, now: datetime, policy: Policy) -> SourceHealth:
    """The health of a source after ``outcome``; ``health`` is left unchanged."""
    base = dataclasses.replace(health, last_attempt=now, last_status=outcome.status)
    if outcome.ok:
        moved_runs = base.moved_runs + 1 if outcome.moved_to and outcome.moved_to == base.moved_to else 1
        return dataclasses.replace(
            base,
            etag=outcome.etag if outcome.kind is OutcomeKind.FETCHED else (outcome.etag or base.etag),
            last_modified=(
                outcome.last_modified
                if outcome.kind is OutcomeKind.FETCHED
                else (outcome.last_modified or base.last_modified)
            ),
            last_success=now,
            last_error="",
            failures=0,
            next_attempt=None,
            moved_to=outcome.moved_to,
            moved_runs=moved_runs if outcome.moved_to else 0,
            entries=outcome.entries if outcome.kind is OutcomeKind.FETCHED else base.entries,
        )
    failures = base.failures + 1
    if outcome.kind is OutcomeKind.GONE:
        return dataclasses.replace(
            base,
            last_error=one_line_error(outcome.error or "410 Gone"),
            failures=failures,
            next_attempt=None,
            disabled=True,
        )
    delay = backoff_delay(failures, policy)
    if outcome.kind is OutcomeKind.THROTTLED and outcome.retry_after is not None:
        delay = min(max(outcome.retry_after, timedelta(0)), max(policy.max_wait, timedelta(0)))
    return dataclasses.replace(
        base, last_error=one_line_error(outcome.error), failures=failures, next_attempt=now + delay
    )


def move_is_settled(health: SourceHealth, policy: Policy) -> bool:
    """True when a permanent redirect has held long enough to rename the source."""
    return bool(health.moved_to) and health.moved_runs >= policy.moved_after_runs
