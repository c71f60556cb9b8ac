"""The related-stories index: vectors, inverted lists and candidate scoring.

Scoring every pair of a 50,000-article collection costs minutes, because
nearly every pair shares some word. The index avoids pairs that cannot win:

1. Each document keeps only its ``distinctive_terms`` highest TF-IDF terms
   (sublinear tf, smoothed idf, unit-normalised over the *whole* vector, so a
   dot product of two truncated vectors is the part of their full cosine those
   terms carry).
2. Inverted lists map a term, a tag or a title name to the documents that have
   it; lists longer than a rarity cap (common terms and tags) are not used to
   find candidates.
3. A query counts, over the lists of its own distinctive terms, tags and names,
   how many each other document shares; the best ``candidates`` of those are
   scored exactly with every signal.

Lists are kept sorted by slug, so adding documents one by one gives the same
lists, and the same candidates, as building them all at once.

A full rebuild vectorises every document in array passes (``_vectorise_all``)
and every document's picks come from :mod:`.batch`, which does steps 2-3 for
blocks of documents as sparse-matrix products; both give exactly what the
one-document methods here give.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import chain, compress, islice, pairwise, repeat
from operator import ge, mul, neg
from typing import Any, TypeVar

import numpy as np

from .._config import RelatedConfig
from .._slugs import headline_key
from .documents import Document, Features
from .signals import (
    AUTHOR,
    NAMES,
    RECENCY,
    TAGS,
    TEXT,
    Weights,
    closeness_in_time,
    rarity,
)
from .text import VOCABULARY

K = TypeVar("K")
T = TypeVar("T")
Reasons = tuple[tuple[str, float], ...]

# 1 + log(tf) for small tf without a log call per term.
_LOG_TF = [0.0] + [1.0 + math.log(tf) for tf in range(1, 4096)]
# Share of the index that may change before the term statistics are recomputed.
RESTATISTICS_SHARE = 0.1
# Below this many (document, term) entries, recomputing everything on an update takes well under a second.
EXACT_UPDATE_TERMS = 400_000
# Documents vectorised together on a full rebuild (bounds the size of the arrays).
VECTORISE_CHUNK = 4096


# How many of its heaviest terms a query follows to find candidates (all of them still score).
QUERY_TERMS = 24
# The longest inverted list a query reads to find candidates.
LIST_CAP = 128
# Fewer rare-term lists than this and the least common of the common ones are used too.
MIN_LISTS = 3
# Of such a common list, only this many times the rarity cap are read (its first, by slug):
# an article of common words only would otherwise read lists as long as the collection,
# and a collection of such articles would cost all pairs after all. Candidates drawn from
# a common list are as good as any others of it; exact scoring then ranks them.
COMMON_READ = 4


# Each signal's weighted share of a pair's score, in this order.
Parts = tuple[float, float, float, float, float]
_PART_NAMES = (TEXT, TAGS, NAMES, RECENCY, AUTHOR)
_NOTHING: Parts = (0.0, 0.0, 0.0, 0.0, 0.0)


def _log_tf(tf: int) -> float:
    return _LOG_TF[tf] if tf < 4096 else 1.0 + math.log(tf)


@dataclass(frozen=True, slots=True, eq=False)
class Vector:
    """A document's truncated TF-IDF vector: term numbers (in ``VOCABULARY``), heaviest first, and their weights.

    Two flat arrays, about a fifth of what a dict of the same terms costs (at
    100,000 articles the difference is some 300 MB).
    """

    terms: array[int]
    weights: array[float]

    def __iter__(self) -> Iterator[int]:
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)

    def as_dict(self) -> dict[int, float]:
        return dict(zip(self.terms, self.weights, strict=True))

    def dot(self, weights_of: dict[int, float]) -> float:
        """The dot product with another vector given as a dict (terms it lacks weigh 0)."""
        return float(sum(map(mul, map(weights_of.get, self.terms, repeat(0.0)), self.weights)))


_EMPTY = Vector(array("I"), array("d"))


@dataclass(frozen=True, slots=True)
class _Lists:
    """The inverted lists of an index (each sorted by slug) and its documents by headline key."""

    terms: dict[int, list[str]]
    tags: dict[str, list[str]]
    names: dict[str, list[str]]
    by_title: dict[str, set[str]]


@dataclass(frozen=True, slots=True)
class Scored:
    """A computed candidate: its document, score in [0, 1] and each signal's share."""

    document: Document
    score: float
    reasons: Reasons


