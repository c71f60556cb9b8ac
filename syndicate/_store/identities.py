"""The identity ledger: every published item's first GUID, kept for ever, and every URL it had.

A feed reader keys stories by GUID; a GUID that changes makes an old story
show up as new in thousands of apps. The ledger remembers, for each GUID,
the file it came from (its lineage), that file's last content hash and
title, and its permalink; and every permalink an item ever had, so a moved
story leaves a redirect behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .database import Database, Migration

MIGRATIONS: list[Migration] = [
    (
        "identities_0001_ledger",
        """
        CREATE TABLE identities (
            guid TEXT PRIMARY KEY,
            lineage TEXT NOT NULL,
            content_hash TEXT NOT NULL DEFAULT '',
            title_key TEXT NOT NULL DEFAULT '',
            url TEXT NOT NULL,
            from_front_matter INTEGER NOT NULL DEFAULT 0,
            first_seen TEXT NOT NULL
        );
        CREATE INDEX identities_by_lineage ON identities (lineage);
        CREATE TABLE permalinks (
            url TEXT PRIMARY KEY,
            guid TEXT NOT NULL,
            first_seen TEXT NOT NULL
        )
        """,
    ),
]


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    """What the ledger knows of one GUID."""

    guid: str
    lineage: str  # the source file's path relative to the site; '' once another GUID took the file over
    content_hash: str
    title_key: str
    url: str
    from_front_matter: bool


class IdentityLedger:
    """The ``identities`` and ``permalinks`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def all(self) -> list[IdentityRecord]:
        rows = self.db.query(
            "SELECT guid, lineage, content_hash, title_key, url, from_front_matter FROM identities ORDER BY guid"
        )
        return [IdentityRecord(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    def permalinks(self) -> list[tuple[str, str]]:
        """Every (URL, GUID) ever published."""
        return [(r[0], r[1]) for r in self.db.query("SELECT url, guid FROM permalinks ORDER BY url")]

    def record(self, records: Sequence[IdentityRecord], now: datetime) -> None:
        """Store the current state of these items and their current URLs, in one transaction."""
        stamp = now.isoformat()
        with self.db.transaction() as db:
            for record in records:
                # One file, one current identity: an older GUID that lived in this file keeps its row.
                db.execute(
                    "UPDATE identities SET lineage = '' WHERE lineage = ? AND guid != ?", (record.lineage, record.guid)
                )
                db.execute(
                    "INSERT INTO identities"
                    " (guid, lineage, content_hash, title_key, url, from_front_matter, first_seen)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (guid) DO UPDATE SET lineage = excluded.lineage,"
                    " content_hash = excluded.content_hash, title_key = excluded.title_key, url = excluded.url,"
                    " from_front_matter = excluded.from_front_matter",
                    (
                        record.guid,
                        record.lineage,
                        record.content_hash,
                        record.title_key,
                        record.url,
                        int(record.from_front_matter),
                        stamp,
                    ),
                )
                db.execute(
                    "INSERT INTO permalinks (url, guid, first_seen) VALUES (?, ?, ?)"
                    " ON CONFLICT (url) DO UPDATE SET guid = excluded.guid",
                    (record.url, record.guid, stamp),
                )
