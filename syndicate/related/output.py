"""What the related index publishes: ``related.json`` and the Atom ``rel="related"`` links."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from ..model import RelatedPick

RELATED_JSON = "related.json"


def related_json(picks: Mapping[str, Sequence[RelatedPick]]) -> bytes:
    """``{article slug: [{slug, title, url, score, editor_pick}, ...]}``, best first, byte-for-byte stable.

    Slugs are sorted and scores rounded, so the same collection always gives
    the same bytes (web servers keep their ETag; diffs stay readable).
    """
    data = {
        slug: [
            {
                "slug": pick.slug,
                "title": pick.title,
                "url": pick.url,
                "score": round(pick.score, 4),
                "editor_pick": pick.editor_pick,
            }
            for pick in picks[slug]
        ]
        for slug in sorted(picks)
    }
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def related_links(picks: Mapping[str, Sequence[RelatedPick]], per_entry: int) -> dict[str, tuple[str, ...]]:
    """The URLs each Atom entry links with ``rel="related"``: its top ``per_entry`` picks."""
    if per_entry <= 0:
        return {}
    return {slug: tuple(p.url for p in chosen[:per_entry]) for slug, chosen in picks.items() if chosen}
