"""What the related index publishes: ``related.json`` and the Atom ``rel="related"`` links."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from json.encoder import encode_basestring  # type: ignore[attr-defined]

from .._atomicfile import write_atomic_chunks
from .._model import RelatedPick

RELATED_JSON = "related.json"


def related_json(picks: Mapping[str, Sequence[RelatedPick]]) -> bytes:
    """``{article slug: [{slug, title, url, score, editor_pick}, ...]}``, best first, byte-for-byte stable.

    Slugs are sorted and scores rounded, so the same collection always gives
    the same bytes (web servers keep their ETag; diffs stay readable).
    """
    return b"".join(related_json_chunks(picks))


def write_related_json(path: str | os.PathLike[str], picks: Mapping[str, Sequence[RelatedPick]]) -> bool:
    """Write :func:`related_json`'s bytes to ``path`` atomically, a chunk at a time; False if unchanged.

    Never whole in memory: at 100,000 articles the document is about 100 MB,
    and its pieces, the joined text and the encoded bytes together were a
    third of a build's peak memory.
    """
    return write_atomic_chunks(path, related_json_chunks(picks))


# Entries encoded per chunk: big enough for few writes, small enough to hold nothing of note.
_CHUNK_ENTRIES = 500


def related_json_chunks(picks: Mapping[str, Sequence[RelatedPick]]) -> Iterator[bytes]:
    """The bytes of :func:`related_json`, in pieces of a few hundred articles."""
    # The bytes of json.dumps(..., ensure_ascii=False, indent=1), written out directly:
    # with indent, json falls back to its pure-Python encoder (a second per 10,000 articles).
    slugs = sorted(picks)
    if not slugs:
        yield b"{}\n"
        return
    for start in range(0, len(slugs), _CHUNK_ENTRIES):
        entries = ",\n".join(_entry(slug, picks[slug]) for slug in slugs[start : start + _CHUNK_ENTRIES])
        yield ("{\n" if start == 0 else ",\n").encode() + entries.encode("utf-8")
    yield b"\n}\n"


def _entry(slug: str, chosen: Sequence[RelatedPick]) -> str:
    string = encode_basestring
    items = [
        f'  {{\n   "slug": {string(pick.slug)},\n   "title": {string(pick.title)},\n'
        f'   "url": {string(pick.url)},\n   "score": {_number(round(pick.score, 4))},\n'
        f'   "editor_pick": {"true" if pick.editor_pick else "false"}\n  }}'
        for pick in chosen
    ]
    body = "[\n" + ",\n".join(items) + "\n ]" if items else "[]"
    return f" {string(slug)}: {body}"


def _number(value: float) -> str:
    return json.dumps(value) if value != value or value in (float("inf"), float("-inf")) else float.__repr__(value)


def related_links(picks: Mapping[str, Sequence[RelatedPick]], per_entry: int) -> dict[str, tuple[str, ...]]:
    """The URLs each Atom entry links with ``rel="related"``: its top ``per_entry`` picks."""
    if per_entry <= 0:
        return {}
    return {slug: tuple(p.url for p in chosen[:per_entry]) for slug, chosen in picks.items() if chosen}
