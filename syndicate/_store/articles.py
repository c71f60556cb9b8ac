"""The parse cache: parsed articles keyed by their file's content hash.

A no-change rebuild parses nothing: a file whose size and mtime are those
recorded is not even read, and a file that was touched but whose bytes hash
the same comes back from here too. The key includes the parse context
fingerprint (site URL, timezone, permalink, authors, parser version), so a
config change that would change parsed output misses the cache.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterable
from typing import cast
from zoneinfo import ZoneInfo

from .._model import Article, Author, Problem, Tag
from .database import Database, Migration

MIGRATIONS: list[Migration] = [
    (
        "articles_0001_parse_cache",
        """
        CREATE TABLE article_cache (
            path TEXT PRIMARY KEY,
            key TEXT NOT NULL,
            payload BLOB NOT NULL
        )
        """,
    ),
    (
        # The file's size and mtime when it was parsed, so unchanged files are not read again.
        "articles_0002_file_stat",
        "ALTER TABLE article_cache ADD COLUMN stat TEXT NOT NULL DEFAULT ''",
    ),
]

CachedParse = tuple[Article | None, list[Problem]]


# Values that thousands of articles hold equal copies of (a tag, an author, the site's time zone).
# Each is stored as its own pickle, by reference: loading 10,000 articles then builds each distinct
# one once (see SharedValues) instead of running a dataclass's __setstate__ five times per article,
# which was most of the cost of reading the collection back from this cache.
_SHARED_TYPES = (Tag, Author, ZoneInfo)

# Values already unpickled, by their stored bytes: one per load of many parses.
SharedValues = dict[bytes, object]

# Part of every cache key (see the loader): code that stored parses in another form, older or
# newer, misses the cache and parses again, instead of failing to read this form.
PAYLOAD_FORMAT = "shared-refs-1"


class _ParsePickler(pickle.Pickler):
    def persistent_id(self, obj: object) -> bytes | None:
        if type(obj) in _SHARED_TYPES:
            return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
        return None


class _ParseUnpickler(pickle.Unpickler):
    def __init__(self, payload: bytes, shared: SharedValues) -> None:
        super().__init__(io.BytesIO(payload))
        self._shared = shared

    def persistent_load(self, pid: object) -> object:
        if not isinstance(pid, bytes):
            raise pickle.UnpicklingError(f"unknown reference in a cached parse: {pid!r}")
        found = self._shared.get(pid)
        if found is None:
            found = self._shared[pid] = pickle.loads(pid)
        return found


def dump_parse(parsed: CachedParse) -> bytes:
    """The stored form of a parse (also what worker processes send back)."""
    out = io.BytesIO()
    _ParsePickler(out, pickle.HIGHEST_PROTOCOL).dump(parsed)
    return out.getvalue()


def load_parse(payload: bytes, shared: SharedValues | None = None) -> CachedParse:
    """A parse from its stored form (see :func:`dump_parse`).

    Pass the same ``shared`` to every call of one load: equal tags and authors
    then come back as one object, built once.
    """
    return cast(CachedParse, _ParseUnpickler(payload, {} if shared is None else shared).load())


class ArticleCache:
    """Parsed articles by file path, with the key and file stat they were parsed under."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def index(self) -> dict[str, tuple[str, str]]:
        """``{path: (key, stat)}`` of every cached parse, without the payloads."""
        return {
            row["path"]: (row["key"], row["stat"])
            for row in self._db.query("SELECT path, key, stat FROM article_cache")
        }

    def get_many(self, keys: dict[str, str]) -> dict[str, CachedParse]:
        """Cached parses for ``{path: key}``, only where the stored key matches."""
        # Row by row: the payloads not asked for (most, for a feed's few thousand bodies
        # among 100,000 articles) are never all held at once.
        rows = self._db.iterate("SELECT path, key, payload FROM article_cache")
        shared: SharedValues = {}
        return {row["path"]: load_parse(row["payload"], shared) for row in rows if keys.get(row["path"]) == row["key"]}

    def put_many(self, entries: Iterable[tuple[str, str, str, bytes]]) -> None:
        """Store ``(path, key, stat, payload)`` rows; payloads come from :func:`dump_parse`."""
        rows = list(entries)
        if not rows:
            return
        with self._db.transaction() as db:
            db.executemany(
                "INSERT INTO article_cache (path, key, stat, payload) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET key = excluded.key, stat = excluded.stat, payload = excluded.payload",
                rows,
            )

    def update_stats(self, rows: Iterable[tuple[str, str]]) -> None:
        """Record new ``(stat, path)`` for files touched without changing their bytes."""
        pending = list(rows)
        if pending:
            with self._db.transaction() as db:
                db.executemany("UPDATE article_cache SET stat = ? WHERE path = ?", pending)

    def forget_missing(self, present: Iterable[str]) -> None:
        """Drop cache rows of files that no longer exist."""
        keep = set(present)
        gone = [(row["path"],) for row in self._db.query("SELECT path FROM article_cache") if row["path"] not in keep]
        if gone:
            with self._db.transaction() as db:
                db.executemany("DELETE FROM article_cache WHERE path = ?", gone)
