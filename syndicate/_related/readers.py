"""Which unchanged articles' related picks an edit can change (the question :mod:`.incremental` asks).

A document's computed picks are the best of its shortlist, and its shortlist
is a function of the inverted lists its query reads (see
:meth:`~.document_index.DocumentIndex.candidates`): every term list of its
first ``QUERY_TERMS`` terms no longer than the rarity cap, read whole, or the
heads of its least common ones when it has too few of those, and its rare tag
and name lists. So an unchanged document ("a reader") is affected by an edit
only through lists it reads that hold, or held, a changed document:

- a changed document entered or left such a list (the list reads otherwise),
  or a list's length moved so that the query reads other lists (a term list
  crossing the cap, or two of its common lists changing order);
- a tag or name list it sits in gained or lost a member (its rarity weight);
- a changed document stayed in such a list: the reader's lists, and so its
  shortlist, are as before, and only that document's own score in it moved.
  The reader is affected only if the document was among its picks, or now
  scores as well as its last one (:func:`may_enter`).

The lists are read from the vectors and documents in one pass for the lists
the changed documents touch: building every inverted list of the index costs
more than the question.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from collections.abc import Callable, Mapping

import numpy as np

from .._store import LastPicks
from .document_index import QUERY_TERMS, DocumentIndex
from .text import VOCABULARY

# How far below an article's last pick a changed candidate must score to be left out for sure.
# The batch sums in another order than the one-pair scorer: their scores differ in the last bits.
SCORE_MARGIN = 1e-9


def readers_of_changes(
    index: DocumentIndex,
    changed: set[str],
    old_lists: Mapping[str, tuple[str, ...]],
    enough: int,
    previous: Mapping[str, LastPicks],
    count: int,
) -> set[str]:
    """The unchanged documents whose ``count`` picks the ``changed`` ones can change (see the module notes).

    ``old_lists`` are the lists each changed document sat in at the last
    build, ``previous`` every document's row of it. The search stops once
    ``enough`` are found: everything is recomputed then.
    """
    new_lists = {slug: index.list_keys(slug) for slug in changed}
    moved: dict[str, list[str]] = {}  # list key: the changed documents that entered or left it
    stayed: dict[str, list[str]] = {}  # list key: the changed documents in it before and now
    delta: dict[str, int] = {}  # list key: how much longer it was before
    for slug in sorted(changed):
        # Counted, not just listed: a document given a tag twice sits in its list twice.
        before, now = Counter(old_lists.get(slug, ())), Counter(new_lists[slug])
        for key in sorted(before.keys() | now.keys()):
            if before[key] != now[key]:
                moved.setdefault(key, []).append(slug)
                delta[key] = delta.get(key, 0) + before[key] - now[key]
            else:
                stayed.setdefault(key, []).append(slug)
    terms: dict[int, tuple[list[str], list[str]]] = {}  # term number: (moved, stayed) changed documents
    term_delta: dict[int, int] = {}
    keys: dict[str, list[str]] = {}  # tag or name list key: the changed documents it holds or held
    for key in moved.keys() | stayed.keys():
        if key.startswith("t:"):
            number = VOCABULARY.id(key[2:])
            terms[number] = (moved.get(key, []), stayed.get(key, []))
            term_delta[number] = delta.get(key, 0)
        else:
            keys[key] = moved.get(key, []) + stayed.get(key, [])
    members = _members(index, set(terms), set(keys))
    lengths: list[int] = _term_lengths(index)
    cap = index._list_cap()
    head = index.head_read() + len(changed)  # a changed document shifts a list's head by one at most

    def length_now(term: int) -> int:
        return lengths[term] if term < len(lengths) else 0

    def length_before(term: int) -> int:
        return length_now(term) + term_delta.get(term, 0)

    affected: set[str] = set()
    # Readers whose lists are the same, with the changed documents they may have as candidates.
    maybe: dict[str, set[str]] = {}
    for key, holders in keys.items():
        if key in moved:  # its rarity weight counts in every member's scores
            affected.update(members[key])
        elif len(members[key]) <= cap:  # read to find candidates (a common one is not)
            for member in members[key]:
                maybe.setdefault(member, set()).update(holders)

    def in_head(term: int, holders: list[str]) -> list[str]:
        listed = members[term]
        return [h for h in holders if bisect.bisect_left(listed, h) < head]

    moved_terms = {term for term, moved_by in term_delta.items() if moved_by}
    # A reader must look closer at a touched term of its query when the term's list is rare (read
    # whole) or was, when a changed document sits in the head a query reads of a common one, or
    # when the list's length moved past another list's (the least common few are read).
    closer: set[int] = set()
    for term, (entered_or_left, kept) in terms.items():
        if min(length_now(term), length_before(term)) <= cap or in_head(term, entered_or_left + kept):
            closer.add(term)
    crossing = _crossing(terms.keys() & moved_terms, lengths, length_before, moved_terms)
    suspects = sorted(set().union(*(members[term] for term in terms)) - affected - changed)
    vectors = index.vectors
    touched = terms.keys()
    for slug in suspects:  # in slug order: the same early stop in every process
        if len(affected) >= enough:
            break
        query = vectors[slug].terms[:QUERY_TERMS]
        asked = set(query)
        hit = touched & asked
        if not hit:
            continue  # its query follows none of the touched lists, and reads the same ones as before
        if hit.isdisjoint(closer) and not any(crossing[term] & asked for term in hit & crossing.keys()):
            continue  # only common lists with no changed document in their heads, in the same order
        whole, heads = index.query_terms(slug, length_now)
        # Asked again with the old lengths only when one of its terms' lengths moved: else the same answer.
        if not moved_terms.isdisjoint(query) and (whole, heads) != index.query_terms(slug, length_before):
            affected.add(slug)
            continue
        candidates: set[str] = set()
        for term in whole:
            if term in terms:
                entered_or_left, kept = terms[term]
                if entered_or_left:
                    break
                candidates.update(kept)
        else:
            for term in heads:
                if term in terms:
                    entered_or_left, kept = terms[term]
                    if in_head(term, entered_or_left):
                        break
                    candidates.update(in_head(term, kept))
            else:
                if candidates:
                    maybe.setdefault(slug, set()).update(candidates)
                continue
        affected.add(slug)
    for slug in sorted(maybe.keys() - affected - changed):
        if len(affected) >= enough:
            break
        if may_enter(index, slug, maybe[slug], previous[slug], count):
            affected.add(slug)
    return affected


def may_enter(index: DocumentIndex, slug: str, candidates: set[str], row: LastPicks, count: int) -> bool:
    """Whether changed ``candidates`` in ``slug``'s unchanged shortlist can change its picks.

    They can if one was among its picks (its score, title or URL moved), if it
    had fewer than ``count`` (room for anything), or if one now scores at least
    its last pick (give or take :data:`SCORE_MARGIN`). Otherwise every pick
    ranks as it did and each changed candidate ranks below them, as it did
    before (it was not picked; had it been left out as a copy of a better
    pick, it still is, or it ranks below the last pick now).
    """
    picks = json.loads(row.picks)  # [slug, title, url, score, editor pick, reasons] per pick, best first
    if len(picks) < count or not candidates.isdisjoint(pick[0] for pick in picks):
        return True
    last = float(picks[-1][3])
    score = index._scorer(index.documents[slug], index.vectors[slug])
    return any(score(index.documents[other])[0] >= last - SCORE_MARGIN for other in sorted(candidates))


def _members(index: DocumentIndex, terms: set[int], keys: set[str]) -> dict[int | str, list[str]]:
    """The members of the given term lists (by number) and tag or name lists (``g:tag``, ``n:name``), in slug order."""
    found: dict[int | str, list[str]] = {term: [] for term in terms}
    found.update((key, []) for key in keys)
    tags = {key[2:] for key in keys if key.startswith("g:")}
    names = {key[2:] for key in keys if key.startswith("n:")}
    vectors = index.vectors
    for slug in sorted(index.documents):
        for term in terms.intersection(vectors[slug].terms):
            found[term].append(slug)
        if tags or names:
            document = index.documents[slug]
            for tag in document.tags:  # as often as it has it, as the index's list holds it
                if tag in tags:
                    found["g:" + tag].append(slug)
            for name in document.features.names:
                if name in names:
                    found["n:" + name].append(slug)
    return found


def _term_lengths(index: DocumentIndex) -> list[int]:
    """Every term list's length, by term number: how many vectors hold the term."""
    numbers = np.frombuffer(b"".join(vector.terms for vector in index.vectors.values()), dtype=np.uint32)
    counted: list[int] = np.bincount(numbers, minlength=len(VOCABULARY)).tolist()
    return counted


def _crossing(
    terms: set[int], lengths: list[int], length_before: Callable[[int], int], moved_terms: set[int]
) -> dict[int, set[int]]:
    """For each term whose list's length moved, the terms it may have changed order with.

    A query reads the heads of its least common lists, by (length, term): a
    moved list changes that order only against lists whose length lies
    between its old and new ones (inclusive, as ties go by term), or against
    another moved list.
    """
    if not terms:
        return {}
    array = np.array(lengths)
    out: dict[int, set[int]] = {}
    for term in terms:
        low, high = sorted((lengths[term] if term < len(lengths) else 0, length_before(term)))
        between = np.flatnonzero((array >= low) & (array <= high)).tolist()
        out[term] = (set(between) | moved_terms) - {term}
    return out
