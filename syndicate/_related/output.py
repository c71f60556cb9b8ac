"""What the related index publishes: ``related.json`` and the Atom ``rel="related"`` links."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from json.encoder import encode_basestring  # type: ignore[attr-defined]

from .._model import RelatedPick

RELATED_JSON = "related.json"


def related_json(picks: Mapping[str, Sequence[RelatedPick]]) -> bytes:
    """``{article slug: [{slug, title, url, score, editor_pick}, ...]}``, best first, byte-for-byte stable.

    Slugs are sorted and scores rounded, so the same collection always gives
    the same bytes (web servers keep their ETag; diffs stay readable).
    """
    return related_json_of_entries(related_json_entry(slug, picks[slug]) for slug in sorted(picks))


def related_json_entry(slug: str, picks: Sequence[RelatedPick]) -> str:
    """One article's entry of ``related.json``: kept by an incremental build for the articles it did not recompute."""
    # The bytes of json.dumps(..., ensure_ascii=False, indent=1), written out directly:
    # with indent, json falls back to its pure-Python encoder (a second per 10,000 articles).
    string = encode_basestring
    items = [
        f'  {{\n   "slug": {string(pick.slug)},\n   "title": {string(pick.title)},\n'
        f'   "url": {string(pick.url)},\n   "score": {_number(round(pick.score, 4))},\n'
        f'   "editor_pick": {"true" if pick.editor_pick else "false"}\n  }}'
        for pick in picks
    ]
    body = "[\n" + ",\n".join(items) + "\n ]" if items else "[]"
    return f" {string(slug)}: {body}"


def related_json_of_entries(entries: Iterable[str]) -> bytes:
    """``related.json`` from its entries (see :func:`related_json_entry`), given in slug order."""
    return b"".join(related_json_chunks(entries))


# Entries encoded per chunk: big enough for few writes, small enough to hold nothing of note.
_CHUNK_ENTRIES = 500


def related_json_chunks(entries: Iterable[str]) -> Iterator[bytes]:
    """The bytes of :func:`related_json_of_entries`, a few hundred entries at a time.

    Written a chunk at a time, the document (about 100 MB at 100,000 articles)
    is never whole in memory: its pieces, joined text and encoded bytes were
    a third of a cold build's peak.
    """
    first = True
    for batch in _batched(entries):
        yield (("{\n" if first else ",\n") + ",\n".join(batch)).encode("utf-8")
        first = False
    yield b"{}\n" if first else b"\n}\n"


def _batched(entries: Iterable[str]) -> Iterator[tuple[str, ...]]:
    pending = iter(entries)
    while batch := tuple(itertools.islice(pending, _CHUNK_ENTRIES)):
        yield batch


def _number(value: float) -> str:
    return json.dumps(value) if value != value or value in (float("inf"), float("-inf")) else float.__repr__(value)


def related_links(picks: Mapping[str, Sequence[RelatedPick]], per_entry: int) -> dict[str, tuple[str, ...]]:
    """The URLs each Atom entry links with ``rel="related"``: its top ``per_entry`` picks."""
    if per_entry <= 0:
        return {}
    return {slug: tuple(p.url for p in chosen[:per_entry]) for slug, chosen in picks.items() if chosen}
