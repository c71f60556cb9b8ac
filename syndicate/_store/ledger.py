"""The send ledger: what happened to each (issue, subscriber), so nobody gets an issue twice.

When an issue is first sent, its audience is fixed: one ``pending`` row per
active subscriber. Each message then moves ``pending -> in_flight -> sent``
(or ``deferred``, ``bounced``, ``skipped``, ``failed``), each step committed
before the next SMTP command, so a run killed at any point leaves at most one
row ``in_flight``: the one message that may have been delivered without the
ledger knowing. The next run sends it again (the documented at-most-one
duplicate, with the same Message-ID) and everything still ``pending``.

Retries are bounded across runs: ``attempts`` counts every time a row was
marked ``in_flight`` (so an attempt cut off by a crash counts too), and a row
that reaches ``max_attempts`` is ``parked``: given up, reported, and never
again in a run's way. A connection that died after the message data went out
leaves the row ``unconfirmed`` (maybe delivered): one later run retries it with
the same Message-ID, and a second such death parks it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .._errors import LedgerWriteError as LedgerWriteError  # re-exported: its old import path
from .database import Database, Migration, utc_stamp

MIGRATIONS: list[Migration] = [
    (
        "ledger_0001_send_ledger",
        """
        CREATE TABLE newsletter_issues (
            week TEXT PRIMARY KEY,
            subject TEXT NOT NULL,
            rendered TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            completed_at TEXT
        );
        CREATE TABLE send_ledger (
            week TEXT NOT NULL REFERENCES newsletter_issues (week) ON DELETE CASCADE,
            subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_reply TEXT NOT NULL DEFAULT '',
            message_id TEXT NOT NULL DEFAULT '',
            changed_at TEXT NOT NULL,
            PRIMARY KEY (week, subscriber_id)
        )
        """,  # no index on status: each send commits one row change, and an index would double its pages
    ),
    (
        # How many times this row's data went out without the relay's verdict (a connection
        # that died after DATA): "maybe delivered" is retried once, never more.
        "ledger_0002_h10_unconfirmed_data",
        "ALTER TABLE send_ledger ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0",
    ),
]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"  # committed before the message's SMTP transaction began
    SENT = "sent"  # the relay answered 250 to the message's data
    DEFERRED = "deferred"  # a 4xx reply: retried by a later run after next_attempt_at
    BOUNCED = "bounced"  # a 5xx reply: a hard bounce
    SKIPPED = "skipped"  # unsubscribed or suppressed after the audience was fixed
    FAILED = "failed"  # deferred too many times: given up (rows written before parking existed)
    UNCONFIRMED = "unconfirmed"  # the connection died after the data: maybe delivered, retried once later
    PARKED = "parked"  # max_attempts reached, or unconfirmed twice: given up, reported, never blocks a run


OPEN_STATUSES = (
    DeliveryStatus.PENDING,
    DeliveryStatus.IN_FLIGHT,
    DeliveryStatus.DEFERRED,
    DeliveryStatus.UNCONFIRMED,
)
_OPEN_SQL = "('pending', 'in_flight', 'deferred', 'unconfirmed')"


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """What became of one subscriber's message."""

    subscriber_id: int
    status: DeliveryStatus
    reply: str = ""
    next_attempt_at: datetime | None = None
    unconfirmed: bool = False  # the data went out without a verdict: count it towards the one retry
    refund: bool = False  # the relay refused before this recipient was named: the attempt does not count


@dataclass(frozen=True, slots=True)
class IssueRecord:
    week: str
    subject: str
    opened_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class LedgerRow:
    week: str
    subscriber_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_reply: str
    message_id: str = ""  # the Message-ID of the last attempt: a resend of a maybe-delivered message reuses it
    unconfirmed: int = 0


@dataclass(frozen=True, slots=True)
class ParkedRow:
    subscriber_id: int
    email: str
    attempts: int
    last_reply: str


# SQLite's primary result codes for "the write did not happen": a full disk is SQLITE_FULL, a file
# size limit (EFBIG) and most other failed writes are SQLITE_IOERR (extended codes keep it in the low byte).
_SQLITE_IOERR = 10
_SQLITE_FULL = 13


