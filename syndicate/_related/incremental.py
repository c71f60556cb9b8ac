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

import hashlib
import json
from collections.abc import Iterator, Set
from dataclasses import dataclass, field

from .._model import RelatedPick
from .._store import LastPicks, RelatedLastPicks
from .output import related_json_chunks, related_json_entry, related_links
from .readers import readers_of_changes
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
    affected = set(changed) | readers_of_changes(index.index, changed, last.lists(changed), enough, previous, count)
    # Editor references resolve against the whole collection (a headline edited anywhere can match).
    affected.update(a.slug for a in index.collection.published(index.now) if a.related or a.more)
    if len(affected) > FULL_RECOMPUTE_SHARE * len(documents):
        return _recompute_all(index, last, context, signatures)
    fresh = index.all_picks(count, only=affected) if affected else {}
    kept = {slug: previous[slug] for slug in documents if slug not in fresh}
    rows = {slug: _row(index, slug, signatures[slug], fresh[slug]) for slug in sorted(fresh)}
    last.record(context, rows, (), complete=False)
    return PicksUpdate(fresh, kept, complete=False, fresh_entries={slug: row.entry for slug, row in rows.items()})


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


# One encoder for every row: json.dumps makes a new one per call when given options.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _encoded(picks: list[RelatedPick]) -> str:
    # Floats as repr gives them: read back, they are the same numbers bit for bit. Tuples are
    # encoded as lists: the reasons need no copy.
    return _ENCODE([(p.slug, p.title, p.url, p.score, p.editor_pick, p.reasons) for p in picks])


def _decoded(text: str) -> list[RelatedPick]:
    return [
        RelatedPick(slug, title, url, score, editor, tuple((name, value) for name, value in reasons))
        for slug, title, url, score, editor, reasons in json.loads(text)
    ]
