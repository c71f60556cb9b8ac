"""related.json: the same bytes json.dumps gives, whatever the strings hold."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate._model import RelatedPick
from syndicate._related.output import related_json

# Any text a title or URL may hold except lone surrogates, which no UTF-8 output can carry.
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
_pick = st.builds(
    RelatedPick,
    slug=_text,
    title=_text,
    url=_text,
    score=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    editor_pick=st.booleans(),
)


def _json_dumps(picks: dict[str, list[RelatedPick]]) -> bytes:
    """What related.json has always been: json's own encoder with indent=1."""
    document = {
        slug: [
            {"slug": p.slug, "title": p.title, "url": p.url, "score": round(p.score, 4), "editor_pick": p.editor_pick}
            for p in chosen
        ]
        for slug, chosen in sorted(picks.items())
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_text, st.lists(_pick, max_size=4), max_size=6))
def test_related_json_is_json_dumps_byte_for_byte(picks: dict[str, list[RelatedPick]]) -> None:
    assert related_json(picks) == _json_dumps(picks)