class DocumentIndex:
    """Documents with their truncated vectors and inverted lists; no article or config I/O."""

    def __init__(self, documents: Iterable[Document], config: RelatedConfig) -> None:
        self.config = config
        self.weights = Weights.from_config(config)
        self.documents: dict[str, Document] = {}
        self.vectors: dict[str, Vector] = {}
        self.term_df: Counter[int] = Counter()  # by term number in VOCABULARY, as is everything term-keyed here
        self.idf: dict[int, float] = {}
        self._stats_size = 0
        self._changes = 0
        # Built on first use: a cold build answers every query with the batch, which needs no lists.
        self._built_lists: _Lists | None = None
        self._counted_keys: tuple[dict[str, int], dict[str, int]] | None = None  # see _key_lengths
        self._rebuild(list(documents))

    # -- building -----------------------------------------------------------
    def _rebuild(self, documents: list[Document]) -> None:
        """Compute term statistics, vectors and lists for ``documents`` from scratch."""
        self.documents = {d.slug: d for d in sorted(documents, key=lambda d: d.slug)}
        ordered = list(self.documents.values())
        self._stats_size = len(self.documents)
        self._changes = 0
        self.term_df, self.idf, vectors = _vectorise_all([d.features for d in ordered], self.config.distinctive_terms)
        self.vectors = dict(zip(self.documents, vectors, strict=True))
        self._built_lists = None
        self._counted_keys = None

    @property
    def _lists(self) -> _Lists:
        """The inverted lists, built from the documents and vectors when first asked for.

        They are a function of those two alone (each list sorted by slug), which
        :meth:`add` and :meth:`remove` keep up to date once built.
        """
        if self._built_lists is None:
            lists = _Lists({}, {}, {}, {})
            vectors = self.vectors
            for slug in sorted(self.documents):  # sorted by slug: lists come out sorted
                document = self.documents[slug]
                for term in vectors[slug]:
                    lists.terms.setdefault(term, []).append(slug)
                for tag in document.tags:
                    lists.tags.setdefault(tag, []).append(slug)
                for name in document.features.names:
                    lists.names.setdefault(name, []).append(slug)
                lists.by_title.setdefault(document.title_key, set()).add(slug)
            self._built_lists = lists
        return self._built_lists

    def vectorise(self, features: Features) -> Vector:
        """The truncated, unit-normalised TF-IDF vector of some features.

        Runs once per document on every full build, so each step is a C-level
        ``map``/``sorted`` rather than a Python loop over the terms.
        """
        numbers = features.ids
        if not numbers:
            return _EMPTY
        counts = features.counts
        log_tf = map(_LOG_TF.__getitem__, counts) if max(counts) < len(_LOG_TF) else map(_log_tf, counts)
        unseen = math.log(1 + self._stats_size) + 1.0
        weights = list(map(mul, log_tf, map(self.idf.get, numbers, repeat(unseen))))
        norm = math.sqrt(sum(map(mul, weights, weights))) or 1.0
        keep = self.config.distinctive_terms
        # Heaviest first, ties by term (queries walk the most distinctive terms first); the
        # term itself, not its number, breaks ties, so every process ranks alike. Negated
        # weights let sorted() compare plain tuples in C, with no key function.
        ranked = list(zip(map(neg, weights), features.words, numbers, strict=True))
        if len(weights) > keep:
            # Most terms weigh well under the mean and cannot be among the heaviest few:
            # drop them in C before sorting what is left.
            mean = sum(weights) / len(weights)
            for cut in (2 * mean, mean):
                heavy = list(compress(ranked, map(ge, weights, repeat(cut))))
                if len(heavy) >= keep:
                    ranked = heavy
                    break
        chosen = sorted(ranked)[:keep]
        return Vector(array("I", [number for _, _, number in chosen]), array("d", [-w / norm for w, _, _ in chosen]))

    def add(self, documents: Iterable[Document]) -> None:
        """Add or replace documents without recomputing the others' vectors.

        The new documents' terms update the document frequencies; vectors use
        the idf of the statistics in force. When more than
        ``RESTATISTICS_SHARE`` of the index has changed since those were
        computed, everything is recomputed so scores do not drift.
        """
        fresh = list(documents)
        for document in fresh:
            if document.slug in self.documents:
                self.remove([document.slug])
        size = self._stats_size
        for document in fresh:
            self.documents[document.slug] = document
            self.term_df.update(document.features.ids)
            for term in document.features.ids:
                self.idf[term] = math.log(1 + size) - math.log(1 + self.term_df[term]) + 1.0
            vector = self.vectorise(document.features)
            self.vectors[document.slug] = vector
            lists = self._built_lists  # not built yet: they will be, from the documents as they are then
            if lists is not None:
                for term in vector:
                    bisect.insort(lists.terms.setdefault(term, []), document.slug)
                for tag in document.tags:
                    bisect.insort(lists.tags.setdefault(tag, []), document.slug)
                for name in document.features.names:
                    bisect.insort(lists.names.setdefault(name, []), document.slug)
                lists.by_title.setdefault(document.title_key, set()).add(document.slug)
            self._changes += 1
            self._counted_keys = None
        self._restatistics_if_drifted()

    def remove(self, slugs: Iterable[str]) -> None:
        """Drop documents (deleted, unpublished or about to be replaced)."""
        for slug in slugs:
            document = self.documents.pop(slug, None)
            if document is None:
                continue
            self.term_df.subtract(document.features.ids)
            vector = self.vectors.pop(slug, _EMPTY)
            lists = self._built_lists
            if lists is not None:
                for term in vector:
                    _discard(lists.terms, term, slug)
                for tag in document.tags:
                    _discard(lists.tags, tag, slug)
                for name in document.features.names:
                    _discard(lists.names, name, slug)
                titled = lists.by_title.get(document.title_key)
                if titled is not None:
                    titled.discard(slug)
            self._changes += 1
            self._counted_keys = None
        self._restatistics_if_drifted()

    def _restatistics_if_drifted(self) -> None:
        # A small index is recomputed outright (cheap), so an update equals a full
        # rebuild exactly; a large one keeps its statistics until enough has changed.
        small = self._terms_total() <= EXACT_UPDATE_TERMS
        if self._changes and (small or self._changes > RESTATISTICS_SHARE * max(self._stats_size, 1)):
            self._rebuild(list(self.documents.values()))

    def _terms_total(self) -> int:
        if len(self) > EXACT_UPDATE_TERMS // 10:  # not worth counting: far too many documents
            return EXACT_UPDATE_TERMS + 1
        return sum(len(d.features) for d in self.documents.values())

    # -- querying -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.documents)

    def __contains__(self, slug: object) -> bool:
        return slug in self.documents

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents.values())

    def _list_cap(self) -> int:
        """Inverted lists longer than this belong to common terms: not used to find candidates."""
        # 1% of the collection, but never more than LIST_CAP: a query then reads a bounded
        # number of postings however large the collection grows.
        return max(64, min(int(0.01 * len(self.documents)), LIST_CAP))

    def _key_lengths(self) -> tuple[Callable[[str], int], Callable[[str], int]]:
        """How many documents have a tag, and a title name: the lengths of those lists.

        Read from the lists when they are built, else counted from the documents
        once (an incremental build scores a few pairs and needs no list).
        """
        lists = self._built_lists
        if lists is not None:
            return (lambda tag: len(lists.tags.get(tag, ()))), (lambda name: len(lists.names.get(name, ())))
        if self._counted_keys is None:
            documents = self.documents.values()
            tags = Counter(chain.from_iterable(d.tags for d in documents))
            names = Counter(chain.from_iterable(d.features.names for d in documents))
            self._counted_keys = (dict(tags), dict(names))
        tag_counts, name_counts = self._counted_keys
        return (lambda tag: tag_counts.get(tag, 0)), (lambda name: name_counts.get(name, 0))

    def candidates(self, document: Document, vector: Vector, limit: int) -> list[str]:
        """Slugs of the documents sharing the most distinctive terms, rare tags and names."""
        cap = self._list_cap()
        inverted = self._lists
        lists: list[list[str]] = []
        common: list[tuple[int, str, int]] = []
        terms = VOCABULARY.terms
        for term in islice(vector, QUERY_TERMS):  # vectors are ordered by weight, most distinctive first
            found = inverted.terms.get(term)
            if found and len(found) <= cap:
                lists.append(found)
            elif found:
                common.append((len(found), terms[term], term))  # least common first, ties by term
        if len(lists) < MIN_LISTS:  # an article of common words only still gets candidates
            read = COMMON_READ * cap
            lists.extend(inverted.terms[term][:read] for _, _, term in sorted(common)[: MIN_LISTS - len(lists)])
        # A shared rare tag or title name counts as much as three shared terms.
        for table, keys in ((inverted.tags, document.tags), (inverted.names, document.features.names)):
            for key in keys:
                found = table.get(key)
                if found and len(found) <= cap:
                    lists.extend((found, found, found))
        if not lists:
            return []
        counts = Counter(chain.from_iterable(lists))
        counts.pop(document.slug, None)
        if len(counts) <= limit:
            return sorted(counts)
        # The limit-th highest count is the cut; ties at the cut are broken by slug, so
        # the same lists always give the same candidates.
        cut = sorted(counts.values(), reverse=True)[limit - 1]
        sure = [slug for slug, count in counts.items() if count > cut]
        tied = sorted(slug for slug, count in counts.items() if count == cut)
        return sorted(sure) + tied[: limit - len(sure)]

    def score(self, document: Document, vector: Vector, other: Document) -> Scored:
        """Every signal for one pair, exactly."""
        total, parts = self._scorer(document, vector)(other)
        return _scored(other, total, parts)

    def _scorer(self, document: Document, vector: Vector) -> Callable[[Document], tuple[float, Parts]]:
        """A function scoring ``document`` against others, with the per-query work done once."""
        w = self.weights
        size = len(self.documents)
        vectors = self.vectors
        mine = vector.as_dict()
        tags = document.tags if w.tags > 0 else ()
        names = document.features.names if w.names > 0 else ()
        tag_length, name_length = self._key_lengths() if tags or names else (len, len)
        tag_weights = {t: rarity(tag_length(t), size) for t in tags}
        name_weights = {n: rarity(name_length(n), size) for n in names}
        tag_total = max(1.0, sum(tag_weights.values()))
        name_total = max(1.0, sum(name_weights.values()))
        published = document.published
        author = document.author if w.author > 0 else None

        text_weight, tags_weight, names_weight = w.text, w.tags / tag_total, w.names / name_total
        recency_weight, author_weight, half_life = w.recency, w.author, w.half_life_seconds

        def score(other: Document) -> tuple[float, Parts]:
            # Plain arithmetic first: most candidates are scored and dropped, so the
            # reasons are only built for the few that rank.
            theirs = vectors.get(other.slug)
            text = text_weight * theirs.dot(mine) if theirs else 0.0
            shared_tags = tags_weight * sum(map(tag_weights.get, other.tags, repeat(0.0))) if tags else 0.0
            shared_names = (
                names_weight * sum(map(name_weights.get, other.features.names, repeat(0.0))) if names else 0.0
            )
            if text <= 0 and shared_tags <= 0 and shared_names <= 0:
                return 0.0, _NOTHING
            recency = (
                recency_weight * closeness_in_time(published - other.published, half_life) if recency_weight else 0.0
            )
            same_author = author_weight if author is not None and author == other.author else 0.0
            total = text + shared_tags + shared_names + recency + same_author
            return total, (text, shared_tags, shared_names, recency, same_author)

        return score

    def related(
        self,
        document: Document,
        k: int,
        *,
        exclude: Iterable[str] = (),
        before: float | None = None,
        taken_titles: Iterable[str] = (),
        taken_urls: Iterable[str] = (),
    ) -> list[Scored]:
        """The ``k`` best computed picks for ``document``, best first.

        Never the document itself, an excluded slug, anything published at or
        after ``before``, or a second copy of a story (same headline or URL).
        Ties are broken by date (newer first), then slug.
        """
        vector = self.vectors.get(document.slug) or self.vectorise(document.features)
        excluded = set(exclude)
        excluded.add(document.slug)
        titles = {document.title_key, *taken_titles}
        urls = {document.url, *taken_urls}
        limit = max(self.config.candidates, 4 * k) + len(excluded)
        while True:
            slugs = self.candidates(document, vector, limit)
            ranked = []
            score = self._scorer(document, vector)
            for slug in slugs:
                other = self.documents[slug]
                if slug in excluded or (before is not None and other.published >= before):
                    continue
                total, parts = score(other)
                if total > 0:
                    ranked.append((-total, -other.published, slug, parts))
            ranked.sort(key=_rank_key)
            picked: list[Scored] = []
            for negative, _, slug, parts in ranked:
                other = self.documents[slug]
                if other.title_key in titles or other.url in urls:
                    continue
                titles.add(other.title_key)
                urls.add(other.url)
                picked.append(_scored(other, -negative, parts))
                if len(picked) == k:
                    return picked
            if len(slugs) < limit:
                return picked
            # Filters (before, exclude, copies) ate the shortlist: widen it.
            limit *= 4
            titles = {document.title_key, *taken_titles}
            urls = {document.url, *taken_urls}

    def related_all(self, k: int, only: AbstractSet[str] | None = None) -> dict[str, list[Scored]]:
        """Every document's ``k`` best computed picks, by slug: what :meth:`related` gives each.

        Answered for all documents at once with sparse matrices
        (:mod:`.batch`); the few whose shortlist the copies filter ate are
        answered one by one, with a widened shortlist. With ``only``, just
        those documents (by slug) are answered, each exactly as in a run over all.
        """
        return self.related_all_as(k, Scored, only)

    def related_all_as(
        self, k: int, make: Callable[[Document, float, Reasons], T], only: AbstractSet[str] | None = None
    ) -> dict[str, list[T]]:
        """:meth:`related_all`, each pick made by ``make(document, score, reasons)`` rather than a :class:`Scored`."""
        from .batch import related_all

        found = related_all(self, k, only, make)
        for slug in sorted(self.documents):
            if slug not in found and (only is None or slug in only):
                found[slug] = [make(s.document, s.score, s.reasons) for s in self.related(self.documents[slug], k)]
        return {slug: found[slug] for slug in sorted(found)}

    def list_keys(self, slug: str) -> tuple[str, ...]:
        """The inverted lists ``slug`` sits in, as ``t:term``, ``g:tag`` and ``n:name`` (the same in every process)."""
        document = self.documents[slug]
        terms = VOCABULARY.terms
        return (
            *(f"t:{terms[term]}" for term in self.vectors.get(slug, _EMPTY)),
            *(f"g:{tag}" for tag in document.tags),
            *(f"n:{name}" for name in document.features.names),
        )

    def list_members(self, key: str) -> list[str]:
        """The slugs in the inverted list named ``key`` (as :meth:`list_keys` names them); none if there is none."""
        kind, _, value = key.partition(":")
        if kind == "t":
            return self._lists.terms.get(VOCABULARY.id(value), [])
        if kind == "g":
            return self._lists.tags.get(value, [])
        return self._lists.names.get(value, [])

    def query_terms(
        self, slug: str, term_list_length: Callable[[int], int] | None = None
    ) -> tuple[list[int], list[int]]:
        """The term lists :meth:`candidates` reads for ``slug``: those read whole, and those of which only the head.

        By term number. ``term_list_length`` answers as if the term lists had
        those lengths, to ask what the query read before some documents changed.
        (Tag and name lists are read when rare, whatever the other lists.)
        """
        # With lengths given, the lists are not needed (nor built: the incremental build counts them apart).
        length = term_list_length or self._term_list_length
        cap = self._list_cap()
        rare: list[int] = []
        common: list[tuple[int, str, int]] = []
        terms = VOCABULARY.terms
        for term in islice(self.vectors.get(slug, _EMPTY), QUERY_TERMS):
            size = length(term)
            if size and size <= cap:
                rare.append(term)
            elif size:
                common.append((size, terms[term], term))
        heads = [term for _, _, term in sorted(common)[: MIN_LISTS - len(rare)]] if len(rare) < MIN_LISTS else []
        return rare, heads

    def _term_list_length(self, term: int) -> int:
        return len(self._lists.terms.get(term, ()))

    def term_list(self, term: int) -> list[str]:
        """The slugs whose vectors hold ``term`` (a term number), sorted; what a query reads of it."""
        return self._lists.terms.get(term, [])

    def head_read(self) -> int:
        """How many entries a query reads from the head of a common term's list."""
        return COMMON_READ * self._list_cap()

    def copies_of(self, title: str) -> set[str]:
        """Slugs of documents whose headline matches ``title``."""
        return set(self._lists.by_title.get(headline_key(title), ()))


