"""The parse cache: parsed articles keyed by their file's content hash.

A no-change rebuild reads every file and hashes it, but parses none: the
article comes back from here. The key includes the parse context fingerprint
(site URL, timezone, permalink, authors, parser version), so a config change
that would change parsed output misses the cache.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable

from ..model import Article, Problem
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
]

CachedParse = tuple[Article | None, list[Problem]]


class ArticleCache:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get_many(self, keys: dict[str, str]) -> dict[str, CachedParse]:
        """Cached parses for ``{path: key}``, only where the stored key matches."""
        rows = self._db.query("SELECT path, key, payload FROM article_cache")
        hits: dict[str, CachedParse] = {}
        for row in rows:
            if keys.get(row["path"]) == row["key"]:
                hits[row["path"]] = pickle.loads(row["payload"])
        return hits

    def put_many(self, entries: Iterable[tuple[str, str, CachedParse]]) -> None:
        rows = [(path, key, pickle.dumps(parsed, pickle.HIGHEST_PROTOCOL)) for path, key, parsed in entries]
        if not rows:
            return
        with self._db.transaction() as db:
            db.executemany(
                "INSERT INTO article_cache (path, key, payload) VALUES (?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET key = excluded.key, payload = excluded.payload",
                rows,
            )

    def forget_missing(self, present: Iterable[str]) -> None:
        """Drop cache rows of files that no longer exist."""
        keep = set(present)
        gone = [(row["path"],) for row in self._db.query("SELECT path FROM article_cache") if row["path"] not in keep]
        if gone:
            with self._db.transaction() as db:
                db.executemany("DELETE FROM article_cache WHERE path = ?", gone)
