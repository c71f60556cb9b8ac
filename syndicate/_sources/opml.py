"""The list of outside feeds as OPML 2.0: read it, write it.

Every feed reader imports and exports OPML, so that is the format of
``feeds/sources.opml``. Each ``<outline>`` with an ``xmlUrl`` is a source;
syndicate's per-source settings are extra attributes on it, which other
readers ignore: ``category``, ``maxItems``, ``keywords`` (comma-separated),
``weight`` and ``timezone``. Outlines nested in a folder outline take the
folder's title as their category unless they name one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from .._atomicfile import write_atomic
from .._errors import SourceError
from .._model import Source
from .._textguard import capped

# Bounds on what an imported OPML file can set (``sources import`` reads files from elsewhere).
TITLE_LIMIT = 1_000
CATEGORY_LIMIT = 200
URL_LIMIT = 2_048
KEYWORDS_LIMIT = 100  # keywords per source
KEYWORD_LIMIT = 100  # characters per keyword


def _number(value: str | None, kind: type[int] | type[float], where: str, attribute: str) -> float | int | None:
    if value is None or value.strip() == "":
        return None
    try:
        number = kind(value.strip())
    except ValueError:
        raise SourceError(where, f"{attribute}={value!r} is not a number") from None
    if not math.isfinite(number) or number <= 0:
        raise SourceError(where, f"{attribute}={value!r} must be greater than 0")
    return number


def _source_from_outline(outline: etree._Element, folder: str, where: str) -> Source:
    url = (outline.get("xmlUrl") or "").strip()
    if len(url) > URL_LIMIT:
        raise SourceError(f"{where}: outline {url[:80]!r}…", f"xmlUrl is longer than {URL_LIMIT} characters")
    place = f"{where}: outline {url!r}"
    max_items = _number(outline.get("maxItems"), int, place, "maxItems")
    weight = _number(outline.get("weight"), float, place, "weight")
    timezone = (outline.get("timezone") or "").strip()
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SourceError(place, f"timezone={timezone!r} is not an IANA timezone name") from None
    keywords = tuple(k.strip() for k in (outline.get("keywords") or "").split(",") if k.strip())
    if len(keywords) > KEYWORDS_LIMIT or any(len(k) > KEYWORD_LIMIT for k in keywords):
        raise SourceError(
            place, f"keywords: at most {KEYWORDS_LIMIT} keywords of at most {KEYWORD_LIMIT} characters each"
        )
    html_url = (outline.get("htmlUrl") or "").strip()
    return Source(
        url=url,
        # A blank title falls back like a missing one: a source always has a name to show.
        title=capped((outline.get("title") or "").strip() or (outline.get("text") or "").strip() or url, TITLE_LIMIT)[
            0
        ],
        html_url=html_url if len(html_url) <= URL_LIMIT else "",
        category=capped((outline.get("category") or folder).strip(), CATEGORY_LIMIT)[0],
        max_items=int(max_items) if max_items is not None else None,
        keywords=keywords,
        weight=float(weight) if weight is not None else 1.0,
        timezone=timezone,
    )


def parse_opml(data: bytes, where: str = "sources.opml") -> list[Source]:
    """The sources of an OPML document; raises :class:`SourceError` naming ``where``.

    The parser resolves no entities and loads no DTD, so an OPML file from
    elsewhere (``sources import``) cannot read local files.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(where, f"not well-formed OPML: {exc}") from None
    if root.tag != "opml":
        raise SourceError(where, f"the root element is <{root.tag}>, not <opml>")
    body = root.find("body")
    if body is None:
        raise SourceError(where, "no <body> element")
    sources: list[Source] = []
    seen: set[str] = set()

    def walk(parent: etree._Element, folder: str) -> None:
        for outline in parent.iterchildren("outline"):
            # A blank xmlUrl names no feed (and would not survive a round trip): read it as a folder.
            if (outline.get("xmlUrl") or "").strip():
                source = _source_from_outline(outline, folder, where)
                if source.url not in seen:
                    seen.add(source.url)
                    sources.append(source)
            else:
                walk(outline, (outline.get("title") or outline.get("text") or folder).strip())

    walk(body, "")
    return sources


def read_opml(path: Path) -> list[Source]:
    """The sources listed in the OPML file at ``path`` (none if it does not exist)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise SourceError(str(path), f"cannot read: {exc}") from None
    return parse_opml(data, str(path))


def _format_number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def render_opml(sources: Iterable[Source], title: str, now: datetime | None = None) -> bytes:
    """An OPML 2.0 document listing ``sources``, settings as outline attributes."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateModified").text = format_datetime(now or datetime.now(UTC), usegmt=True)
    etree.SubElement(head, "docs").text = "https://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    for source in sources:
        attributes = {"type": "rss", "text": source.title, "title": source.title, "xmlUrl": source.url}
        if source.html_url:
            attributes["htmlUrl"] = source.html_url
        if source.category:
            attributes["category"] = source.category
        if source.max_items is not None:
            attributes["maxItems"] = str(source.max_items)
        if source.keywords:
            attributes["keywords"] = ",".join(source.keywords)
        if source.weight != 1.0:
            attributes["weight"] = _format_number(source.weight)
        if source.timezone:
            attributes["timezone"] = source.timezone
        etree.SubElement(body, "outline", attributes)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def opml_title(site_title: str) -> str:
    """The ``<title>`` of a site's OPML list (and of its export)."""
    return f"{site_title}: outside sources"


def write_opml(path: Path, sources: Iterable[Source], site_title: str) -> None:
    """Replace the site's OPML list at ``path`` with ``sources``, atomically.

    The one writer of ``feeds/sources.opml``: ``site.sources`` edits it and a
    fetch renames sources whose permanent redirect has settled.
    """
    write_atomic(path, render_opml(sources, opml_title(site_title)))
