"""The mailing list: one row per address, merged case-insensitively.

``email_key`` (the normalised address, lower-cased) is what makes two spellings
of one address the same subscriber. A subscriber's ``status`` only moves away
from ``active`` through an unsubscribe or too many hard bounces, and imports
never move it back: :meth:`SubscriberTable.merge` keeps it as it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ..model import Subscriber, SubscriberStatus
from .database import Database, Migration

MIGRATIONS: list[Migration] = [
    (
        "subscribers_0001_list",
        """
        CREATE TABLE subscribers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            email TEXT NOT NULL,
            email_key TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'active',
            bounces INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            changed_at TEXT NOT NULL
        );
        CREATE INDEX subscribers_status ON subscribers (status)
        """,
    ),
]

_COLUMNS = "id, email, name, status, bounces, created_at, changed_at"


def email_key(email: str) -> str:
    """The merge key of an already normalised address."""
    return email.casefold()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        status=SubscriberStatus(row["status"]),
        bounces=row["bounces"],
        created_at=datetime.fromisoformat(row["created_at"]),
        changed_at=datetime.fromisoformat(row["changed_at"]),
    )


@dataclass(frozen=True, slots=True)
class MergeCounts:
    """What :meth:`SubscriberTable.merge` did."""

    added: int = 0
    renamed: int = 0
    unchanged: int = 0
    kept_inactive: int = 0  # listed again but unsubscribed or bounced: left so


class SubscriberTable:
    def __init__(self, db: Database) -> None:
        self._db = db

    def merge(self, rows: Iterable[tuple[str, str]]) -> MergeCounts:
        """Add ``(normalised email, name)`` rows; existing addresses keep their status.

        A non-empty name replaces the stored one; an empty name never erases it.
        """
        added = renamed = unchanged = kept = 0
        stamp = _now()
        with self._db.transaction() as db:
            for email, name in rows:
                key = email_key(email)
                found = db.execute("SELECT name, status FROM subscribers WHERE email_key = ?", (key,)).fetchone()
                if found is None:
                    db.execute(
                        "INSERT INTO subscribers (email, email_key, name, created_at, changed_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (email, key, name, stamp, stamp),
                    )
                    added += 1
                    continue
                old_name, status = found
                if status != SubscriberStatus.ACTIVE:
                    kept += 1
                if name and name != old_name:
                    db.execute(
                        "UPDATE subscribers SET name = ?, changed_at = ? WHERE email_key = ?", (name, stamp, key)
                    )
                    renamed += 1
                elif status == SubscriberStatus.ACTIVE:
                    unchanged += 1
        return MergeCounts(added, renamed, unchanged, kept)

    def get(self, subscriber_id: int) -> Subscriber | None:
        rows = self._db.query(f"SELECT {_COLUMNS} FROM subscribers WHERE id = ?", (subscriber_id,))
        return _subscriber(rows[0]) if rows else None

    def find(self, email: str) -> Subscriber | None:
        rows = self._db.query(f"SELECT {_COLUMNS} FROM subscribers WHERE email_key = ?", (email_key(email),))
        return _subscriber(rows[0]) if rows else None

    def all(self, status: SubscriberStatus | None = None) -> list[Subscriber]:
        if status is None:
            rows = self._db.query(f"SELECT {_COLUMNS} FROM subscribers ORDER BY id")
        else:
            rows = self._db.query(f"SELECT {_COLUMNS} FROM subscribers WHERE status = ? ORDER BY id", (status.value,))
        return [_subscriber(row) for row in rows]

    def by_ids(self, ids: Sequence[int]) -> dict[int, Subscriber]:
        out: dict[int, Subscriber] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for row in self._db.query(f"SELECT {_COLUMNS} FROM subscribers WHERE id IN ({marks})", chunk):
                out[row["id"]] = _subscriber(row)
        return out

    def counts(self) -> dict[str, int]:
        rows = self._db.query("SELECT status, COUNT(*) AS n FROM subscribers GROUP BY status")
        return {row["status"]: row["n"] for row in rows}

    def set_status(self, subscriber_id: int, status: SubscriberStatus, *, reset_bounces: bool = False) -> bool:
        """Change one subscriber's status; return False if there is no such subscriber."""
        bounces = ", bounces = 0" if reset_bounces else ""
        changed = self._db.execute(
            f"UPDATE subscribers SET status = ?, changed_at = ?{bounces} WHERE id = ?",
            (status.value, _now(), subscriber_id),
        )
        return changed > 0

    def record_bounce(self, subscriber_id: int, max_bounces: int) -> Subscriber | None:
        """Count a hard bounce; the address is suppressed once it reaches ``max_bounces``."""
        stamp = _now()
        with self._db.transaction() as db:
            db.execute(
                "UPDATE subscribers SET bounces = bounces + 1, changed_at = ? WHERE id = ?", (stamp, subscriber_id)
            )
            db.execute(
                "UPDATE subscribers SET status = ? WHERE id = ? AND status = ? AND bounces >= ?",
                (SubscriberStatus.BOUNCED.value, subscriber_id, SubscriberStatus.ACTIVE.value, max_bounces),
            )
        return self.get(subscriber_id)

    def remove(self, subscriber_id: int) -> bool:
        """Erase a subscriber and their send history."""
        return self._db.execute("DELETE FROM subscribers WHERE id = ?", (subscriber_id,)) > 0
