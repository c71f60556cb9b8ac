"""Per-recipient substitution into an issue rendered once.

The rendered HTML and text are split on the markers of :mod:`.placeholders`
once; each recipient then costs one ``str.join`` of the pieces, with no
template, MJML or CSS work. Values for the HTML part must be HTML-escaped,
which :func:`recipient_values` does.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from . import placeholders

_MARKER = re.compile("|".join(re.escape(m) for m in placeholders.ALL))


class Personaliser:
    """A rendered part compiled for fast substitution of the per-recipient markers."""

    __slots__ = ("_markers", "_pieces")

    def __init__(self, rendered: str) -> None:
        self._pieces: list[str] = []
        self._markers: list[str] = []
        position = 0
        for match in _MARKER.finditer(rendered):
            self._pieces.append(rendered[position : match.start()])
            self._markers.append(match.group(0))
            position = match.end()
        self._pieces.append(rendered[position:])

    def fill(self, values: Mapping[str, str]) -> str:
        """The part for one recipient; ``values`` maps each marker to its (escaped) text."""
        pieces = self._pieces
        out = [pieces[0]]
        for marker, piece in zip(self._markers, pieces[1:], strict=True):
            out.append(values[marker])
            out.append(piece)
        return "".join(out)


def greeting(name: str) -> str:
    first = name.split()[0] if name.strip() else ""
    return f"Hi {first}," if first else "Hello,"


def recipient_values(name: str, email: str, unsubscribe_url: str, *, for_html: bool) -> dict[str, str]:
    """The marker values for one recipient, escaped for HTML when ``for_html``."""
    escape = (lambda s: html.escape(s, quote=True)) if for_html else (lambda s: s)
    return {
        placeholders.GREETING: escape(greeting(name)),
        placeholders.NAME: escape(name),
        placeholders.EMAIL: escape(email),
        placeholders.UNSUBSCRIBE_URL: escape(unsubscribe_url),
    }
