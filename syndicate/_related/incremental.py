"""Recomputing only the related picks an edit can change, with the answer a full computation gives.

An article's computed picks are a function of its own indexed document and
vector, of the inverted lists it reads to find candidates (those of its
distinctive terms, its tags and its title names: lists it sits in itself),
and of the documents and vectors of the candidates found there. So when an
edit changes some documents (their vector, tags, names, title, URL, date or
author: their *signature*), only the picks of the changed documents and of
the members of every list a changed document sat in, or sits in now, can
change. Every other article keeps the picks of the last build, stored in the
state database with each article's signature and lists.

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
    affected = set(changed) | _readers_of_changes(index, changed, last.lists(changed), enough)
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
    index: RelatedIndex, changed: set[str], old_lists: dict[str, tuple[str, ...]], enough: int
) -> set[str]:
    """The unchanged documents whose picks the ``changed`` ones can change.

    Such a document reads, to find its candidates, a list a changed document
    sat in or sits in now (so one may be, or have been, its candidate), or it
    reads other lists than before (a list's length crossed the rarity cap or
    reordered its least common terms). A document sitting in a changed tag or
    name list is affected too: the rarity weight of the tag or name changed.
    The search stops once ``enough`` are found: everything is recomputed then.
    """
    documents = index.index
    new_lists = {slug: documents.list_keys(slug) for slug in changed}
    touched: dict[str, list[str]] = {}  # list key: the changed documents it held or holds
    delta: dict[str, int] = {}  # list key: how much longer it was before
    for slug in changed:
        before, now = set(old_lists.get(slug, ())), set(new_lists[slug])
        for key in before | now:
            touched.setdefault(key, []).append(slug)
            delta[key] = delta.get(key, 0) + (key in before) - (key in now)
    affected: set[str] = set()
    touched_terms: dict[int, list[str]] = {}  # term number: the changed documents its list held or holds
    term_delta: dict[int, int] = {}
    for key, holders in touched.items():
        if key.startswith("t:"):
            number = VOCABULARY.id(key[2:])
            touched_terms[number] = holders
            term_delta[number] = delta[key]
        else:  # a tag or name list: its rarity weight counts in every member's scores
            affected.update(documents.list_members(key))
    suspects: set[str] = set()
    for number in touched_terms:
        suspects.update(documents.term_list(number))
    suspects -= affected | changed

    def length_before(term: int) -> int:
        return len(documents.term_list(term)) + term_delta.get(term, 0)

    # Only a query holding a term whose list changed length can read other lists than before.
    moved_terms = {term for term, moved in term_delta.items() if moved}
    head = documents.head_read() + len(changed)  # a changed document shifts a list's head by one at most
    vectors = documents.vectors
    for slug in suspects:
        if len(affected) >= enough:
            break
        query = vectors[slug].terms[:QUERY_TERMS]
        if touched_terms.keys().isdisjoint(query):
            continue  # its query follows none of the touched lists, and reads the same ones as before
        whole, heads = documents.query_terms(slug)
        # Asked again with the old lengths only when one of its terms' lengths moved: else the same answer.
        moved = not moved_terms.isdisjoint(query) and (whole, heads) != documents.query_terms(slug, length_before)
        if moved or not touched_terms.keys().isdisjoint(whole):
            affected.add(slug)
            continue
        for term in heads:
            holding = touched_terms.get(term, [])
            if any(bisect.bisect_left(documents.term_list(term), h) < head for h in holding):
                affected.add(slug)
                break
    return affected


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
