"""The text boundary: what outside or pasted text must satisfy before it enters the model.

Every string that reaches a feed, an email or the state database from a place
we do not control (an outside feed, desk copy pasted into an article, a header)
passes through here first. Two rules:

* **XML-forbidden characters are removed.** XML 1.0 allows only tab, newline,
  carriage return, U+0020–U+D7FF, U+E000–U+FFFD and U+10000–U+10FFFF. lxml (and
  so feedgen) refuses any other character with "All strings must be XML
  compatible", which would stop a whole build; a feed reader would refuse the
  feed. Form feed and vertical tab, common in pasted copy, become a space
  rather than vanishing, so the words on either side stay apart.
* **Lengths are capped.** An outside title of five million characters is not a
  title; the cap keeps feeds and emails to a sane size and says so.

The functions return what they changed, so a loader can report a problem that
names the file and line (or source and entry) instead of changing text silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._errors import InvalidArgumentError

# Characters XML 1.0 forbids (section 2.2), except the two that read as spacing.
_FORBIDDEN = re.compile("[\x00-\x08\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_SPACING = re.compile("[\x0b\x0c]")
_ANY_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class ForbiddenCharacter:
    """One XML-forbidden character found in a text, with where it stands (1-based)."""

    line: int
    column: int
    codepoint: int

    def describe(self) -> str:
        return f"line {self.line}, column {self.column}: U+{self.codepoint:04X}"


# Every byte but the control characters XML forbids: what ``bytes.translate`` deletes to leave only those.
_NOT_FORBIDDEN_BYTES = bytes(code for code in range(256) if not _ANY_FORBIDDEN.match(chr(code)))
# Below this length a regular expression answers faster than encoding the text first.
_SHORT = 256


def has_forbidden(text: str) -> bool:
    """Whether ``text`` holds a character that XML 1.0 (and so every feed) cannot carry."""
    if len(text) < _SHORT:
        return _ANY_FORBIDDEN.search(text) is not None
    # A whole article's text, checked on every load: the regular expression tests each character
    # against a class (about 14 us for 5 KB); the bytes below take about 2 us. UTF-8 encodes every
    # code point but a surrogate (so an encoding error is one); deleting every allowed byte leaves
    # only forbidden control characters (UTF-8 never puts an ASCII byte inside a longer sequence);
    # U+FFFE and U+FFFF are looked for as they are.
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return bool(encoded.translate(None, _NOT_FORBIDDEN_BYTES)) or "\ufffe" in text or "\uffff" in text


def find_forbidden(text: str, limit: int = 10) -> list[ForbiddenCharacter]:
    """The first ``limit`` XML-forbidden characters of ``text`` and where they stand."""
    found: list[ForbiddenCharacter] = []
    if not has_forbidden(text):
        return found
    for match in _ANY_FORBIDDEN.finditer(text):
        start = match.start()
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        found.append(ForbiddenCharacter(line, column, ord(match.group())))
        if len(found) >= limit:
            break
    return found


def xml_safe(text: str) -> str:
    """``text`` with every XML-forbidden character removed (form feed and vertical tab become a space)."""
    if not has_forbidden(text):
        return text
    return _FORBIDDEN.sub("", _SPACING.sub(" ", text))


def capped(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to at most ``limit`` characters (ending in an ellipsis), and whether it was cut.

    The cut falls on a word boundary when one is near, so a capped title still reads.
    """
    if limit <= 0:
        raise InvalidArgumentError(f"limit must be positive, not {limit}")
    if len(text) <= limit:
        return text, False
    if limit == 1:
        return ELLIPSIS, True
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= (limit * 3) // 4:
        head = head[:space]
    return head.rstrip() + ELLIPSIS, True


def whole_number(text: str, max_digits: int = 18) -> int | None:
    """``text`` as a whole number when it is 1 to ``max_digits`` ASCII digits, else ``None``.

    ``str.isdigit()`` is no test for outside input: "²" and "٣" are digits to
    it, and ``int("²")`` raises. The digit cap keeps a number from a token, a
    header or a form within what the caller can use.
    """
    if not 0 < len(text) <= max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def guarded(text: str, limit: int) -> tuple[str, list[str]]:
    """``text`` made XML-safe and capped; with a note for each change made, for a problem report."""
    notes: list[str] = []
    forbidden = find_forbidden(text, limit=3)
    if forbidden:
        where = "; ".join(item.describe() for item in forbidden)
        notes.append(f"removed characters that XML cannot carry ({where})")
        text = xml_safe(text)
    text, cut = capped(text, limit)
    if cut:
        notes.append(f"cut to {limit} characters")
    return text, notes
