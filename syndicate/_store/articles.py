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
from collections.abc import Iterable, Mapping
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


# The stored bytes of each shared value this process pickled, by the object's id (the object is
# kept beside them, so the id cannot be reused): thousands of articles hold the same few hundred
# tag and author objects, and pickling each again for every article was a quarter of a parse's pickle.
_pickled_values: dict[int, tuple[object, bytes]] = {}
# A long-lived process (a server) that loads many collections must not keep every value it ever saw.
_PICKLED_VALUES_LIMIT = 50_000


def _pickled_value(obj: object) -> bytes:
    found = _pickled_values.get(id(obj))
    if found is not None:
        return found[1]
    if len(_pickled_values) >= _PICKLED_VALUES_LIMIT:
        _pickled_values.clear()
    pickled = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    _pickled_values[id(obj)] = (obj, pickled)
    return pickled


class _ParsePickler(pickle.Pickler):
    def persistent_id(self, obj: object) -> bytes | None:
        if type(obj) in _SHARED_TYPES:
            return _pickled_value(obj)
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


# Paths looked up per query (SQLite allows at least 999 parameters).
_LOOKUPS = 500


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

    def get_many(
        self,
        keys: dict[str, str],
        shared: SharedValues | None = None,
        index: Mapping[str, tuple[str, str]] | None = None,
    ) -> dict[str, CachedParse]:
        """Cached parses for ``{path: key}``, only where the stored key matches.

        Pass the ``shared`` of a load to have its tags and authors come back as
        the same objects, and an :meth:`index` read since the rows asked for
        last changed to spare reading it again.
        """
        if not keys:
            return {}
        shared = {} if shared is None else shared
        # Which rows match, known without their payloads: a build often asks for a few hundred
        # bodies, or for none of the rows it has just written, among 10,000 stored articles.
        stored = self.index() if index is None else index
        matching = [path for path, key in keys.items() if stored.get(path, ("",))[0] == key]
        if not matching:
            return {}
        if len(matching) * 2 > len(stored):
            # Most of the table: one pass over it, row by row (never every payload held at once).
            rows = self._db.iterate("SELECT path, key, payload FROM article_cache")
            return {r["path"]: load_parse(r["payload"], shared) for r in rows if keys.get(r["path"]) == r["key"]}
        found: dict[str, CachedParse] = {}
        for start in range(0, len(matching), _LOOKUPS):
            chunk = matching[start : start + _LOOKUPS]
            marks = ",".join("?" * len(chunk))
            for row in self._db.query(f"SELECT path, key, payload FROM article_cache WHERE path IN ({marks})", chunk):
                if keys.get(row["path"]) == row["key"]:  # unless rewritten meanwhile
                    found[row["path"]] = load_parse(row["payload"], shared)
        return found

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
