"""Recomputing only the related picks an edit can change, with the answer a full computation gives.

An article's computed picks are a function of its own indexed document and
vector, of the inverted lists it reads to find candidates (those of its
distinctive terms, its tags and its title names: lists it sits in itself),
and of the documents and vectors of the candidates found there. So when an
edit changes some documents (their vector, tags, names, title, URL, date or
author: their *signature*), only the picks of the changed documents and of
the members of every list a changed document sat in, or sits in now, can
change. Of those members, one whose lists are all the same as before (the
changed documents stayed in every one it reads) has the same shortlist, so
only a changed document's own score in it moved: it is recomputed only if
that document was among its picks or now scores as well as its last pick.
Every other article keeps the picks of the last build, stored in the state
database with each article's signature and lists.

Whatever every pick depends on at once (the related settings, the code and
config, the number of published articles, which sets the idf of every term
and the rarity caps) forms the *context*: when it differs from the last
build's, every pick is computed again, as it is when most of the collection
is affected anyway. Editor picks resolve headlines against the whole
collection, so articles that have any are always recomputed.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterator, Set
from dataclasses import dataclass, field

from .._model import RelatedPick
from .._store import LastPicks, RelatedLastPicks
from .document_index import QUERY_TERMS
from .output import related_json_chunks, related_json_entry, related_links
from .related_index import RelatedIndex
from .text import VOCABULARY

# Above this share of the published articles affected, one full batch is cheaper than the bookkeeping.
FULL_RECOMPUTE_SHARE = 0.5


@dataclass(frozen=True)
class PicksUpdate:
    """Every published article's picks: those this build computed, and the last build's rows of the others.

    The kept rows are not decoded unless asked (:attr:`picks`): a build needs
    of them only their ``related.json`` entries, stored as written, and the
    URLs of their first picks.
    """

    fresh: dict[str, list[RelatedPick]]
    kept: dict[str, LastPicks]
    complete: bool
    fresh_entries: dict[str, str] = field(default_factory=dict)  # related.json entries of ``fresh``, once made

    @property
    def computed(self) -> int:
        """How many articles' picks this build computed."""
        return len(self.fresh)

    @property
    def picks(self) -> dict[str, list[RelatedPick]]:
        """Every article's picks by slug, in slug order (what :meth:`RelatedIndex.all_picks` gives)."""
        return {
            slug: self.fresh[slug] if slug in self.fresh else _decoded(self.kept[slug].picks) for slug in self.slugs()
        }

    def slugs(self) -> list[str]:
        return sorted([*self.fresh, *self.kept])

    def related_json(self) -> bytes:
        """``related.json``, the bytes :func:`~.output.related_json` gives for :attr:`picks`."""
        return b"".join(self.related_json_chunks())

    def related_json_chunks(self) -> Iterator[bytes]:
        """:meth:`related_json` a few hundred articles at a time (see :func:`~.output.related_json_chunks`)."""
        fresh, kept, made = self.fresh, self.kept, self.fresh_entries
        return related_json_chunks(
            made.get(slug) or related_json_entry(slug, fresh[slug])
            if slug in fresh
            else kept[slug].entry or related_json_entry(slug, _decoded(kept[slug].picks))
            for slug in self.slugs()
        )

    def related_links(self, per_entry: int, only: Set[str] | None = None) -> dict[str, tuple[str, ...]]:
        """What :func:`~.output.related_links` gives for :attr:`picks`; with ``only``, for those slugs alone.

        (The feeds link the few thousand articles they publish: the others' rows need not be read.)
        """
        if per_entry <= 0:
            return {}
        links = related_links(self.fresh, per_entry)
        for slug, row in self.kept.items():
            if only is not None and slug not in only:
                continue
            # [slug, title, url, score, editor pick, reasons] per pick, best first (see _encoded).
            urls = tuple(pick[2] for pick in json.loads(row.picks)[:per_entry])
            if urls:
                links[slug] = urls
        return {slug: links[slug] for slug in self.slugs() if slug in links}