class SendLedger:
    def __init__(self, db: Database) -> None:
        self._db = db

    @contextmanager
    def writing(self, action: str) -> Iterator[None]:
        """Turn a failed write of the state database inside the block into :class:`LedgerWriteError`.

        The operator needs the file's name and one line, not a traceback; a
        send run wraps everything it does (the related cache, the stored
        issue, the ledger) in this. Other SQLite errors pass through as they are.
        """
        try:
            yield
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in (_SQLITE_IOERR, _SQLITE_FULL):
                raise
            connection = self._db.connection
            if connection.in_transaction:  # a failed COMMIT can leave it open
                with suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
            raise LedgerWriteError(self._db.path, action, str(exc)) from None

    def issue(self, week: str) -> IssueRecord | None:
        rows = self._db.query(
            "SELECT week, subject, opened_at, completed_at FROM newsletter_issues WHERE week = ?", (week,)
        )
        if not rows:
            return None
        row = rows[0]
        completed = row["completed_at"]
        return IssueRecord(
            row["week"],
            row["subject"],
            datetime.fromisoformat(row["opened_at"]),
            datetime.fromisoformat(completed) if completed else None,
        )

    def issues(self) -> list[IssueRecord]:
        weeks = [row["week"] for row in self._db.query("SELECT week FROM newsletter_issues ORDER BY week")]
        return [record for week in weeks if (record := self.issue(week))]

    def rendered(self, week: str) -> str | None:
        """The issue as rendered when it was first sent (JSON), so every recipient gets the same one."""
        rows = self._db.query("SELECT rendered FROM newsletter_issues WHERE week = ?", (week,))
        return str(rows[0]["rendered"]) if rows else None

    def open_issue(self, week: str, subject: str, rendered: str, subscriber_ids: Sequence[int], now: datetime) -> int:
        """Record the issue (once) and enqueue subscribers not yet in its ledger; return how many were added."""
        stamp = utc_stamp(now)
        with self.writing(f"the issue {week} in the send ledger"), self._db.transaction() as db:
            db.execute(
                "INSERT INTO newsletter_issues (week, subject, rendered, opened_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(week) DO NOTHING",
                (week, subject, rendered, stamp),
            )
            before = db.execute("SELECT COUNT(*) FROM send_ledger WHERE week = ?", (week,)).fetchone()[0]
            db.executemany(
                "INSERT OR IGNORE INTO send_ledger (week, subscriber_id, changed_at) VALUES (?, ?, ?)",
                [(week, sid, stamp) for sid in subscriber_ids],
            )
            after = db.execute("SELECT COUNT(*) FROM send_ledger WHERE week = ?", (week,)).fetchone()[0]
            if after > before:
                db.execute("UPDATE newsletter_issues SET completed_at = NULL WHERE week = ?", (week,))
        return int(after - before)

    def rows_to_send(self, week: str, now: datetime) -> list[LedgerRow]:
        """Rows a run should try now: pending, in flight (a run died), and deferred or unconfirmed ones now due."""
        rows = self._db.query(
            "SELECT week, subscriber_id, status, attempts, next_attempt_at, last_reply, message_id, unconfirmed "
            "FROM send_ledger WHERE week = ? AND (status IN ('pending', 'in_flight') "
            "OR (status IN ('deferred', 'unconfirmed') AND next_attempt_at <= ?)) ORDER BY subscriber_id",
            (week, utc_stamp(now)),
        )
        return [
            LedgerRow(
                r["week"],
                r["subscriber_id"],
                DeliveryStatus(r["status"]),
                r["attempts"],
                datetime.fromisoformat(r["next_attempt_at"]) if r["next_attempt_at"] else None,
                r["last_reply"],
                r["message_id"],
                r["unconfirmed"],
            )
            for r in rows
        ]

    def parked(self, week: str) -> list[ParkedRow]:
        """The recipients given up for ``week``, with why: what an operator looks into."""
        rows = self._db.query(
            "SELECT l.subscriber_id, COALESCE(s.email, '') AS email, l.attempts, l.last_reply "
            "FROM send_ledger l LEFT JOIN subscribers s ON s.id = l.subscriber_id "
            "WHERE l.week = ? AND l.status = 'parked' ORDER BY l.subscriber_id",
            (week,),
        )
        return [ParkedRow(r["subscriber_id"], r["email"], r["attempts"], r["last_reply"]) for r in rows]

    def next_retry(self, week: str) -> datetime | None:
        rows = self._db.query(
            "SELECT MIN(next_attempt_at) AS at FROM send_ledger "
            "WHERE week = ? AND status IN ('deferred', 'unconfirmed')",
            (week,),
        )
        at = rows[0]["at"] if rows else None
        return datetime.fromisoformat(at) if at else None

    def counts(self, week: str) -> dict[DeliveryStatus, int]:
        rows = self._db.query("SELECT status, COUNT(*) AS n FROM send_ledger WHERE week = ? GROUP BY status", (week,))
        return {DeliveryStatus(row["status"]): row["n"] for row in rows}

    def statuses(self, week: str) -> dict[int, DeliveryStatus]:
        rows = self._db.query("SELECT subscriber_id, status FROM send_ledger WHERE week = ?", (week,))
        return {row["subscriber_id"]: DeliveryStatus(row["status"]) for row in rows}

    def advance(
        self,
        week: str,
        now: datetime,
        *,
        finished: Sequence[RowOutcome] = (),
        started: tuple[int, str] | None = None,
    ) -> None:
        """In one commit: record messages' outcomes, and mark the next message ``in_flight``.

        ``started`` is ``(subscriber_id, message_id)``; it must be committed
        before that message's data is sent, so a crash leaves it to be resent.
        """
        stamp = utc_stamp(now)
        with self.writing(f"a send step of {week} in the send ledger"), self._db.transaction() as db:
            if finished:
                db.executemany(
                    "UPDATE send_ledger SET status = ?, last_reply = ?, next_attempt_at = ?, changed_at = ?, "
                    "unconfirmed = unconfirmed + ?, attempts = MAX(0, attempts - ?) "
                    "WHERE week = ? AND subscriber_id = ?",
                    [
                        (
                            o.status.value,
                            o.reply[:500],
                            utc_stamp(o.next_attempt_at) if o.next_attempt_at else None,
                            stamp,
                            int(o.unconfirmed),
                            int(o.refund),
                            week,
                            o.subscriber_id,
                        )
                        for o in finished
                    ],
                )
            if started is not None:
                db.execute(
                    "UPDATE send_ledger SET status = 'in_flight', attempts = attempts + 1, message_id = ?, "
                    "changed_at = ? WHERE week = ? AND subscriber_id = ?",
                    (started[1], stamp, week, started[0]),
                )

    def close_issue_if_done(self, week: str, now: datetime) -> bool:
        """Mark the issue complete when no row is left open; return whether it is complete."""
        with self.writing(f"the end of {week} in the send ledger"), self._db.transaction() as db:
            open_rows = db.execute(
                f"SELECT COUNT(*) FROM send_ledger WHERE week = ? AND status IN {_OPEN_SQL}",
                (week,),
            ).fetchone()[0]
            if open_rows:
                return False
            db.execute(
                "UPDATE newsletter_issues SET completed_at = COALESCE(completed_at, ?) WHERE week = ?",
                (utc_stamp(now), week),
            )
        return True
