"""Where front matter ends: ``fenced`` finds what the one regular expression it replaced matched."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syndicate._collection.markdown import fenced

# The pattern split_front_matter used before: the same group and end are expected of fenced().
ONE_PATTERN = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*\r?$\n?", re.S | re.M)

PIECES = st.sampled_from(
    ["---", "...", "--", "-", ".", " ", "\t", "\r", "\n", "\r\n", "title: x", "#", "a", "\x85", "\u2028", "\f"]
)
TEXT = st.lists(st.one_of(PIECES, PIECES, PIECES, st.characters()), max_size=30).map("".join)


def _expected(text: str) -> tuple[int, int, int] | None:
    match = ONE_PATTERN.match(text)
    return None if match is None else (match.start(1), match.end(1), match.end())


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
@example("---\ntitle: x\n---\nbody")
@example("---\n---\n")
@example("--- \r\ntitle: x\r\n... \t\r\nbody")
@example("---\ntitle: x\n---")
@example("---\ntitle: x\n----\n---x\n ---\n...\n")
@example("---\n\n---\r\r\n---\n")
def test_same_front_matter_and_body_as_the_one_pattern(text: str) -> None:
    assert fenced(text) == _expected(text)


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT)
def test_same_with_an_opening_line(front: str, rest: str) -> None:
    text = "---\n" + front + rest
    assert fenced(text) == _expected(text)
