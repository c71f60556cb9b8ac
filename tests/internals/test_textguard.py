"""The text boundary: numbers from tokens, headers and forms are whole numbers or nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syndicate._textguard import whole_number


def test_digits_that_int_refuses_are_not_numbers() -> None:
    # str.isdigit() says yes to each of these; int() raises on the first two.
    for text in ("\u00b2", "\u2460", "1\u00b2", "", " 1", "1 ", "-1", "+1", "1.0"):
        assert whole_number(text) is None, text
    assert whole_number("\u0661\u0662") is None  # Arabic-Indic digits: int() reads them, a token must not
    assert whole_number("0042") == 42 and whole_number("9" * 18) == 10**18 - 1
    assert whole_number("9" * 19) is None and whole_number("123", 2) is None


@given(st.text(max_size=24))
def test_whole_numbers_are_ascii_digits_and_nothing_else(text: str) -> None:
    number = whole_number(text, 6)
    if number is None:
        assert not (text.isascii() and text.isdigit() and 0 < len(text) <= 6)
    else:
        assert str(number).zfill(len(text)) == text and 0 <= number < 10**6
