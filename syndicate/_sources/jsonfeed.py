"""Outside JSON Feeds (1.0 and 1.1) read into the same raw entries as RSS and Atom.

feedparser reads XML feeds only, and a JSON Feed would be refused as "not a
feed". The format is small enough to map field by field
(https://www.jsonfeed.org/version/1.1/): from here on, a JSON Feed's items go
through the same normalising, sanitising, de-duplication and merging as any
other source's entries.

Everything in the document is untrusted: a field of the wrong type is ignored
(an item without a usable ``id``, ``url`` or text is still taken when it has a
title or content, as with RSS), dates are parsed with bounds, and a document
that is not a JSON Feed at all raises :class:`~syndicate._errors.SourceError`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .._errors import SourceError
from .parse import ParsedFeed, RawEntry

JSON_FEED_TYPES = ("application/feed+json", "application/json")
_VERSION_PREFIX = "https://jsonfeed.org/version/"
# Only this much of the start is looked at to tell a JSON Feed from XML.
_SNIFF = 4096
_MAX_AUTHORS = 10


def looks_like_json_feed(body: bytes, content_type: str = "") -> bool:
    """Whether ``body`` is (meant to be) a JSON Feed: by its media type, or a JSON object naming the version."""
    kind = content_type.split(";")[0].strip().lower()
    head = body[:_SNIFF].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        return False
    return kind in JSON_FEED_TYPES or b"jsonfeed.org/version" in head


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _identifier(value: Any) -> str:
    # The spec says string; real feeds write numbers too. Anything else is no id.
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        return str(value)
    return _text(value).strip()


def _date(value: Any) -> tuple[str, tuple[int, ...] | None]:
    """RFC 3339 text and its UTC fields, or nothing for a missing or impossible date."""
    text = _text(value).strip()
    if not text or len(text) > 64:
        return "", None
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return "", None
    if moment.tzinfo is None:
        # Zone-less dates are read in the source's zone by the normaliser, as feedparser's are.
        return text, moment.timetuple()[:6]
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return "", None
    return text, utc.timetuple()[:6]


def _authors(document: dict[str, Any], item: dict[str, Any]) -> str:
    """The item's author names (1.1 ``authors``, else 1.0 ``author``), falling back to the feed's."""
    for holder in (item, document):
        people = holder.get("authors")
        if not isinstance(people, list):
            single = holder.get("author")
            people = [single] if isinstance(single, dict) else []
        names = [_text(person.get("name")).strip() for person in people[:_MAX_AUTHORS] if isinstance(person, dict)]
        names = [name for name in names if name]
        if names:
            return ", ".join(names)
    return ""


def _images(item: dict[str, Any]) -> tuple[str, ...]:
    found = [_text(item.get("image")), _text(item.get("banner_image"))]
    attachments = item.get("attachments")
    if isinstance(attachments, list):
        for attachment in attachments[:20]:
            if isinstance(attachment, dict) and _text(attachment.get("mime_type")).startswith("image/"):
                found.append(_text(attachment.get("url")))
    return tuple(url.strip() for url in found if url.strip())


def _raw_entry(document: dict[str, Any], item: dict[str, Any], base: str) -> RawEntry | None:
    title = _text(item.get("title"))
    content_html = _text(item.get("content_html"))
    content_text = _text(item.get("content_text"))
    summary = _text(item.get("summary"))
    if not (title or content_html or content_text or summary):
        return None
    date_text, date_utc = _date(item.get("date_published"))
    if date_utc is None:
        date_text, date_utc = _date(item.get("date_modified"))
    # Plain text is HTML-escaped so the normaliser, which takes HTML, keeps it as written.
    content = content_html or (
        "<p>" + content_text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "</p>"
        if content_text
        else ""
    )
    return RawEntry(
        guid=_identifier(item.get("id")),
        title=title,
        title_is_html=False,
        link=(_text(item.get("url")) or _text(item.get("external_url"))).strip(),
        base=base,
        summary=summary,
        content=content,
        date_text=date_text,
        date_utc=date_utc,
        author=_authors(document, item),
        images=_images(item),
    )


def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    """Parse one JSON Feed document. Raises :class:`SourceError` naming ``url``."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SourceError(url, f"not a JSON Feed: invalid JSON ({str(exc)[:200]})") from None
    if not isinstance(document, dict):
        raise SourceError(url, "not a JSON Feed: the document is not a JSON object")
    version = _text(document.get("version"))
    items = document.get("items")
    if not version.startswith(_VERSION_PREFIX) or not isinstance(items, list):
        raise SourceError(url, "not a JSON Feed: no jsonfeed.org version and items list")
    problems: list[str] = []
    home = _text(document.get("home_page_url")).strip()
    entries: list[RawEntry] = []
    skipped = 0
    for item in items:
        entry = _raw_entry(document, item, home or url) if isinstance(item, dict) else None
        if entry is None:
            skipped += 1
        else:
            entries.append(entry)
    if skipped:
        problems.append(f"{skipped} item(s) skipped: not an object, or no title and no content")
    if items and not entries:
        raise SourceError(url, "malformed JSON Feed with no usable items")
    number = version.removeprefix(_VERSION_PREFIX)
    return ParsedFeed(
        url=url,
        version=f"json{number.replace('.', '')}"[:16],
        title=_text(document.get("title")),
        link=home,
        self_url=_text(document.get("feed_url")).strip(),
        entries=tuple(entries),
        problems=tuple(problems),
    )
