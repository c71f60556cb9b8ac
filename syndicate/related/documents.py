"""What the related index knows about one story, and how to get it from an article.

A :class:`Document` is everything scoring needs and nothing else. Its
``features`` (terms and title names) depend only on the article's own text, so
they are cached under the article's content hash; the rest is cheap metadata.
"""

from __future__ import annotations

import hashlib
import re
import sys
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..model import Article
from ..slugs import headline_key
from .text import term_counts, title_names

# Bump when tokenising or name finding changes, so cached features are redone.
FEATURES_VERSION = "related-features-2"


@dataclass(frozen=True, slots=True)
class Features:
    """The text-derived part of a document: its terms with their counts, and the names in its title.

    Kept compact because an index holds one per article: the terms as a tuple
    of interned strings (shared by every article that uses them) and the counts
    as a 4-byte array, about a sixth of what a dict of them costs.
    """

    words: tuple[str, ...]
    counts: array[int]
    names: tuple[str, ...]

    @classmethod
    def from_counts(cls, terms: Mapping[str, int], names: Iterable[str] = ()) -> Features:
        return cls(tuple(map(sys.intern, terms)), array("I", terms.values()), tuple(names))

    @property
    def terms(self) -> dict[str, int]:
        """The term counts as a dict (built on demand)."""
        return dict(zip(self.words, self.counts, strict=True))

    def __len__(self) -> int:
        return len(self.words)

    def to_json(self) -> dict[str, object]:
        return {"terms": self.terms, "names": list(self.names)}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Features:
        terms = data["terms"]
        names = data["names"]
        if not isinstance(terms, dict) or not isinstance(names, list):
            raise ValueError("bad cached related features")
        # JSON object keys are always strings; array() rejects counts that are not integers.
        return cls(tuple(map(sys.intern, terms)), array("I", terms.values()), tuple(map(str, names)))

    def __reduce__(self) -> tuple[object, ...]:
        # From a worker process as one string (the tokeniser blanks every ASCII control
        # character, so no term holds a newline) and the counts' bytes: pickling hundreds
        # of small strings per article cost as much as tokenising them. Interned again on
        # arrival, so terms stay shared.
        return (_features_from_parts, ("\n".join(self.words), self.counts.tobytes(), self.names))


def _features_from_parts(words: str, counts: bytes, names: tuple[str, ...]) -> Features:
    numbers = array("I")
    numbers.frombytes(counts)
    return Features(tuple(map(sys.intern, words.split("\n"))) if words else (), numbers, names)


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
    return Features.from_counts(
        term_counts(article.title, article.summary, body),
        title_names(article.title, article.summary, body),
    )


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
