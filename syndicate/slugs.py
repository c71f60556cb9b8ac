"""Slugs for URLs and folder names, and keys for matching headlines.

Headlines pasted from a CMS differ from the stored title in quotes, dashes,
case and punctuation; :func:`headline_key` folds those away so that
``“Dune” Returns`` and ``"dune" returns!`` match.
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_PUNCT_TRANSLATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "&": " and ",
    }
)


def _ascii_fold(text: str) -> str:
    if text.isascii():  # nothing to fold (most headlines); the loop below is per character
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slugify(text: str) -> str:
    """A lowercase ASCII slug: ``"Almodóvar & Co."`` -> ``"almodovar-and-co"``."""
    folded = _ascii_fold(text.translate(_PUNCT_TRANSLATION)).lower()
    folded = folded.replace("'", "")
    slug = _NON_WORD.sub("-", folded).strip("-")
    slug = re.sub(r"[^a-z0-9-]", "", slug)
    return re.sub(r"-{2,}", "-", slug) or "untitled"


def headline_key(headline: str) -> str:
    """A key equal for headlines that differ only in quotes, case or punctuation."""
    folded = _ascii_fold(headline.translate(_PUNCT_TRANSLATION)).casefold()
    folded = folded.replace("'", "")
    return " ".join(_NON_WORD.sub(" ", folded).split())
