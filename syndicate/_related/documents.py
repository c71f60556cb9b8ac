"""What the related index knows about one story, and how to get it from an article.

A :class:`Document` is everything scoring needs and nothing else. Its
``features`` (terms and title names) depend only on the article's own text, so
they are cached under the article's content hash; the rest is cheap metadata.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .._model import Article
from .._slugs import headline_key
from .parallel import fork_map_ranges
from .text import VOCABULARY, term_id_counts, title_names

# Bump when tokenising, name finding or the cached form changes, so cached features are redone.
FEATURES_VERSION = "related-features-3"

# Term numbers and counts are stored as 4-byte unsigned integers ("I" is 4 bytes wherever Python runs).
_UINT32 = "I"
assert array(_UINT32).itemsize == 4


@dataclass(frozen=True, slots=True)
class Features:
    """The text-derived part of a document: its terms with their counts, and the names in its title.

    Kept compact because an index holds one per article: the terms as 4-byte
    numbers in :data:`~syndicate._related.text.VOCABULARY` and the counts as a
    4-byte array, a twelfth of what a dict of them costs.
    """

    ids: array[int]
    counts: array[int]
    names: tuple[str, ...]

    @classmethod
    def from_counts(cls, terms: Mapping[str, int], names: Iterable[str] = ()) -> Features:
        return cls(array(_UINT32, VOCABULARY.ids(terms)), array(_UINT32, terms.values()), tuple(names))

    @classmethod
    def from_id_counts(cls, terms: Mapping[int, int], names: Iterable[str] = ()) -> Features:
        return cls(array(_UINT32, terms.keys()), array(_UINT32, terms.values()), tuple(names))

    @property
    def words(self) -> tuple[str, ...]:
        """The terms, as strings (shared with the vocabulary)."""
        return tuple(map(VOCABULARY.terms.__getitem__, self.ids))

    @property
    def terms(self) -> dict[str, int]:
        """The term counts as a dict (built on demand)."""
        return dict(zip(self.words, self.counts, strict=True))

    def __len__(self) -> int:
        return len(self.ids)

    def to_json(self) -> dict[str, object]:
        # Two flat lists: far quicker to encode and decode than an object of hundreds of keys.
        return {"terms": list(self.words), "counts": self.counts.tolist(), "names": list(self.names)}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Features:
        terms, counts, names = data["terms"], data["counts"], data["names"]
        if not isinstance(terms, list) or not isinstance(counts, list) or not isinstance(names, list):
            raise ValueError("bad cached related features")
        if len(terms) != len(counts):
            raise ValueError("cached related features: terms and counts differ in length")
        "".join(terms)  # TypeError unless every term is a string (checked in C)
        # array() rejects counts that are not non-negative integers.
        return cls(array(_UINT32, VOCABULARY.ids(terms)), array(_UINT32, counts), tuple(map(str, names)))

    def __reduce__(self) -> tuple[object, ...]:
        # Term numbers mean something in this process only: pickle the terms themselves.
        return (_features_from_parts, (list(self.words), self.counts.tobytes(), self.names))


def _features_from_parts(words: list[str], counts: bytes, names: tuple[str, ...]) -> Features:
    numbers = array(_UINT32)
    numbers.frombytes(counts)
    return Features(array(_UINT32, VOCABULARY.ids(words)), numbers, names)


@dataclass(frozen=True, slots=True)
class Document:
    """One candidate story in the index."""

    slug: str
    title: str
    url: str
    published: float  # POSIX timestamp
    author: str | None
    tags: tuple[str, ...]
    features: Features
    content_key: str = ""
    title_key: str = ""  # headline_key(title), filled in by __post_init__

    def __post_init__(self) -> None:
        if not self.title_key:
            object.__setattr__(self, "title_key", headline_key(self.title))


def article_features(article: Article) -> Features:
    """Terms and title names of an article (pure; cache by :func:`features_key`)."""
    body = article.text
    return Features.from_id_counts(
        term_id_counts(article.title, article.summary, body),
        title_names(article.title, article.summary, body),
    )


Prepare = Callable[[list[Article]], list[Article]]


@dataclass(frozen=True, slots=True)
class _Shipment:
    """The features of a range of articles as a worker sends them back: numbers and bytes, few objects."""

    known: int  # the vocabulary's size at the fork: numbers below it mean the same everywhere
    learned: list[str]  # the terms numbered known, known + 1, ... in the worker
    ids: bytes
    counts: bytes
    lengths: list[int]
    names: list[tuple[str, ...]]
    replaced: list[bool]

    @classmethod
    def pack(cls, known: int, made: list[tuple[Features, bool]]) -> _Shipment:
        return cls(
            known,
            VOCABULARY.terms[known:],
            b"".join(f.ids for f, _ in made),
            b"".join(f.counts for f, _ in made),
            [len(f) for f, _ in made],
            [f.names for f, _ in made],
            [replaced for _, replaced in made],
        )

    def unpack(self) -> list[tuple[Features, bool]]:
        """The features in this process's term numbers."""
        numbering = np.arange(self.known + len(self.learned), dtype=np.uint32)
        numbering[self.known :] = VOCABULARY.ids(self.learned)
        ids = numbering[np.frombuffer(self.ids, dtype=np.uint32)].tobytes()
        out: list[tuple[Features, bool]] = []
        at = 0
        for length, names, replaced in zip(self.lengths, self.names, self.replaced, strict=True):
            term_ids, counts = array(_UINT32), array(_UINT32)
            term_ids.frombytes(ids[at : at + 4 * length])
            counts.frombytes(self.counts[at : at + 4 * length])
            out.append((Features(term_ids, counts, names), replaced))
            at += 4 * length
        return out


