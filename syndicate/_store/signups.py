"""Sign-ups waiting for confirmation, the rate-limit log, and forgotten addresses.

A sign-up is its own row, not a subscriber: an address becomes a subscriber
only when the person confirms (double opt-in), so a stranger typing someone
else's address into the form changes nothing on the list. Rate limits live
here, not in process memory, so they hold across ``serve`` workers and
restarts. A forgotten address is kept only as a salted hash (the salt is
random, made once per state database), enough to recognise it on a later
import and nothing more.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from .database import Database, Migration, utc_stamp
from .subscribers import email_key

MIGRATIONS: list[Migration] = [
    (
        "signups_0001_double_opt_in",
        """
        CREATE TABLE signups (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            email TEXT NOT NULL,
            email_key TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            method TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            requested_at TEXT NOT NULL,
            confirmed_at TEXT
        );
        CREATE INDEX signups_by_address ON signups (email_key, requested_at);
        CREATE TABLE signup_attempts (
            bucket TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX signup_attempts_by_bucket ON signup_attempts (bucket, at);
        CREATE TABLE forgotten_addresses (
            hash TEXT PRIMARY KEY,
            forgotten_at TEXT NOT NULL
        );
        CREATE TABLE forget_salt (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            salt TEXT NOT NULL
        )
        """,
    ),
]


# Unconfirmed requests are kept this long (well past any link's life), then erased: the
# address of someone who never confirmed is not ours to keep.
UNCONFIRMED_KEPT = timedelta(days=30)


# Why :meth:`SignupTable.request` recorded nothing.
RATE_LIMITED = "rate-limited client"
ALREADY_PENDING = "a confirmation is already pending"


@dataclass(frozen=True, slots=True)
class Signup:
    """One request to join the list, confirmed or not."""

    id: int
    email: str
    name: str
    method: str  # "form" or "api"
    source: str
    requested_at: datetime
    confirmed_at: datetime | None


def _signup(row: sqlite3.Row) -> Signup:
    return Signup(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        method=row["method"],
        source=row["source"],
        requested_at=datetime.fromisoformat(row["requested_at"]),
        confirmed_at=datetime.fromisoformat(row["confirmed_at"]) if row["confirmed_at"] else None,
    )


@dataclass(frozen=True, slots=True)
class SignupLimits:
    """How much one client and one address may ask for."""

    per_ip: int  # requests per client address per window
    window: timedelta
    pending_per_address: timedelta  # at most one confirmation message per address in this span


class SignupTable:
    def __init__(self, db: Database) -> None:
        self._db = db

    def request(
        self,
        email: str,
        name: str,
        method: str,
        source: str,
        client: str,
        now: datetime,
        limits: SignupLimits,
    ) -> tuple[Signup | None, str]:
        """Record a sign-up request if the limits allow; return it (or None) and why not.

        Checking and recording happen in one write transaction, so two
        processes answering at once cannot both send a confirmation.
        The reason is for logs and tests, never for the person asking.
        """
        key = email_key(email)
        since = utc_stamp(now - limits.window)
        ip_bucket = "ip:" + client
        with self._db.transaction() as db:
            db.execute("DELETE FROM signup_attempts WHERE at < ?", (utc_stamp(now - max(limits.window, timedelta(1))),))
            db.execute(
                "DELETE FROM signups WHERE confirmed_at IS NULL AND requested_at < ?",
                (utc_stamp(now - UNCONFIRMED_KEPT),),
            )
            tries = db.execute(
                "SELECT COUNT(*) FROM signup_attempts WHERE bucket = ? AND at >= ?", (ip_bucket, since)
            ).fetchone()[0]
            db.execute("INSERT INTO signup_attempts (bucket, at) VALUES (?, ?)", (ip_bucket, utc_stamp(now)))
            if tries >= limits.per_ip:
                return None, RATE_LIMITED
            recent = db.execute(
                "SELECT 1 FROM signups WHERE email_key = ? AND requested_at >= ? AND confirmed_at IS NULL LIMIT 1",
                (key, utc_stamp(now - limits.pending_per_address)),
            ).fetchone()
            if recent is not None:
                return None, ALREADY_PENDING
            cursor = db.execute(
                "INSERT INTO signups (email, email_key, name, method, source, requested_at) VALUES (?, ?, ?, ?, ?, ?)",
                (email, key, name, method, source, utc_stamp(now)),
            )
            signup_id = cursor.lastrowid
        assert signup_id is not None
        found = self.get(signup_id)
        assert found is not None
        return found, ""

    def withdraw(self, signup_id: int) -> None:
        """Drop a request whose confirmation could not be sent, so the person can try again."""
        self._db.execute("DELETE FROM signups WHERE id = ? AND confirmed_at IS NULL", (signup_id,))

    def get(self, signup_id: int) -> Signup | None:
        rows = self._db.query("SELECT * FROM signups WHERE id = ?", (signup_id,))
        return _signup(rows[0]) if rows else None

    def mark_confirmed(self, signup_id: int, now: datetime) -> bool:
        """Confirm once: False when it already was (a replayed link changes nothing)."""
        changed = self._db.execute(
            "UPDATE signups SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL", (utc_stamp(now), signup_id)
        )
        return changed > 0

    def pending(self, now: datetime, valid_for: timedelta) -> int:
        """Addresses with an unconfirmed, unexpired request."""
        rows = self._db.query(
            "SELECT COUNT(DISTINCT email_key) AS n FROM signups WHERE confirmed_at IS NULL AND requested_at >= ?",
            (utc_stamp(now - valid_for),),
        )
        return int(rows[0]["n"])

    def erase_address(self, email: str) -> int:
        return self._db.execute("DELETE FROM signups WHERE email_key = ?", (email_key(email),))

    # --- forgotten addresses ------------------------------------------------------------------

    def _salt(self) -> bytes:
        with self._db.transaction() as db:
            row = db.execute("SELECT salt FROM forget_salt WHERE id = 1").fetchone()
            if row is None:
                salt = secrets.token_hex(32)
                db.execute("INSERT INTO forget_salt (id, salt) VALUES (1, ?)", (salt,))
                return salt.encode()
            return str(row[0]).encode()

    def _hash(self, email: str, salt: bytes) -> str:
        return hashlib.sha256(salt + b"\x00" + email_key(email).encode("utf-8")).hexdigest()

    def forget(self, email: str, now: datetime) -> None:
        """Keep only the salted hash of ``email``, and erase its sign-up requests."""
        digest = self._hash(email, self._salt())
        with self._db.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO forgotten_addresses (hash, forgotten_at) VALUES (?, ?)", (digest, utc_stamp(now))
            )
            db.execute("DELETE FROM signups WHERE email_key = ?", (email_key(email),))

    def forgotten(self, emails: list[str]) -> set[str]:
        """Those of ``emails`` that asked to be forgotten."""
        if not emails:
            return set()
        salt = self._salt()
        hashes = {self._hash(email, salt): email for email in emails}
        found: set[str] = set()
        keys = list(hashes)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._db.query(f"SELECT hash FROM forgotten_addresses WHERE hash IN ({marks})", chunk):
                found.add(hashes[row["hash"]])
        return found

    def remember_again(self, email: str) -> None:
        """The person confirmed a new sign-up themselves: they are no longer forgotten."""
        self._db.execute("DELETE FROM forgotten_addresses WHERE hash = ?", (self._hash(email, self._salt()),))