def _vectorise_all(features: list[Features], keep: int) -> tuple[Counter[int], dict[int, float], list[Vector]]:
    """Document frequencies, idf and every document's vector: :meth:`DocumentIndex.vectorise` for all at once.

    The same arithmetic in the same order (idf with ``math.log``, norms summed
    one term after another), so each vector equals what ``vectorise`` gives
    it, but in array passes over all the terms of the collection instead of
    Python calls per document.
    """
    # Term numbers of every (document, term) entry, 4 bytes each, renumbered densely over the
    # terms this collection uses; the rest is done a chunk of documents at a time so the
    # arrays stay small (50,000 articles hold 20 million entries).
    numbers = np.frombuffer(b"".join(f.ids for f in features), dtype=np.uint32)
    df_of_number = np.bincount(numbers, minlength=len(VOCABULARY))
    used = np.flatnonzero(df_of_number)
    dense = np.zeros(len(df_of_number), dtype=np.int32)
    dense[used] = np.arange(len(used))
    ids = dense[numbers]
    del numbers, dense
    used_list: list[int] = used.tolist()
    df_list: list[int] = df_of_number[used].tolist()
    term_df = Counter(dict(zip(used_list, df_list, strict=True)))
    top = math.log(1 + len(features))
    idf = {term: top - math.log(1 + d) + 1.0 for term, d in zip(used_list, df_list, strict=True)}
    idf_of_id = np.array(list(idf.values()))
    rank_of_term = _ranks_by_term(used_list)
    log_tf_table = np.array(_LOG_TF)
    vectors: list[Vector] = []
    offset = 0
    for start in range(0, len(features), VECTORISE_CHUNK):
        chunk = features[start : start + VECTORISE_CHUNK]
        lengths = np.fromiter(map(len, chunk), dtype=np.int64, count=len(chunk))
        size = int(lengths.sum())
        chunk_ids = ids[offset : offset + size]
        offset += size
        counts = np.frombuffer(b"".join(f.counts for f in chunk), dtype=np.uint32).astype(np.int64)
        log_tf = log_tf_table[np.minimum(counts, len(_LOG_TF) - 1)]
        big = counts >= len(_LOG_TF)
        if big.any():
            log_tf[big] = [_log_tf(int(c)) for c in counts[big]]
        vectors.extend(_chunk_vectors(lengths, chunk_ids, log_tf * idf_of_id[chunk_ids], rank_of_term, used, keep))
    return term_df, idf, vectors


