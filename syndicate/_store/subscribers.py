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

from .._model import Subscriber, SubscriberStatus
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
    (
        # Rows from before this migration keep an empty consent method: nobody knows how they came.
        "subscribers_0002_consent_and_preferences",
        """
        ALTER TABLE subscribers ADD COLUMN consent_method TEXT NOT NULL DEFAULT '';
        ALTER TABLE subscribers ADD COLUMN consent_source TEXT NOT NULL DEFAULT '';
        ALTER TABLE subscribers ADD COLUMN consent_at TEXT;
        ALTER TABLE subscribers ADD COLUMN confirmed_at TEXT;
        ALTER TABLE subscribers ADD COLUMN plain_text INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE subscribers ADD COLUMN paused_until TEXT
        """,
    ),
]

_COLUMNS = (
    "id, email, name, status, bounces, created_at, changed_at, "
    "consent_method, consent_source, consent_at, confirmed_at, plain_text, paused_until"
)


def email_key(email: str) -> str:
    """The merge key of an already normalised address."""
    return email.casefold()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        status=SubscriberStatus(row["status"]),
        bounces=row["bounces"],
        created_at=datetime.fromisoformat(row["created_at"]),
        changed_at=datetime.fromisoformat(row["changed_at"]),
        consent_method=row["consent_method"],
        consent_source=row["consent_source"],
        consent_at=_when(row["consent_at"]),
        confirmed_at=_when(row["confirmed_at"]),
        plain_text=bool(row["plain_text"]),
        paused_until=_when(row["paused_until"]),
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

    def merge(self, rows: Iterable[tuple[str, str]], *, method: str = "import", source: str = "") -> MergeCounts:
        """Add ``(normalised email, name)`` rows; existing addresses keep their status.

        A non-empty name replaces the stored one; an empty name never erases it.
        New rows record their consent as ``method`` (import, manual) from ``source``.
        """
        added = renamed = unchanged = kept = 0
        stamp = _now()
        with self._db.transaction() as db:
            for email, name in rows:
                key = email_key(email)
                found = db.execute("SELECT name, status FROM subscribers WHERE email_key = ?", (key,)).fetchone()
                if found is None:
                    db.execute(
                        "INSERT INTO subscribers (email, email_key, name, created_at, changed_at, "
                        "consent_method, consent_source, consent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (email, key, name, stamp, stamp, method, source, stamp),
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

    def activate_confirmed(
        self, email: str, name: str, *, method: str, source: str, requested_at: datetime, confirmed_at: datetime
    ) -> Subscriber:
        """Make ``email`` an active subscriber on their own confirmation (double opt-in).

        An unsubscribed or bounced address comes back: the person asked and
        proved they read the mailbox. The consent record is the new one.
        """
        key = email_key(email)
        asked = requested_at.astimezone(UTC).isoformat(timespec="seconds")
        confirmed = confirmed_at.astimezone(UTC).isoformat(timespec="seconds")
        with self._db.transaction() as db:
            found = db.execute("SELECT id FROM subscribers WHERE email_key = ?", (key,)).fetchone()
            if found is None:
                db.execute(
                    "INSERT INTO subscribers (email, email_key, name, created_at, changed_at, consent_method, "
                    "consent_source, consent_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (email, key, name, confirmed, confirmed, method, source, asked, confirmed),
                )
            else:
                db.execute(
                    "UPDATE subscribers SET status = ?, bounces = 0, changed_at = ?, consent_method = ?, "
                    "consent_source = ?, consent_at = ?, confirmed_at = ?, paused_until = NULL, "
                    "name = CASE WHEN ? != '' THEN ? ELSE name END WHERE email_key = ?",
                    (SubscriberStatus.ACTIVE.value, confirmed, method, source, asked, confirmed, name, name, key),
                )
        subscriber = self.find(email)
        assert subscriber is not None
        return subscriber

    def set_plain_text(self, subscriber_id: int, plain_text: bool) -> Subscriber | None:
        """The reader's choice of the text-only variant."""
        self._db.execute(
            "UPDATE subscribers SET plain_text = ?, changed_at = ? WHERE id = ?",
            (int(plain_text), _now(), subscriber_id),
        )
        return self.get(subscriber_id)

    def set_paused_until(self, subscriber_id: int, until: datetime | None) -> Subscriber | None:
        """Pause sending to the reader until ``until``; None resumes."""
        stamp = until.astimezone(UTC).isoformat(timespec="seconds") if until is not None else None
        self._db.execute(
            "UPDATE subscribers SET paused_until = ?, changed_at = ? WHERE id = ?", (stamp, _now(), subscriber_id)
        )
        return self.get(subscriber_id)

    def receiving(self, now: datetime, max_bounces: int) -> list[Subscriber]:
        """Who gets an issue opened at ``now``: active, not suppressed by bounces, not paused."""
        rows = self._db.query(
            f"SELECT {_COLUMNS} FROM subscribers WHERE status = ? AND bounces < ? "
            "AND (paused_until IS NULL OR paused_until <= ?) ORDER BY id",
            (SubscriberStatus.ACTIVE.value, max_bounces, now.astimezone(UTC).isoformat(timespec="seconds")),
        )
        return [_subscriber(row) for row in rows]

    def paused_count(self, now: datetime) -> int:
        rows = self._db.query(
            "SELECT COUNT(*) AS n FROM subscribers WHERE status = ? AND paused_until > ?",
            (SubscriberStatus.ACTIVE.value, now.astimezone(UTC).isoformat(timespec="seconds")),
        )
        return int(rows[0]["n"])

    def weekly_growth(self) -> list[tuple[str, int, int]]:
        """``(ISO week, joined, left)`` per week, oldest first; "left" counts unsubscribes and suppressions."""
        weeks: dict[str, list[int]] = {}
        for row in self._db.query("SELECT status, created_at, changed_at FROM subscribers"):
            joined = datetime.fromisoformat(row["created_at"]).isocalendar()
            weeks.setdefault(f"{joined.year}-W{joined.week:02d}", [0, 0])[0] += 1
            if row["status"] != SubscriberStatus.ACTIVE.value:
                left = datetime.fromisoformat(row["changed_at"]).isocalendar()
                weeks.setdefault(f"{left.year}-W{left.week:02d}", [0, 0])[1] += 1
        return [(week, counts[0], counts[1]) for week, counts in sorted(weeks.items())]
