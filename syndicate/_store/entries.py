"""Outside entries as stored between runs, each source's own copy.

Rows are keyed by (source, entry id), so each run inserts only stories it
has not seen and keeps their first-seen time; merging and de-duplication
happen when the stream is read, so changed weights or filters apply at once.
``published`` is NULL for an entry whose feed gave no date: its first-seen
time stands in for it.

Rows are cleaned as they are read (:func:`_readable`): entries stored before
the text boundary existed may hold characters XML cannot carry or absurd
lengths, and one such row would stop every build until it aged out.
Cleaning on read, not by a migration, also covers a database written by an
older version after this one ran.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from .._model import Image, OutsideEntry
from .._textguard import capped, xml_safe
from .database import Database, Migration

# The same bounds normalising applies to new entries (sources.normalize), for rows stored before it did.
_TITLE_LIMIT = 1_000
_AUTHOR_LIMIT = 200
_SUMMARY_LIMIT = 100_000
_URL_LIMIT = 2_048
_TAG = re.compile(r"<[^>]*>")

MIGRATIONS: list[Migration] = [
    (
        "entries_0001_outside_entries",
        """
        CREATE TABLE outside_entries (
            source TEXT NOT NULL,
            entry_id TEXT NOT NULL,
            url TEXT NOT NULL,
            title TEXT NOT NULL,
            summary_html TEXT NOT NULL DEFAULT '',
            author TEXT NOT NULL DEFAULT '',
            image_url TEXT NOT NULL DEFAULT '',
            image_alt TEXT NOT NULL DEFAULT '',
            image_type TEXT NOT NULL DEFAULT '',
            published REAL,
            first_seen REAL NOT NULL,
            source_title TEXT NOT NULL DEFAULT '',
            source_url TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (source, entry_id)
        );
        CREATE INDEX outside_entries_date ON outside_entries (coalesce(published, first_seen))
        """,
    ),
]


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry with the source it came from (the OPML URL) and whether its feed dated it."""

    source: str
    entry: OutsideEntry
    dated: bool = True


def _moment(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _readable(text: str | None, limit: int) -> str:
    """A stored field fit for a feed: XML-safe and within ``limit`` characters."""
    return capped(xml_safe(text or ""), limit)[0]


def _readable_summary(summary: str | None) -> str:
    # Cutting markup could leave a tag open, so an oversized summary keeps only its text.
    summary = xml_safe(summary or "")
    if len(summary) <= _SUMMARY_LIMIT:
        return summary
    text = " ".join(html.unescape(_TAG.sub(" ", summary[: _SUMMARY_LIMIT * 4])).split())
    return f"<p>{html.escape(capped(text, 300)[0], quote=False)}</p>"


def _readable_url(url: str | None) -> str:
    # A URL is never cut (it would point elsewhere); an oversized one is emptied.
    url = xml_safe(url or "")
    return url if len(url) <= _URL_LIMIT else ""


class OutsideEntries:
    """Insert new entries, read a window back, prune old ones."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_many(self, stored: Iterable[StoredEntry]) -> dict[str, int]:
        """Insert or refresh entries in one transaction; return how many were new, per source.

        A known entry keeps its first-seen time; its title, summary and date
        follow the feed, so a corrected headline shows up.
        """
        rows = []
        keys: dict[str, set[str]] = {}
        for item in stored:
            e = item.entry
            keys.setdefault(item.source, set()).add(xml_safe(e.id))
            # Normalising already cleaned these; xml_safe again (a no-op scan) because one lone
            # surrogate from any other caller would make SQLite refuse the whole run's batch.
            rows.append(
                (
                    item.source,
                    xml_safe(e.id),
                    xml_safe(e.url),
                    xml_safe(e.title),
                    xml_safe(e.summary_html),
                    xml_safe(e.author),
                    xml_safe(e.image.url) if e.image else "",
                    xml_safe(e.image.alt) if e.image else "",
                    xml_safe(e.image.mime_type) if e.image else "",
                    e.published.timestamp() if item.dated else None,
                    e.first_seen.timestamp(),
                    xml_safe(e.source_title),
                    xml_safe(e.source_url),
                )
            )
        if not rows:
            return {}
        new: dict[str, int] = {}
        with self._db.transaction() as db:
            for source, ids in keys.items():
                known = {
                    row[0] for row in db.execute("SELECT entry_id FROM outside_entries WHERE source = ?", (source,))
                }
                new[source] = len(ids - known)
            db.executemany(
                "INSERT INTO outside_entries (source, entry_id, url, title, summary_html, author, image_url, "
                "image_alt, image_type, published, first_seen, source_title, source_url) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(source, entry_id) DO UPDATE SET url = excluded.url, title = excluded.title, "
                "summary_html = excluded.summary_html, author = excluded.author, image_url = excluded.image_url, "
                "image_alt = excluded.image_alt, image_type = excluded.image_type, published = excluded.published, "
                "source_title = excluded.source_title, source_url = excluded.source_url",
                rows,
            )
        return new

    def in_window(self, since: datetime, until: datetime) -> list[StoredEntry]:
        """Entries dated (or, undated, first seen) in ``[since, until)``, newest first."""
        rows = self._db.query(
            "SELECT * FROM outside_entries WHERE coalesce(published, first_seen) >= ? "
            "AND coalesce(published, first_seen) < ? ORDER BY coalesce(published, first_seen) DESC, entry_id",
            (since.timestamp(), until.timestamp()),
        )
        result = []
        for row in rows:
            first_seen = _moment(row["first_seen"])
            image_url = _readable_url(row["image_url"])
            image = (
                Image(image_url, _readable(row["image_alt"], _TITLE_LIMIT), _readable(row["image_type"], 100))
                if image_url
                else None
            )
            url = _readable_url(row["url"])
            if not url:
                continue  # a link too long to publish: nothing to point a reader at
            entry = OutsideEntry(
                id=_readable(row["entry_id"], _URL_LIMIT),
                title=_readable(row["title"], _TITLE_LIMIT),
                url=url,
                source_title=_readable(row["source_title"], _TITLE_LIMIT),
                source_url=_readable_url(row["source_url"]),
                published=_moment(row["published"]) if row["published"] is not None else first_seen,
                first_seen=first_seen,
                summary_html=_readable_summary(row["summary_html"]),
                author=_readable(row["author"], _AUTHOR_LIMIT),
                image=image,
            )
            result.append(StoredEntry(row["source"], entry, row["published"] is not None))
        return result

    def count_by_source(self) -> dict[str, int]:
        return {
            row["source"]: row["n"]
            for row in self._db.query("SELECT source, count(*) AS n FROM outside_entries GROUP BY source")
        }

    def prune(self, before: datetime) -> int:
        """Delete entries dated (or first seen, if undated) before ``before``; return how many."""
        return self._db.execute(
            "DELETE FROM outside_entries WHERE coalesce(published, first_seen) < ?", (before.timestamp(),)
        )

    def rename_source(self, old: str, new: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM outside_entries WHERE source = ?", (new,))
            db.execute("UPDATE outside_entries SET source = ? WHERE source = ?", (new, old))
