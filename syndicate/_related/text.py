"""Turning an article's words into terms and names.

Everything here is a pure function of one article's text, so its result can be
cached by the article's content hash and reused across builds: the
collection-wide statistics (document frequencies) are applied later, in
:mod:`syndicate._related.document_index`.

Terms are numbered by :data:`VOCABULARY`, so an article's terms are an array
of small integers rather than hundreds of strings: the index works on arrays
of them, and worker processes send back bytes, not strings.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable

from .._slugs import headline_key


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words too common in any English news text to say what a story is about.
STOPWORDS = _word_set(
    """
    a about above after again against all also am an and any are aren as at be because been before being below
    between both but by can cannot could couldn did didn do does doesn doing don down during each even ever every
    few first for from further get gets got had hadn has hasn have haven having he her here hers herself him
    himself his how however if in into is isn it its itself just last later like made make makes many may me
    might more most much must my myself new no nor not now of off often on once one only or other our ours
    ourselves out over own per said same say says she should so some still such than that the their theirs them
    themselves then there these they this those though through to too two under until up upon us very was wasn
    we were weren what when where which while who whom whose why will with within without would year years yet
    you your yours yourself yourselves s t ll ve re d m told according since around three next back well way
    """
)


class Vocabulary:
    """Every term this process has seen, numbered from 0 in first-seen order.

    The numbers mean something in this process only (a forked worker numbers
    the terms it learns after the fork on its own; see
    :func:`syndicate._related.documents.features_of_all`). It only grows: it
    holds each distinct term once, a few megabytes for any language.
    """

    def __init__(self) -> None:
        self.terms: list[str] = []
        self._ids: dict[str, int] = {}
        # Numbering a new term reads then writes; two threads must not give one number twice.
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._new_lock)

    def _new_lock(self) -> None:
        self._lock = threading.Lock()  # a lock another thread held at the fork would stay held

    def __len__(self) -> int:
        return len(self.terms)

    def id(self, term: str) -> int:
        """The number of ``term``, given it now if new."""
        found = self._ids.get(term)
        if found is None:
            with self._lock:
                found = self._ids.get(term)
                if found is None:
                    found = len(self.terms)
                    self.terms.append(term)
                    self._ids[term] = found
        return found

    def ids(self, terms: Iterable[str]) -> list[int]:
        """The numbers of ``terms``, in order (unseen ones are numbered)."""
        terms = list(terms)
        found = list(map(self._ids.get, terms))
        if None in found:
            found = [self.id(term) if number is None else number for term, number in zip(terms, found, strict=True)]
        return found  # type: ignore[return-value]


VOCABULARY = Vocabulary()

# Title words are what a story is about; count them several times over.
TITLE_REPEAT = 3
SUMMARY_REPEAT = 2


def _stem(word: str) -> str:
    """Fold plurals ("festivals" -> "festival") without a full stemmer's surprises."""
    if len(word) > 3 and word[-1] == "s" and word[-2] not in "su" and not word.endswith("is"):
        return word[:-1]
    return word


# Tokenising is the costly step of indexing, so it works on UTF-8 bytes, where one
# C-level translate() lowercases ASCII and blanks punctuation in a single pass, and
# split() and Counter do the rest; Python code runs once per distinct word ever seen.
_BYTE_TABLE = bytes(
    (c + 32 if 65 <= c <= 90 else c) if (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c >= 128) else 32
    for c in range(256)
)
_DROPPED = -1
_TERM_OF: dict[bytes, int] = {}  # a distinct word -> its term's number (_DROPPED: stopwords, letters, short numbers)


def _learn(words: list[bytes]) -> None:
    for raw in words:
        word = raw.decode("utf-8", "ignore").lower()
        dropped = len(word) < 2 or word in STOPWORDS or (word.isdigit() and len(word) < 4)
        _TERM_OF[raw] = _DROPPED if dropped else VOCABULARY.id(_stem(word))


def _counts(text: str) -> dict[int, int]:
    # Each word maps to its term in C (map over a dict lookup); Counter then adds up
    # the plurals folded onto their singular with the rest.
    words = text.encode("utf-8", "ignore").translate(_BYTE_TABLE).split()
    out: Counter[int | None] = Counter(map(_TERM_OF.get, words))
    if None in out:  # words never seen before: learn them, then count again
        _learn(list({word for word in words if word not in _TERM_OF}))
        out = Counter(map(_TERM_OF.get, words))
    out.pop(_DROPPED, None)
    return out  # type: ignore[return-value]


