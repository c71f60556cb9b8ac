"""Slugs for URLs and folder names, and keys for matching headlines.

Headlines pasted from a CMS differ from the stored title in quotes, dashes,
case and punctuation; :func:`headline_key` folds those away so that
``“Dune” Returns`` and ``"dune" returns!`` match.

Slugs name folders and URLs, so they must be short, ASCII, never empty and
never shared by two different names. The rules, each deterministic (a name
always gets the same slug, whatever the file order):

* ASCII and accented Latin read as before (``Almodóvar & Co.`` ->
  ``almodovar-and-co``): published URLs never change.
* Letters the accent fold cannot spell (ß, ø, Cyrillic, CJK, emoji) are
  transliterated with anyascii: ``東京`` -> ``dongjing``, ``Москва`` -> ``moskva``.
* A name whose meaning lies in symbols the slug drops (``C++``, ``C#``,
  ``50%``) gets a short hash of the name: ``c-5b3e8f0a``; a name with nothing
  sluggable at all (``!!!``) is that hash alone, never ``untitled``.
* A slug longer than :data:`MAX_SLUG` is cut and ends in the hash, so a
  400-character tag still makes a folder the file system accepts.
* Article slugs (URLs already published) follow :func:`article_slug`: as
  before, except never empty and never too long.
* Two different names that still share a slug (``José Ruiz`` and ``Jose
  Ruiz``) are told apart by :class:`~syndicate._collection.Collection`, which
  gives all but one of them a hash suffix and warns (see :func:`name_key`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from anyascii import anyascii

# Folder names allow 255 bytes; a URL segment past this is unreadable anyway.
MAX_SLUG = 100
_HASH_LENGTH = 8
# Characters that carry a name's meaning although a slug cannot spell them: C++ is not C, C# is not C.
_MEANINGFUL_SYMBOL = re.compile(r"[+#@%$*=<>~^|]")

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


def name_key(text: str) -> str:
    """What makes two names the same name: case, spacing and ordinary punctuation aside.

    ``Box Office`` and ``box-office`` share a key (one tag); ``José Ruiz`` and
    ``Jose Ruiz`` do not, nor do ``C++`` and ``C#``.
    """
    folded = unicodedata.normalize("NFC", text.translate(_PUNCT_TRANSLATION)).casefold()
    return "".join(
        ch for ch in folded if ch.isalnum() or _MEANINGFUL_SYMBOL.match(ch) or unicodedata.category(ch)[0] in "MS"
    )


def name_hash(text: str) -> str:
    """A short, stable hash of a name (by its :func:`name_key`), for slug suffixes."""
    key = name_key(text) or " ".join(text.split())
    data = key.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=_HASH_LENGTH // 2).hexdigest()


def with_hash(slug: str, text: str) -> str:
    """``slug`` ending in the hash of ``text``, cut so the whole stays within :data:`MAX_SLUG`."""
    head = slug[: MAX_SLUG - _HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{name_hash(text)}" if head else name_hash(text)


def _spelled(text: str, transliterate: bool) -> str:
    folded = _ascii_fold(text.translate(_PUNCT_TRANSLATION))
    if transliterate and not folded.isascii():
        # Only what the accent fold could not spell: an accented Latin name keeps its old slug.
        folded = anyascii(folded)
    folded = folded.lower().replace("'", "")
    slug = _NON_WORD.sub("-", folded).strip("-")
    slug = re.sub(r"[^a-z0-9-]", "", slug)
    return re.sub(r"-{2,}", "-", slug).strip("-")


def slugify(text: str) -> str:
    """A tag's or author's slug: ``"Almodóvar & Co."`` -> ``"almodovar-and-co"`` (see the module's rules)."""
    slug = _spelled(text, transliterate=True)
    if not slug or _MEANINGFUL_SYMBOL.search(text) or len(slug) > MAX_SLUG:
        return with_hash(slug, text)
    return slug


def article_slug(text: str) -> str:
    """An article's slug (from its file name or front matter ``slug``): its URL, so it changes least.

    Exactly the slug it always had, unless that was empty (``untitled`` once:
    then transliterated, else the hash) or too long (cut, with the hash).
    Articles need no symbol rule: two articles on one slug are reported as a
    duplicate already, and an existing article's URL must not move.
    """
    slug = _spelled(text, transliterate=False) or _spelled(text, transliterate=True)
    if not slug or len(slug) > MAX_SLUG:
        return with_hash(slug, text)
    return slug


def headline_key(headline: str) -> str:
    """A key equal for headlines that differ only in quotes, case or punctuation."""
    folded = _ascii_fold(headline.translate(_PUNCT_TRANSLATION)).casefold()
    folded = folded.replace("'", "")
    return " ".join(_NON_WORD.sub(" ", folded).split())