def _ranks_by_term(numbers: list[int]) -> Any:
    """Each of ``numbers``' place when their terms are sorted: ties are broken by term, never by number."""
    terms = VOCABULARY.terms
    ranks = np.empty(len(numbers), dtype=np.int64)
    ranks[np.array(sorted(range(len(numbers)), key=lambda i: terms[numbers[i]]), dtype=np.int64)] = np.arange(
        len(numbers)
    )
    return ranks


def _chunk_vectors(lengths: Any, ids: Any, weights: Any, rank_of_term: Any, numbers: Any, keep: int) -> list[Vector]:
    """The vectors of consecutive documents with ``lengths`` terms, whose ids and weights are given in order.

    ``ids`` index ``numbers``, the terms' numbers in ``VOCABULARY``.
    """
    count = len(lengths)
    rows = np.repeat(np.arange(count), lengths)
    sums = np.bincount(rows, weights=weights, minlength=count)  # sequential, like sum()
    norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=count))
    norms[norms == 0] = 1.0
    # Most terms weigh well under their document's mean and cannot be among its heaviest few.
    means = sums / np.maximum(lengths, 1)
    cut = np.full(count, -np.inf)
    for times in (1.0, 1.5, 2.0, 3.0, 4.0):  # the highest multiple of the mean that still leaves `keep`
        line = times * means
        enough = np.bincount(rows[weights >= line[rows]], minlength=count) >= keep
        cut = np.where(enough, line, cut)
    heavy = np.flatnonzero(weights >= cut[rows])
    # Heaviest first, ties by term, within each document; its first `keep` are its vector.
    heavy = heavy[np.lexsort((rank_of_term[ids[heavy]], -weights[heavy], rows[heavy]))]
    heavy_rows = rows[heavy]
    rank = np.arange(len(heavy)) - np.searchsorted(heavy_rows, np.arange(count))[heavy_rows]
    chosen = heavy[rank < keep]
    terms = numbers[ids[chosen]].astype(np.uint32).tobytes()
    values = (weights[chosen] / norms[rows[chosen]]).astype(np.float64).tobytes()
    bounds: list[int] = np.searchsorted(rows[chosen], np.arange(count + 1)).tolist()
    out: list[Vector] = []
    for a, b in pairwise(bounds):
        term_numbers, term_weights = array("I"), array("d")
        term_numbers.frombytes(terms[4 * a : 4 * b])
        term_weights.frombytes(values[8 * a : 8 * b])
        out.append(Vector(term_numbers, term_weights))
    return out


def _scored(other: Document, total: float, parts: Parts | list[float]) -> Scored:
    # Every share is >= 0, so the non-zero ones are the signals that counted (kept in C:
    # the batch makes one of these per pick, half a million for 100,000 articles).
    return Scored(other, total, tuple(compress(zip(_PART_NAMES, parts, strict=True), parts)))


def _rank_key(item: tuple[float, float, str, object]) -> tuple[float, float, str]:
    return item[0], item[1], item[2]


def _discard(table: dict[K, list[str]], key: K, slug: str) -> None:
    found = table.get(key)
    if not found:
        return
    at = bisect.bisect_left(found, slug)
    if at < len(found) and found[at] == slug:
        del found[at]
    if not found:
        del table[key]
