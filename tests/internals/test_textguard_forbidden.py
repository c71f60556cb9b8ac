"""Finding XML-forbidden characters: the check on whole article texts agrees with the character class.

Long texts are checked through their UTF-8 bytes (faster than the regular
expression); these tests hold that check to the class XML 1.0 defines, at
every length and wherever the character stands.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from syndicate._collection.textcheck import has_forbidden_value
from syndicate._textguard import find_forbidden, has_forbidden, xml_safe

# XML 1.0's Char production, section 2.2: what may stand in a document.
XML_CHAR = re.compile("[\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SPECIAL = st.sampled_from(
    ["\x00", "\x08", "\x0b", "\x0c", "\x1f", "\x7f", "\x85", "\ud800", "\udfff", "\ufffe", "\uffff"]
)
TEXT = st.lists(st.one_of(st.characters(), SPECIAL), max_size=8).map("".join)


def _forbidden_by_definition(text: str) -> bool:
    return any(not XML_CHAR.match(ch) for ch in text)


@given(TEXT, st.sampled_from([0, 1, 255, 256, 257, 5000]), st.sampled_from(["a", "é", "東", "😀"]))
def test_agrees_with_xml_at_every_length(text: str, padding: int, filler: str) -> None:
    for padded in (text + filler * padding, filler * padding + text, filler * padding + text + filler * padding):
        assert has_forbidden(padded) == _forbidden_by_definition(padded)
        assert bool(find_forbidden(padded)) == _forbidden_by_definition(padded)
        assert not has_forbidden(xml_safe(padded))


def test_each_forbidden_character_in_a_long_text() -> None:
    for code in [*range(0x20), 0xFFFE, 0xFFFF, 0xD800, 0xDBFF, 0xDC00, 0xDFFF]:
        text = "x" * 300 + chr(code) + "y" * 300
        assert has_forbidden(text) == (chr(code) not in "\t\n\r"), hex(code)


@given(
    st.recursive(
        st.one_of(st.none(), st.integers(), TEXT), lambda inner: st.lists(inner) | st.dictionaries(TEXT, inner)
    )
)
def test_a_value_needs_cleaning_when_any_string_in_it_does(value: object) -> None:
    def strings(item: object) -> list[str]:
        if isinstance(item, str):
            return [item]
        if isinstance(item, list):
            return [text for part in item for text in strings(part)]
        if isinstance(item, dict):
            return [text for key, part in item.items() for text in strings(key) + strings(part)]
        return []

    assert has_forbidden_value(value) == any(_forbidden_by_definition(text) for text in strings(value))
