"""related.json: the same bytes json.dumps gives, whatever the strings hold."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate._atomicfile import write_atomic_chunks
from syndicate._model import RelatedPick
from syndicate._related.output import _CHUNK_ENTRIES, related_json, related_json_chunks, related_json_entry

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


def test_written_in_chunks_the_same_bytes_and_an_unchanged_file_left_alone(tmp_path: Path) -> None:
    picks = {
        f"story-{n}": [RelatedPick(f"story-{n + 1}", f"Story </script> \u201c{n}\u201d", f"/s/{n}", n / 7)]
        for n in range(2 * _CHUNK_ENTRIES + 3)  # three chunks, the last one short
    }
    picks["empty"] = []
    target = tmp_path / "related.json"

    def chunks(chosen: dict[str, list[RelatedPick]]) -> Iterator[bytes]:
        return related_json_chunks(related_json_entry(slug, chosen[slug]) for slug in sorted(chosen))

    assert write_atomic_chunks(target, chunks(picks)) is True
    assert target.read_bytes() == _json_dumps(picks) == related_json(picks)
    os.utime(target, ns=(1, 1))
    assert write_atomic_chunks(target, chunks(picks)) is False  # same bytes: the file and its mtime are kept
    assert target.stat().st_mtime_ns == 1
    assert [p.name for p in tmp_path.iterdir()] == ["related.json"]  # no temporary file left behind
    del picks["empty"]
    assert write_atomic_chunks(target, chunks(picks)) is True
    assert target.read_bytes() == _json_dumps(picks)
    assert write_atomic_chunks(target, chunks({})) is True
    assert target.read_bytes() == b"{}\n"