def term_id_counts(title: str, summary: str, body: str) -> dict[int, int]:
    """Term frequencies of an article by term number, title and summary counted extra times."""
    out = _counts(body)
    extras = [(title, TITLE_REPEAT)]
    if summary and summary not in body:
        extras.append((summary, SUMMARY_REPEAT))
    for text, repeat in extras:
        for term, count in _counts(text).items():
            out[term] = out.get(term, 0) + count * repeat
    return out


def term_counts(title: str, summary: str, body: str) -> dict[str, int]:
    """Term frequencies of an article, title and summary counted extra times."""
    terms = VOCABULARY.terms
    return {terms[number]: count for number, count in term_id_counts(title, summary, body).items()}


# -- names ------------------------------------------------------------------

# Capitalised runs such as "Jane Campion", "Venice Film Festival", "Pedro Almodóvar",
# allowing a lower-case particle inside ("Guillermo del Toro", "Festival de Cannes").
_CAP = r"[A-Z\u00c0-\u00de][\w\u2019'\-]*"
_NAME_RUN = re.compile(rf"{_CAP}(?:\s+(?:(?:de|del|da|di|du|la|le|van|von|der|den|of|the)\s+)?{_CAP})+")
# A quoted title; a closing ’ followed by a letter is an apostrophe ("Clockmaker’s"), not the end.
_QUOTED = re.compile(r"\u201c([^\u201d]{2,80}?)\u201d|\u2018(.{2,80}?)\u2019(?!\w)|\"([^\"]{2,80}?)\"")
_POSSESSIVE = re.compile(r"['\u2019]s\b")
_LEADING_WORDS = _word_set(
    "a an the in on at for from with by to of and but as after before when while this that these those "
    "his her their its our my your new"
)
MAX_NAME_WORDS = 5
# Names in a headline are introduced early in the story; scanning the start is enough.
NAME_SCAN_CHARS = 3000


@functools.lru_cache(maxsize=1 << 16)
def _name_key(phrase: str) -> str:
    # Cached: the same names recur across a collection's stories, and folding them is per-character Python.
    words = headline_key(phrase).split()
    while words and words[0] in _LEADING_WORDS:
        words = words[1:]
    while words and words[-1] in _LEADING_WORDS:
        words = words[:-1]
    return " ".join(words)


def capitalised_names(text: str) -> set[str]:
    """Keys of multi-word capitalised runs in running text (people, films, festivals)."""
    out: set[str] = set()
    for match in _NAME_RUN.finditer(text):
        key = _name_key(_POSSESSIVE.sub("", match.group(0)))
        if key.count(" ") >= 1:
            out.add(key)
    return out


def quoted_titles(text: str) -> set[str]:
    """Keys of quoted titles: ``“Dune”``, ``'All of Us Strangers'``."""
    out: set[str] = set()
    for match in _QUOTED.finditer(text):
        key = _name_key(_POSSESSIVE.sub("", next(g for g in match.groups() if g)))
        if key and key not in STOPWORDS and len(key) > 2:
            out.add(key)
    return out


def _is_title_case(title: str) -> bool:
    words = [w for w in title.split() if len(w) > 3 and w[0].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


def title_names(title: str, summary: str, body: str) -> tuple[str, ...]:
    """People, film and festival names in a headline, as matching keys.

    Headlines are often in Title Case, where every word is capitalised and
    capital letters say nothing; so a run of headline words counts as a name
    when the article's own sentence-case text writes it capitalised too.
    Quoted titles in the headline always count.
    """
    names = quoted_titles(title)
    mentioned = capitalised_names(summary) | capitalised_names(body[:NAME_SCAN_CHARS])
    if not _is_title_case(title):
        mentioned |= capitalised_names(title)
    words = headline_key(_POSSESSIVE.sub("", title)).split()
    for size in range(MAX_NAME_WORDS, 1, -1):
        for start in range(len(words) - size + 1):
            gram = " ".join(words[start : start + size])
            if gram in mentioned and not any(gram in longer for longer in names):
                names.add(gram)
    return tuple(sorted(names))