def features_of_all(
    articles: Sequence[Article], workers: int = 0, prepare: Prepare | None = None
) -> list[tuple[Features, bool]]:
    """Every article's features, in order, tokenised in forked workers when there are many.

    ``prepare`` runs in the worker on each range of articles before they are
    tokenised (``syndicate build`` reads body-less articles' words from their
    files there); each result says whether ``prepare`` replaced its article.
    Workers send term numbers, not strings: the terms they learned are sent
    once a range and renumbered here.
    """
    known = len(VOCABULARY)

    def job(start: int, stop: int) -> _Shipment:
        given = list(articles[start:stop])
        ready = prepare(given) if prepare is not None else given
        made = [(article_features(a), a is not b) for a, b in zip(ready, given, strict=True)]
        return _Shipment.pack(known, made)

    return [item for shipment in fork_map_ranges(job, len(articles), workers) for item in shipment.unpack()]


def features_key(article: Article) -> str:
    """What the cached features of an article depend on."""
    digest = article.content_hash
    if not digest:
        text = "\0".join((article.title, article.summary, article.text)).encode()
        digest = hashlib.blake2b(text, digest_size=16).hexdigest()
    return f"{FEATURES_VERSION}:{digest}"


def article_document(article: Article, features: Features | None = None, content_key: str | None = None) -> Document:
    """The index document of an article, computing its features unless given."""
    return Document(
        slug=article.slug,
        title=article.title,
        url=article.url,
        published=article.published.timestamp(),
        author=article.author.slug if article.author else None,
        tags=tuple(sorted({t.slug for t in article.tags})),
        features=features if features is not None else article_features(article),
        content_key=content_key if content_key is not None else features_key(article),
    )


_FRONT_MATTER = re.compile(r"\A\ufeff?---\s*\n.*?\n---\s*\n", re.S)
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<[^>]+>|https?://\S+")


def source_text(path: Path) -> str:
    """The readable words of a Markdown file without rendering it: no front matter, link targets or tags.

    ``syndicate build`` renders only the bodies it publishes; the related index
    reads the words of the others straight from their files (once: they are
    cached by content hash). Markdown's punctuation is dropped by the tokeniser.
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    return _LINK_TARGET.sub(" ", _FRONT_MATTER.sub("", text, count=1))


def source_bodies(site_root: Path, stubs: Iterable[Article]) -> dict[str, Article]:
    """Body-less articles with ``text`` read from their source files (unreadable ones left out)."""
    out: dict[str, Article] = {}
    for stub in stubs:
        try:
            out[stub.slug] = replace(stub, text=source_text(site_root / stub.source_path))
        except OSError:
            continue  # gone since loading: indexed by its title and summary alone
    return out
