"""Per-source fetch state: conditional-GET validators and health.

One row per outside feed, keyed by the URL as listed in the OPML file. The
fetch step reads every row before a run and writes back the rows of the
sources it tried; the update decider computes the new values.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from .._model import SourceHealth
from .database import Database, Migration

MIGRATIONS: list[Migration] = [
    (
        "sources_0001_health",
        """
        CREATE TABLE source_health (
            url TEXT PRIMARY KEY,
            etag TEXT NOT NULL DEFAULT '',
            last_modified TEXT NOT NULL DEFAULT '',
            last_attempt REAL,
            last_success REAL,
            last_status INTEGER,
            last_error TEXT NOT NULL DEFAULT '',
            failures INTEGER NOT NULL DEFAULT 0,
            next_attempt REAL,
            disabled INTEGER NOT NULL DEFAULT 0,
            moved_to TEXT NOT NULL DEFAULT '',
            moved_runs INTEGER NOT NULL DEFAULT 0,
            entries INTEGER NOT NULL DEFAULT 0
        )
        """,
    ),
]

_COLUMNS = (
    "url, etag, last_modified, last_attempt, last_success, last_status, last_error, "
    "failures, next_attempt, disabled, moved_to, moved_runs, entries"
)


def _moment(value: float | None) -> datetime | None:
    # A moment no clock can show (written by an older version from a hostile
    # Retry-After, or by hand) reads as "none": the source is simply due, rather
    # than every run failing on the row.
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _seconds(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


class SourceHealthTable:
    """Read and write :class:`~syndicate._model.SourceHealth` rows."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> dict[str, SourceHealth]:
        """Every stored row, by listed URL."""
        rows = self._db.query(f"SELECT {_COLUMNS} FROM source_health")
        return {
            row["url"]: SourceHealth(
                url=row["url"],
                etag=row["etag"],
                last_modified=row["last_modified"],
                last_attempt=_moment(row["last_attempt"]),
                last_success=_moment(row["last_success"]),
                last_status=row["last_status"],
                last_error=row["last_error"],
                failures=row["failures"],
                next_attempt=_moment(row["next_attempt"]),
                disabled=bool(row["disabled"]),
                moved_to=row["moved_to"],
                moved_runs=row["moved_runs"],
                entries=row["entries"],
            )
            for row in rows
        }

    def get(self, url: str) -> SourceHealth:
        """The row of ``url``, or a fresh one if it was never fetched."""
        return self.all().get(url) or SourceHealth(url=url)

    def save_many(self, healths: Iterable[SourceHealth]) -> None:
        rows = [
            (
                h.url,
                h.etag,
                h.last_modified,
                _seconds(h.last_attempt),
                _seconds(h.last_success),
                h.last_status,
                h.last_error,
                h.failures,
                _seconds(h.next_attempt),
                int(h.disabled),
                h.moved_to,
                h.moved_runs,
                h.entries,
            )
            for h in healths
        ]
        if not rows:
            return
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[1:])
        with self._db.transaction() as db:
            db.executemany(
                f"INSERT INTO source_health ({_COLUMNS}) VALUES ({', '.join('?' * 13)}) "
                f"ON CONFLICT(url) DO UPDATE SET {updates}",
                rows,
            )

    def rename(self, old: str, new: str) -> None:
        """Move a source's row to its new URL (after a settled permanent redirect)."""
        with self._db.transaction() as db:
            db.execute("DELETE FROM source_health WHERE url = ?", (new,))
            db.execute("UPDATE source_health SET url = ?, moved_to = '', moved_runs = 0 WHERE url = ?", (new, old))
