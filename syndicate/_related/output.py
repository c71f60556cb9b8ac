"""What the related index publishes: ``related.json`` and the Atom ``rel="related"`` links."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
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
    listed = list(entries)
    text = "{\n" + ",\n".join(listed) + "\n}" if listed else "{}"
    return (text + "\n").encode("utf-8")


def _number(value: float) -> str:
    return json.dumps(value) if value != value or value in (float("inf"), float("-inf")) else float.__repr__(value)


def related_links(picks: Mapping[str, Sequence[RelatedPick]], per_entry: int) -> dict[str, tuple[str, ...]]:
    """The URLs each Atom entry links with ``rel="related"``: its top ``per_entry`` picks."""
    if per_entry <= 0:
        return {}
    return {slug: tuple(p.url for p in chosen[:per_entry]) for slug, chosen in picks.items() if chosen}
