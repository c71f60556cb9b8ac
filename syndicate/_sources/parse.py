"""Parsing fetched bytes into raw entries with feedparser, which never fetches.

feedparser is given bytes and the response headers only; its own HTTP has no
timeout and no size limit, so it is never handed a URL. Its HTML sanitiser
and relative-URI resolution are off: they cost most of its time, and
:mod:`~syndicate._sources.normalize` does both with nh3 and urljoin.

Outcomes: a feed (possibly with problems feedparser recovered from, kept and
reported), or :class:`~syndicate._errors.SourceError` for a page that is not
a feed, or a feed too broken to give any entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .._errors import SourceError

# A DOCTYPE whose internal subset declares entities: the vehicle of "billion
# laughs" expansion and of external entities (XXE). Feeds have no business
# declaring entities, so the whole declaration goes before any parser sees it.
_ENTITY_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*\[.*?<!ENTITY.*?\]\s*>", re.IGNORECASE | re.DOTALL)
# A character reference (&#1; &#x1B; &#xD800;) to a code point XML cannot carry:
# feedparser would decode it into the entry (or, for a surrogate, crash).
_CHARACTER_REFERENCE = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
# Raw control bytes XML forbids. In UTF-8 and the other ASCII-compatible
# encodings these bytes never occur inside a multi-byte character.
_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f]")
_WIDE_ENCODING_START = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\x00<", b"<\x00")
# feedparser looks for an e-mail address in every author-like element with a
# regular expression that takes quadratic time on a long run of letters: a
# 50 KB <author> costs ten seconds, a megabyte hours. Such elements are cut
# to AUTHOR_BYTES before parsing (normalising caps them far shorter anyway).
AUTHOR_BYTES = 1024
_AUTHOR_TEXT = re.compile(
    rb"(<(?:[\w.-]+:)?(?:author|creator|name|email|managingEditor|webMaster|publisher|contributor)(?:\s[^>]*)?>)"
    rb"(<!\[CDATA\[)?([^<]{%d,})" % (AUTHOR_BYTES + 1),
    re.IGNORECASE,
)
_HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.I | re.S)


@dataclass(frozen=True, slots=True)
class RawEntry:
    """The parts of a feedparser entry that normalising needs, picklable."""

    guid: str = ""
    title: str = ""
    title_is_html: bool = False
    link: str = ""
    base: str = ""
    summary: str = ""
    content: str = ""
    date_text: str = ""
    date_utc: tuple[int, ...] | None = None  # feedparser's reading, which takes zone-less dates as UTC
    author: str = ""
    images: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's channel data, its entries, and what was wrong with it."""

    url: str
    version: str
    title: str = ""
    link: str = ""
    self_url: str = ""
    entries: tuple[RawEntry, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _images(entry: Any) -> tuple[str, ...]:
    found: list[str] = []
    for thumb in entry.get("media_thumbnail", []) or []:
        found.append(_text(thumb.get("url")))
    for media in entry.get("media_content", []) or []:
        kind = _text(media.get("type")) or ""
        if media.get("medium") == "image" or kind.startswith("image/"):
            found.append(_text(media.get("url")))
    for link in entry.get("links", []) or []:
        if link.get("rel") == "enclosure" and _text(link.get("type")).startswith("image/"):
            found.append(_text(link.get("href")))
    return tuple(url for url in found if url)


def _raw_entry(entry: Any) -> RawEntry:
    title_detail = entry.get("title_detail") or {}
    summary_detail = entry.get("summary_detail") or {}
    contents = entry.get("content") or []
    date_text, date_utc = "", None
    for key in ("published", "updated", "created"):
        if entry.get(f"{key}_parsed"):
            date_text, date_utc = _text(entry.get(key)), tuple(entry[f"{key}_parsed"])
            break
    author = _text(entry.get("author"))
    if not author and entry.get("authors"):
        author = _text(entry["authors"][0].get("name"))
    return RawEntry(
        guid=_text(entry.get("id")).strip(),
        title=_text(entry.get("title")),
        title_is_html=_text(title_detail.get("type")) in ("text/html", "application/xhtml+xml"),
        link=_text(entry.get("link")).strip(),
        base=_text(title_detail.get("base")) or _text(summary_detail.get("base")),
        summary=_text(entry.get("summary")),
        content=_text(contents[0].get("value")) if contents else "",
        date_text=date_text,
        date_utc=date_utc,
        author=author,
        images=_images(entry),
    )


def strip_entity_declarations(body: bytes) -> tuple[bytes, bool]:
    """``body`` without a DOCTYPE that declares entities; True if one was removed."""
    head = body[:65536]
    match = _ENTITY_DOCTYPE.search(head)
    if match is None:
        if b"<!ENTITY" in body[:4096].upper():
            # Unterminated or odd DOCTYPE with entities: refuse rather than guess.
            raise SourceError("", "declares XML entities in a DOCTYPE that cannot be removed safely")
        return body, False
    return body[: match.start()] + body[match.end() :], True


def _xml_allows(codepoint: int) -> bool:
    return (
        codepoint in (0x9, 0xA, 0xD)
        or 0x20 <= codepoint <= 0xD7FF
        or 0xE000 <= codepoint <= 0xFFFD
        or 0x10000 <= codepoint <= 0x10FFFF
    )


def strip_forbidden_characters(body: bytes) -> tuple[bytes, int]:
    """``body`` without references to, or raw bytes of, characters XML cannot carry; and how many went.

    A UTF-16 or UTF-32 document is left alone (its bytes are not characters);
    normalising removes whatever such a document still carries.
    """
    removed = 0

    def replace(match: re.Match[bytes]) -> bytes:
        nonlocal removed
        hexadecimal, decimal = match.groups()
        codepoint = int(hexadecimal, 16) if hexadecimal else int(decimal)
        if _xml_allows(codepoint):
            return match.group(0)
        removed += 1
        return b""

    if b"&#" in body:
        body = _CHARACTER_REFERENCE.sub(replace, body)
    if not body.startswith(_WIDE_ENCODING_START) and b"\x00" not in body[:4]:
        body, raw = _CONTROL_BYTES.subn(b"", body)
        removed += raw
    return body, removed


def cut_author_elements(body: bytes) -> tuple[bytes, int]:
    """``body`` with each author-like element's text cut to :data:`AUTHOR_BYTES`; and how many were cut."""

    def cut(match: re.Match[bytes]) -> bytes:
        start, cdata, text = match.groups()
        end = AUTHOR_BYTES
        while end > 0 and text[end] & 0xC0 == 0x80:  # never split a UTF-8 character
            end -= 1
        return start + (cdata or b"") + text[:end] + (b"]]>" if cdata else b"")

    return _AUTHOR_TEXT.subn(cut, body)


def looks_like_html(body: bytes, content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "text/html" or bool(_HTML_START.match(body[:2048]))


def parse_feed(body: bytes, headers: dict[str, str], url: str) -> ParsedFeed:
    """Parse one feed document (RSS, Atom, RDF or JSON Feed). Raises :class:`SourceError` naming ``url``."""
    from .jsonfeed import looks_like_json_feed, parse_json_feed  # a module of its own, which imports this one

    content_type = next((value for key, value in headers.items() if key.lower() == "content-type"), "")
    if looks_like_json_feed(body, content_type):
        return parse_json_feed(body, url)
    problems: list[str] = []
    try:
        body, stripped = strip_entity_declarations(body)
    except SourceError as exc:
        raise SourceError(url, exc.reason) from None
    if stripped:
        problems.append("the DOCTYPE declared XML entities; removed unexpanded (entity expansion / XXE guard)")
    body, removed = strip_forbidden_characters(body)
    body, authors_cut = cut_author_elements(body)
    if authors_cut:
        problems.append(f"{authors_cut} author elements were longer than {AUTHOR_BYTES} bytes; cut before parsing")
    if removed:
        problems.append(f"{removed} characters XML cannot carry (control characters, surrogates) were removed")
    import feedparser  # here, not at the top: only fetching parses feeds (in worker processes)

    try:
        parsed = feedparser.parse(
            body,
            response_headers={k.lower(): v for k, v in headers.items()},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser's own bugs on hostile input are this source's failure, not the run's
        raise SourceError(url, f"feedparser could not read it: {type(exc).__name__}: {exc}") from None
    version = _text(parsed.get("version"))
    entries = parsed.get("entries") or []
    if not version and not entries:
        if looks_like_html(body, headers.get("content-type", "")):
            raise SourceError(url, "an HTML page, not a feed (is xmlUrl the site's address instead of its feed's?)")
        reason = parsed.get("bozo_exception")
        raise SourceError(url, f"not a feed: {reason}" if reason else "not a feed (no RSS, Atom or RDF found)")
    if parsed.get("bozo"):
        reason = str(parsed.get("bozo_exception") or "malformed")
        if not entries:
            raise SourceError(url, f"malformed feed with no usable entries: {reason}")
        problems.append(f"malformed feed, {len(entries)} entries recovered: {reason}")
    channel = parsed.get("feed") or {}
    self_url = ""
    for link in channel.get("links", []) or []:
        if link.get("rel") == "self":
            self_url = _text(link.get("href"))
    return ParsedFeed(
        url=url,
        version=version,
        title=_text(channel.get("title")),
        link=_text(channel.get("link")),
        self_url=self_url,
        entries=tuple(_raw_entry(entry) for entry in entries),
        problems=tuple(problems),
    )
