"""The related-stories feature cache: each article's tokenised text, by content hash.

Tokenising is the costly part of building the related index; an article's
terms and title names depend only on its own text, so they are stored here
under a key made of its content hash and the feature version, and an
unchanged article is never tokenised twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from .database import Database, Migration

MIGRATIONS: list[Migration] = [
    (
        "related_0001_feature_cache",
        """
        CREATE TABLE related_features (
            slug TEXT PRIMARY KEY,
            key TEXT NOT NULL,
            payload TEXT NOT NULL
        )
        """,
    ),
]


class RelatedFeatureCache:
    """Rows of ``(slug, key, features as JSON)``; a row counts only if its key matches."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get_many(self, keys: dict[str, str]) -> dict[str, dict[str, object]]:
        """Cached features for ``{slug: key}``, only where the stored key matches."""
        return self.get_matching({slug: (key,) for slug, key in keys.items()})

    def get_matching(self, keys: dict[str, tuple[str, ...]]) -> dict[str, dict[str, object]]:
        """Cached features for ``{slug: acceptable keys}``, where the stored key is one of them."""
        hits: dict[str, dict[str, object]] = {}
        for row in self._db.query("SELECT slug, key, payload FROM related_features"):
            if row["key"] in keys.get(row["slug"], ()):
                try:
                    payload = json.loads(row["payload"])
                except ValueError:
                    continue  # a damaged row is recomputed and overwritten
                if isinstance(payload, dict):
                    hits[row["slug"]] = payload
        return hits

    def put_many(self, rows: Iterable[tuple[str, str, dict[str, object]]]) -> None:
        encoded = [(slug, key, json.dumps(payload, separators=(",", ":"))) for slug, key, payload in rows]
        if not encoded:
            return
        with self._db.transaction() as db:
            db.executemany(
                "INSERT INTO related_features (slug, key, payload) VALUES (?, ?, ?) "
                "ON CONFLICT(slug) DO UPDATE SET key = excluded.key, payload = excluded.payload",
                encoded,
            )

    def forget_missing(self, present: Iterable[str]) -> None:
        """Drop rows of articles that are gone (or no longer published)."""
        keep = set(present)
        rows = self._db.query("SELECT slug FROM related_features")
        gone = [(row["slug"],) for row in rows if row["slug"] not in keep]
        if gone:
            with self._db.transaction() as db:
                db.executemany("DELETE FROM related_features WHERE slug = ?", gone)
