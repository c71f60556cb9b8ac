"""Parsing fetched bytes into raw entries with feedparser, which never fetches.

feedparser is given bytes and the response headers only; its own HTTP has no
timeout and no size limit, so it is never handed a URL. Its HTML sanitiser
and relative-URI resolution are off: they cost most of its time, and
:mod:`~syndicate.sources.normalize` does both with nh3 and urljoin.

Outcomes: a feed (possibly with problems feedparser recovered from, kept and
reported), or :class:`~syndicate.errors.SourceError` for a page that is not
a feed, or a feed too broken to give any entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SourceError

# A DOCTYPE whose internal subset declares entities: the vehicle of "billion
# laughs" expansion and of external entities (XXE). Feeds have no business
# declaring entities, so the whole declaration goes before any parser sees it.
_ENTITY_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*\[.*?<!ENTITY.*?\]\s*>", re.IGNORECASE | re.DOTALL)
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
    import feedparser  # here, not at the top: only fetching parses feeds (in worker processes)

    parsed = feedparser.parse(
        body,
        response_headers={k.lower(): v for k, v in headers.items()},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
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