def current_picks(index: RelatedIndex, last: RelatedLastPicks, salt: str) -> PicksUpdate:
    """Every published article's picks (as :meth:`RelatedIndex.all_picks` gives), recomputing only what changed.

    ``salt`` covers what every output depends on besides its items (code,
    config, templates); a different salt recomputes everything.
    """
    documents = index.index.documents
    count = index.config.count
    context = _context(index, salt)
    signatures = {slug: _signature(index, slug) for slug in documents}
    previous = last.load(context)
    if previous is None or previous.keys() != signatures.keys():
        return _recompute_all(index, last, context, signatures)
    changed = {slug for slug, signature in signatures.items() if previous[slug].signature != signature}
    enough = int(FULL_RECOMPUTE_SHARE * len(documents)) + 1
    affected = set(changed) | _readers_of_changes(index, changed, last.lists(changed), enough, previous)
    # Editor references resolve against the whole collection (a headline edited anywhere can match).
    affected.update(a.slug for a in index.collection.published(index.now) if a.related or a.more)
    if len(affected) > FULL_RECOMPUTE_SHARE * len(documents):
        return _recompute_all(index, last, context, signatures)
    fresh = index.all_picks(count, only=affected) if affected else {}
    kept = {slug: previous[slug] for slug in documents if slug not in fresh}
    rows = {slug: _row(index, slug, signatures[slug], fresh[slug]) for slug in sorted(fresh)}
    last.record(context, rows, (), complete=False)
    return PicksUpdate(fresh, kept, complete=False, fresh_entries={slug: row.entry for slug, row in rows.items()})


def _readers_of_changes(
    index: RelatedIndex,
    changed: set[str],
    old_lists: dict[str, tuple[str, ...]],
    enough: int,
    previous: dict[str, LastPicks],
) -> set[str]:
    """The unchanged documents whose picks the ``changed`` ones can change.

    A document's picks are the best of its shortlist, and the shortlist is a
    function of the lists it reads alone. So a document is affected when a
    list it reads changed: a changed document entered or left it (a list
    whose length moved can also change which lists a query reads), or a tag
    or name list's membership, and so its rarity weight, changed.

    When a changed document stayed in every list it shares with a reader, the
    reader's lists are the same, so is its shortlist, and only that document's
    score in it moved: the reader is affected only if the document was among
    its picks, or now scores close enough to its last pick to enter them (see
    :func:`_may_enter`). This is what keeps an edit of the newest article,
    first in many lists' heads and among many articles' picks, from
    recomputing most of the collection.

    The search stops once ``enough`` are found: everything is recomputed then.
    """
    documents = index.index
    new_lists = {slug: documents.list_keys(slug) for slug in changed}
    moved: dict[str, list[str]] = {}  # list key: the changed documents that entered or left it
    stayed: dict[str, list[str]] = {}  # list key: the changed documents in it before and now
    delta: dict[str, int] = {}  # list key: how much longer it was before
    for slug in changed:
        before, now = set(old_lists.get(slug, ())), set(new_lists[slug])
        for key in before ^ now:
            moved.setdefault(key, []).append(slug)
            delta[key] = delta.get(key, 0) + (key in before) - (key in now)
        for key in before & now:
            stayed.setdefault(key, []).append(slug)
    affected: set[str] = set()
    # Readers whose lists are the same, with the changed documents they may have as candidates.
    maybe: dict[str, set[str]] = {}
    cap = documents._list_cap()
    for key in moved:
        if not key.startswith("t:"):  # a tag or name list: its rarity weight counts in every member's scores
            affected.update(documents.list_members(key))
    for key, holders in stayed.items():
        if not key.startswith("t:") and key not in moved:
            members = documents.list_members(key)
            if len(members) <= cap:  # read to find candidates (a common one is not)
                for member in members:
                    maybe.setdefault(member, set()).update(holders)
    touched_terms: dict[int, tuple[list[str], list[str]]] = {}  # term number: (moved, stayed) changed documents
    term_delta: dict[int, int] = {}
    for key in moved.keys() | stayed.keys():
        if key.startswith("t:"):
            number = VOCABULARY.id(key[2:])
            touched_terms[number] = (moved.get(key, []), stayed.get(key, []))
            term_delta[number] = delta.get(key, 0)
    suspects: set[str] = set()
    for number in touched_terms:
        suspects.update(documents.term_list(number))
    suspects -= affected | changed

    def length_before(term: int) -> int:
        return len(documents.term_list(term)) + term_delta.get(term, 0)

    # Only a query holding a term whose list changed length can read other lists than before.
    moved_terms = {term for term, moved_by in term_delta.items() if moved_by}
    head = documents.head_read() + len(changed)  # a changed document shifts a list's head by one at most

    def in_head(term: int, holders: list[str]) -> list[str]:
        listed = documents.term_list(term)
        return [h for h in holders if bisect.bisect_left(listed, h) < head]

    vectors = documents.vectors
    for slug in sorted(suspects):  # sorted: the same order (and early stop) in every process
        if len(affected) >= enough:
            break
        query = vectors[slug].terms[:QUERY_TERMS]
        if touched_terms.keys().isdisjoint(query):
            continue  # its query follows none of the touched lists, and reads the same ones as before
        whole, heads = documents.query_terms(slug)
        # Asked again with the old lengths only when one of its terms' lengths moved: else the same answer.
        if not moved_terms.isdisjoint(query) and (whole, heads) != documents.query_terms(slug, length_before):
            affected.add(slug)
            continue
        candidates: set[str] = set()
        for term in whole:
            if term in touched_terms:
                entered_or_left, kept = touched_terms[term]
                if entered_or_left:
                    break
                candidates.update(kept)
        else:
            for term in heads:
                if term in touched_terms:
                    entered_or_left, kept = touched_terms[term]
                    if in_head(term, entered_or_left):
                        break
                    candidates.update(in_head(term, kept))
            else:
                if candidates:
                    maybe.setdefault(slug, set()).update(candidates)
                continue
        affected.add(slug)
    count = index.config.count
    for slug in sorted(maybe.keys() - affected - changed):
        if len(affected) >= enough:
            break
        if _may_enter(index, slug, maybe[slug], previous[slug], count):
            affected.add(slug)
    return affected


