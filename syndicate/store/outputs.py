"""Fingerprints of written output files, so unchanged outputs are not regenerated.

A feed's fingerprint covers everything it is made from (its items' content
hashes, the config, the templates); when it matches the stored one and the
file on disk still has the bytes we wrote, the feed is skipped entirely.
"""

from __future__ import annotations

from .database import Database, Migration

MIGRATIONS: list[Migration] = [
    (
        "outputs_0001_fingerprints",
        """
        CREATE TABLE output_fingerprints (
            path TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            content_hash TEXT NOT NULL
        )
        """,
    ),
]


class OutputFingerprints:
    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> dict[str, tuple[str, str]]:
        """``{path: (fingerprint, content_hash)}`` for every recorded output."""
        return {
            row["path"]: (row["fingerprint"], row["content_hash"])
            for row in self._db.query("SELECT path, fingerprint, content_hash FROM output_fingerprints")
        }

    def record_many(self, rows: list[tuple[str, str, str]]) -> None:
        """Store ``(path, fingerprint, content_hash)`` rows."""
        if not rows:
            return
        with self._db.transaction() as db:
            db.executemany(
                "INSERT INTO output_fingerprints (path, fingerprint, content_hash) VALUES (?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET fingerprint = excluded.fingerprint, "
                "content_hash = excluded.content_hash",
                rows,
            )
