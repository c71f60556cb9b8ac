"""Bounce and complaint events: one row per report, from a mailbox or a webhook.

``event_key`` (the bounce's Message-ID, or the service's event id) makes a
report counted once, however often the mailbox is read or the service retries
the webhook. Soft bounces are counted from these rows, so the limit applies to
distinct reports, never to re-reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .database import Database, Migration

MIGRATIONS: list[Migration] = [
    (
        "bounces_0001_events",
        """
        CREATE TABLE bounce_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            event_key TEXT NOT NULL UNIQUE,
            subscriber_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            origin TEXT NOT NULL,
            week TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '',
            received_at TEXT NOT NULL
        );
        CREATE INDEX bounce_events_subscriber ON bounce_events (subscriber_id, kind)
        """,
    ),
]


@dataclass(frozen=True, slots=True)
class StoredBounce:
    subscriber_id: int
    kind: str
    origin: str
    week: str
    detail: str
    received_at: datetime


class BounceEventTable:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self, event_key: str, subscriber_id: int, kind: str, origin: str, week: str, detail: str, at: datetime
    ) -> bool:
        """Record one event; False when ``event_key`` was recorded before (nothing changes)."""
        changed = self._db.execute(
            "INSERT OR IGNORE INTO bounce_events (event_key, subscriber_id, kind, origin, week, detail, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event_key, subscriber_id, kind, origin, week, detail, at.isoformat(timespec="seconds")),
        )
        return changed > 0

    def count(self, subscriber_id: int, kind: str) -> int:
        rows = self._db.query(
            "SELECT COUNT(*) AS n FROM bounce_events WHERE subscriber_id = ? AND kind = ?", (subscriber_id, kind)
        )
        return int(rows[0]["n"])

    def for_subscriber(self, subscriber_id: int) -> list[StoredBounce]:
        rows = self._db.query(
            "SELECT subscriber_id, kind, origin, week, detail, received_at FROM bounce_events "
            "WHERE subscriber_id = ? ORDER BY id",
            (subscriber_id,),
        )
        return [
            StoredBounce(
                r["subscriber_id"],
                r["kind"],
                r["origin"],
                r["week"],
                r["detail"],
                datetime.fromisoformat(r["received_at"]),
            )
            for r in rows
        ]
