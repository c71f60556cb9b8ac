"""The related-stories feature cache, and the picks of the last build.

Tokenising is the costly part of building the related index; an article's
terms and title names depend only on its own text, so they are stored here
under a key made of its content hash and the feature version, and an
unchanged article is never tokenised twice.

The picks of the last build are kept too, with what each article's picks
were computed from (a signature of its indexed document, the inverted lists
it sits in), so the next build recomputes only the picks an edit can change
(see :mod:`syndicate._related.incremental`).
"""

from __future__ import annotations

import itertools
import json
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import cast

from .database import Database, Migration, _Cursor

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
    (
        "related_0002_last_picks",
        """
        CREATE TABLE related_last_picks (
            slug TEXT PRIMARY KEY,
            signature TEXT NOT NULL,
            lists TEXT NOT NULL,
            picks TEXT NOT NULL
        );
        CREATE TABLE related_last_context (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            context TEXT NOT NULL
        );
        """,
    ),
    (
        # Each article's entry of related.json as written: an incremental build joins the kept
        # ones as they are instead of decoding every article's picks to format them again.
        "related_0003_json_entry",
        "ALTER TABLE related_last_picks ADD COLUMN entry TEXT NOT NULL DEFAULT ''",
    ),
    (
        # The terms of each row also as 4-byte numbers into one table of terms (and the counts as
        # 4-byte integers): a build reads 10,000 articles' features back as a few arrays instead of
        # decoding some 800,000 JSON strings (see RelatedFeatureCache.packed_matching).
        "related_0004_packed_features",
        """
        CREATE TABLE related_terms (number INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
        ALTER TABLE related_features ADD COLUMN terms BLOB NOT NULL DEFAULT x'';
        ALTER TABLE related_features ADD COLUMN counts BLOB NOT NULL DEFAULT x'';
        ALTER TABLE related_features ADD COLUMN names TEXT NOT NULL DEFAULT ''
        """,
    ),
]


# One encoder for every row: json.dumps makes a new one per call when given options.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
# Rows encoded and written per executemany: bounds the JSON held in memory at once.
_PUT_BATCH = 2000
# Terms looked up per query (SQLite allows some thousands of parameters in one statement).
_LOOKUP_BATCH = 500


def _looked_up(
    rows: Iterable[tuple[str, str, dict[str, object]]], look_up: Callable[[set[str]], None]
) -> list[tuple[str, str, dict[str, object]]]:
    """``rows`` as a list, after ``look_up`` was given every term they hold."""
    listed = list(rows)
    look_up({term for _, _, payload in listed for term in cast(list[str], payload["terms"])})
    return listed


@dataclass(frozen=True, slots=True)
class PackedFeatures:
    """Cached features of many articles at once, as :meth:`RelatedFeatureCache.packed_matching` reads them.

    Row ``i`` is ``slugs[i]``: its terms are ``terms[n]`` for each ``n`` of ``numbers[i]``
    (native 4-byte unsigned integers), in the order the row was stored; ``counts[i]``
    holds as many 4-byte counts; ``names[i]`` its title names.
    """

    slugs: list[str]
    terms: list[str]
    numbers: list[bytes]
    counts: list[bytes]
    names: list[list[str]]