# How far below an article's last pick a changed candidate must score to be left out for sure.
# The batch sums in another order than the one-pair scorer: their scores differ in the last bits.
SCORE_MARGIN = 1e-9


def _may_enter(index: RelatedIndex, slug: str, candidates: set[str], row: LastPicks, count: int) -> bool:
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
    documents = index.index
    score = documents._scorer(documents.documents[slug], documents.vectors[slug])
    return any(score(documents.documents[other])[0] >= last - SCORE_MARGIN for other in sorted(candidates))


def _recompute_all(
    index: RelatedIndex, last: RelatedLastPicks, context: str, signatures: dict[str, str]
) -> PicksUpdate:
    picks = index.all_picks(index.config.count)
    entries: dict[str, str] = {}

    def rows() -> Iterator[tuple[str, LastPicks]]:
        # Made as they are stored, a batch at a time: every row at once was a cold build's memory peak.
        for slug, chosen in picks.items():
            row = _row(index, slug, signatures[slug], chosen)
            entries[slug] = row.entry
            yield slug, row

    last.record(context, rows(), (), complete=True)
    return PicksUpdate(picks, {}, complete=True, fresh_entries=entries)


def _context(index: RelatedIndex, salt: str) -> str:
    digest = hashlib.blake2b(salt.encode(), digest_size=16)
    digest.update(f"{index.config!r}\0{len(index.index.documents)}".encode())
    return digest.hexdigest()


def _signature(index: RelatedIndex, slug: str) -> str:
    """Everything of one document that another article's picks (or its own) can depend on."""
    document = index.index.documents[slug]
    vector = index.index.vectors.get(slug)
    digest = hashlib.blake2b(digest_size=16)
    article = index.collection.get(slug)
    editor = (*article.related, *article.more) if article is not None else ()
    digest.update(
        repr(
            (
                document.title,
                document.title_key,
                document.url,
                document.published,
                document.author,
                document.tags,
                document.features.names,
                editor,
            )
        ).encode()
    )
    if vector is not None:
        # Terms by their text: their numbers depend on the order a process happened to learn them in.
        terms = VOCABULARY.terms
        digest.update("\0".join(terms[number] for number in vector.terms).encode())
        digest.update(vector.weights.tobytes())
    return digest.hexdigest()


def _row(index: RelatedIndex, slug: str, signature: str, picks: list[RelatedPick]) -> LastPicks:
    return LastPicks(signature, index.index.list_keys(slug), _encoded(picks), related_json_entry(slug, picks))


def _encoded(picks: list[RelatedPick]) -> str:
    # Floats as repr gives them: read back, they are the same numbers bit for bit.
    return json.dumps(
        [[p.slug, p.title, p.url, p.score, p.editor_pick, [list(r) for r in p.reasons]] for p in picks],
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _decoded(text: str) -> list[RelatedPick]:
    return [
        RelatedPick(slug, title, url, score, editor, tuple((name, value) for name, value in reasons))
        for slug, title, url, score, editor, reasons in json.loads(text)
    ]