class RelatedFeatureCache:
    """Rows of ``(slug, key, features as JSON)``; a row counts only if its key matches.

    Each row also holds its terms as numbers into ``related_terms`` (see
    :meth:`packed_matching`); rows written before that hold only the JSON.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def get_many(self, keys: dict[str, str]) -> dict[str, dict[str, object]]:
        """Cached features for ``{slug: key}``, only where the stored key matches."""
        return dict(self.iter_matching({slug: (key,) for slug, key in keys.items()}))

    def iter_matching(self, keys: dict[str, tuple[str, ...]]) -> Iterator[tuple[str, dict[str, object]]]:
        """``(slug, features)`` where the stored key is one of the slug's acceptable keys, one row at a time.

        Packed rows keep no JSON (see :meth:`put_many`): their features are made
        from the packed columns, as ``Features.to_json`` gave them.
        """
        packed, older = self.packed_matching(keys)
        for slug, (_key, payload) in older.items():
            yield slug, payload
        terms = packed.terms
        for slug, numbers, counts, names in zip(packed.slugs, packed.numbers, packed.counts, packed.names, strict=True):
            if max(array("I", numbers), default=-1) >= len(terms):
                continue  # a damaged row is recomputed and overwritten
            yield (
                slug,
                {
                    "terms": [terms[n] for n in array("I", numbers)],
                    "counts": array("I", counts).tolist(),
                    "names": names,
                },
            )

    def packed_matching(
        self, keys: dict[str, tuple[str, ...]]
    ) -> tuple[PackedFeatures, dict[str, tuple[str, dict[str, object]]]]:
        """The rows whose stored key is one of the slug's acceptable keys: packed, and (older rows) as key and JSON.

        Only the packed columns and the title names are read for rows that have
        them; a damaged row is left out (recomputed and overwritten).
        """
        terms = [row["term"] for row in self._db.query("SELECT number, term FROM related_terms ORDER BY number")]
        slugs: list[str] = []
        numbers: list[bytes] = []
        counts: list[bytes] = []
        names: list[list[str]] = []
        older: dict[str, tuple[str, dict[str, object]]] = {}
        rows = self._db.iterate(
            "SELECT slug, key, terms, counts, CASE WHEN length(terms) = 0 THEN payload ELSE names END AS rest "
            "FROM related_features"
        )
        for row in rows:
            slug = row["slug"]
            if row["key"] not in keys.get(slug, ()):
                continue
            try:
                rest = json.loads(row["rest"])
            except (TypeError, ValueError):
                continue  # a damaged row is recomputed and overwritten
            packed: bytes = row["terms"]
            if not packed:
                if isinstance(rest, dict):
                    older[slug] = (row["key"], rest)
                continue
            if not isinstance(rest, list) or len(packed) % 4 or len(packed) != len(row["counts"]):
                continue
            slugs.append(slug)
            numbers.append(packed)
            counts.append(row["counts"])
            names.append(rest)
        return PackedFeatures(slugs, terms, numbers, counts, names), older

    def put_many(self, rows: Iterable[tuple[str, str, dict[str, object]]]) -> None:
        """Store ``(slug, key, features)`` rows, encoding them a batch at a time (in one transaction).

        ``features`` is ``{"terms": [str], "counts": [int], "names": [str]}`` (what
        ``Features.to_json`` gives); the terms and counts are stored packed. The JSON
        column is kept only for a row without terms, which readers take for a row
        from before packing: for every other row it repeated the packed columns
        (a tenth of a cold build's state, and a JSON encoding per article).
        """
        pending = iter(rows)
        with self._db.transaction() as db:
            # Only the numbers of the terms being stored are looked up (an edit stores one row).
            numbers: dict[str, int] = {}
            learned: list[tuple[int, str]] = []
            following = [db.execute("SELECT coalesce(max(number) + 1, 0) FROM related_terms").fetchone()[0]]

            def look_up(terms: set[str]) -> None:
                """Give every term of ``terms`` its number: the stored one, else the next free one."""
                wanted = sorted(terms - numbers.keys())
                for start in range(0, len(wanted), _LOOKUP_BATCH):
                    chunk = wanted[start : start + _LOOKUP_BATCH]
                    marks = ",".join("?" * len(chunk))
                    found = db.execute(f"SELECT number, term FROM related_terms WHERE term IN ({marks})", chunk)
                    numbers.update((term, number) for number, term in found)
                for term in wanted:
                    if term not in numbers:
                        numbers[term] = following[0]
                        learned.append((following[0], term))
                        following[0] += 1

            # Every term of the batch has its number by now: a lookup in C per term, not a Python call
            # (a cold build at 100,000 articles packs some 30 million of them).
            number = numbers.__getitem__
            while batch := [
                (
                    slug,
                    key,
                    "" if payload["terms"] else _ENCODE(payload),
                    array("I", list(map(number, cast(list[str], payload["terms"])))).tobytes(),
                    array("I", cast(list[int], payload["counts"])).tobytes(),
                    _ENCODE(payload["names"]),
                )
                for slug, key, payload in _looked_up(itertools.islice(pending, _PUT_BATCH), look_up)
            ]:
                db.executemany(
                    "INSERT INTO related_terms (number, term) VALUES (?, ?)",
                    learned,
                )
                learned.clear()
                db.executemany(
                    "INSERT INTO related_features (slug, key, payload, terms, counts, names) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(slug) DO UPDATE SET key = excluded.key, payload = excluded.payload, "
                    "terms = excluded.terms, counts = excluded.counts, names = excluded.names",
                    batch,
                )

    def forget_missing(self, present: Iterable[str]) -> None:
        """Drop rows of articles that are gone (or no longer published), and the terms no row holds any more."""
        keep = set(present)
        rows = self._db.query("SELECT slug FROM related_features")
        gone = [(row["slug"],) for row in rows if row["slug"] not in keep]
        if gone:
            with self._db.transaction() as db:
                db.executemany("DELETE FROM related_features WHERE slug = ?", gone)
                _prune_terms(db)


# Terms no row holds are dropped once they are this many, and a quarter of the table: each pruning
# renumbers the terms and rewrites every row, so it is left until it is worth that.
_PRUNE_AT_LEAST = 1000


def _prune_terms(db: _Cursor) -> None:
    """Drop the terms of ``related_terms`` no row holds (words of deleted articles), once they are many.

    The numbers stay 0 to n - 1 without gaps (every reader takes a term's number
    for its place in the table), so the kept terms are numbered again in their
    order and every row's numbers rewritten; all in the caller's transaction.
    """
    import numpy as np

    rows: list[tuple[str, bytes]] = db.execute(
        "SELECT slug, terms FROM related_features WHERE length(terms) > 0"
    ).fetchall()
    (size,) = db.execute("SELECT coalesce(max(number) + 1, 0) FROM related_terms").fetchone()
    stored = [np.frombuffer(blob, dtype=np.uint32) for _, blob in rows if len(blob) % 4 == 0]
    if len(stored) != len(rows) or any(numbers.size and int(numbers.max()) >= size for numbers in stored):
        return  # a damaged row: it is recomputed and overwritten, and the terms are pruned another time
    used = np.zeros(size, dtype=bool)
    for numbers in stored:
        used[numbers] = True
    unused = size - int(used.sum())
    if unused < _PRUNE_AT_LEAST or 4 * unused < size:
        return
    renumbered = (np.cumsum(used) - 1).astype(np.uint32)
    terms: list[tuple[int, str]] = db.execute("SELECT number, term FROM related_terms").fetchall()
    kept = [(int(renumbered[number]), term) for number, term in terms if used[number]]
    db.execute("DELETE FROM related_terms")
    db.executemany("INSERT INTO related_terms (number, term) VALUES (?, ?)", kept)
    db.executemany(
        "UPDATE related_features SET terms = ? WHERE slug = ?",
        [(renumbered[numbers].tobytes(), slug) for numbers, (slug, _) in zip(stored, rows, strict=True)],
    )


@dataclass(frozen=True, slots=True)
class LastPicks:
    """One article's row of the last build: its document's signature, the lists it sat in, its picks (JSON).

    :meth:`RelatedLastPicks.load` leaves ``lists`` empty (they are asked for
    by :meth:`RelatedLastPicks.lists`, for the few articles that changed).
    ``entry`` is the article's entry of ``related.json`` (empty in rows
    written before it was kept).
    """

    signature: str
    lists: tuple[str, ...]
    picks: str
    entry: str = ""


class RelatedLastPicks:
    """The picks of the last build, by slug, valid under one context (what every pick depends on)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self, context: str) -> dict[str, LastPicks] | None:
        """Every row of the last build, or ``None`` if it was made under another context (or never)."""
        found = self._db.query("SELECT context FROM related_last_context WHERE id = 1")
        if not found or found[0]["context"] != context:
            return None
        return {
            row["slug"]: LastPicks(row["signature"], (), row["picks"], row["entry"])
            for row in self._db.iterate("SELECT slug, signature, picks, entry FROM related_last_picks")
        }

    def lists(self, slugs: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The lists each of ``slugs`` sat in at the last build."""
        found: dict[str, tuple[str, ...]] = {}
        for slug in slugs:
            for row in self._db.query("SELECT lists FROM related_last_picks WHERE slug = ?", (slug,)):
                found[slug] = _lists_of(row["lists"])
        return found

    def record(
        self,
        context: str,
        changed: Mapping[str, LastPicks] | Iterable[tuple[str, LastPicks]],
        gone: Iterable[str],
        *,
        complete: bool,
    ) -> None:
        """Store this build's rows: ``changed`` ones written, ``gone`` ones dropped (all others if ``complete``).

        ``changed`` may be a mapping or ``(slug, row)`` pairs made as they are
        written, a batch at a time: every article's row at once (100,000 of
        them) was the peak of a cold build's memory.
        """
        pairs = iter(changed.items() if isinstance(changed, Mapping) else changed)
        with self._db.transaction() as db:
            if complete:
                db.execute("DELETE FROM related_last_picks")
            db.executemany("DELETE FROM related_last_picks WHERE slug = ?", [(slug,) for slug in gone])
            while batch := [
                (slug, row.signature, _lists_text(row.lists), row.picks, row.entry)
                for slug, row in itertools.islice(pairs, _PUT_BATCH)
            ]:
                db.executemany(
                    "INSERT INTO related_last_picks (slug, signature, lists, picks, entry) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(slug) DO UPDATE SET signature = excluded.signature, lists = excluded.lists, "
                    "picks = excluded.picks, entry = excluded.entry",
                    batch,
                )
            db.execute(
                "INSERT INTO related_last_context (id, context) VALUES (1, ?) "
                "ON CONFLICT(id) DO UPDATE SET context = excluded.context",
                (context,),
            )

    def forget(self) -> None:
        """Drop the last build's picks: the next build computes every pick."""
        with self._db.transaction() as db:
            db.execute("DELETE FROM related_last_context")
            db.execute("DELETE FROM related_last_picks")


def _lists_text(lists: tuple[str, ...]) -> str:
    """How a row stores the names of its lists: one a line, or as JSON if one holds a line break (or there is none).

    Every row is written and few are read back (those of changed articles): joining
    is a fifth of the JSON encoding's cost. A name starts with its kind (``t:``,
    ``g:``, ``n:``), so a joined text never starts with the ``[`` of JSON, which
    older rows and the rare others hold. (Not NUL: SQLite's text functions stop at one.)
    """
    joined = "\n".join(lists)
    if not lists or joined.count("\n") != len(lists) - 1 or joined.startswith("["):
        return _ENCODE(lists)
    return joined


def _lists_of(text: str) -> tuple[str, ...]:
    """The names :func:`_lists_text` stored."""
    return tuple(json.loads(text)) if text.startswith("[") else tuple(text.split("\n"))
