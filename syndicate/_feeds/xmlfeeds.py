"""RSS 2.0 and Atom 1.0 documents with feedgen.

Two feedgen shortcomings are worked around here:

* ``add_entry()`` prepends by default, which is quadratic; we append.
* feedgen 1.0.0 drops ``rel`` and ``type`` from entry ``<link>`` elements in
  Atom output (python-feedgen issue 135), so alternate, enclosure and related
  links would all come out as bare links. We write the entry links of the
  Atom tree ourselves after feedgen has built it.

And one cost: an article appears in up to half a dozen feeds (the site, each
of its tags, its author), and building a feedgen entry is most of the cost of
a feed. Each item's RSS ``<item>`` and Atom ``<entry>`` are built by feedgen
once per process, links repaired, serialised once, and the bytes spliced into
every feed that holds it: copying an entry's tree into each feed and
serialising it again there cost more than building the rest of the feed. The
bytes are those the entry has inside a whole document (see
:func:`fragments`), so the feeds are byte for byte what serialising the
whole tree gives.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.ext.media import MediaEntryExtension, MediaExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from .. import __version__
from .._model import Article, Image, OutsideEntry
from .._textguard import xml_safe
from .itemcache import ItemCache
from .scrub import xml_safe_copy
from .spec import FeedItems, FeedMeta, PrebuiltEntry

GENERATOR = "syndicate"
ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True, slots=True)
class _EntryLinks:
    """The Atom links of one entry, which feedgen cannot write correctly."""

    links: tuple[dict[str, str], ...]
    source: tuple[str, str] | None = None  # (title, feed url) of an outside entry


def _article_entry(entry: FeedEntry, article: Article, meta: FeedMeta, related: tuple[str, ...]) -> _EntryLinks:
    entry.id(article.id)
    entry.guid(article.id, permalink=False)
    entry.title(article.title)
    entry.link(href=article.url, rel="alternate")
    entry.published(article.published)
    entry.updated(article.modified)
    summary = html.escape(article.summary, quote=False)
    entry.description(summary)
    entry.summary(summary, type="html")
    entry.content(article.content_html if meta.full_content else f"<p>{summary}</p>", type="html")
    for person in article.authors:
        author = {"name": person.name, "uri": person.url or f"{meta.base_url}/authors/{person.slug}/"}
        if person.email and person.show_email:
            author["email"] = person.email
        entry.author(author)
        entry.dc.dc_creator(person.name)
    for tag in article.tags:
        entry.category(term=tag.slug, label=tag.name, scheme=f"{meta.base_url}/tags/")
    if article.image is not None:
        entry.enclosure(article.image.url, "0", article.image.mime_type)
        _media(entry, article.image)
    return article_links(article, related)


def _media(entry: FeedEntry, image: Image) -> None:
    """Media RSS for the item's image, so readers that show thumbnails show ours (sized when known)."""
    size = {key: str(value) for key, value in (("width", image.width), ("height", image.height)) if value}
    entry.media.content(url=image.url, medium="image", type=image.mime_type, group=None, **size)
    entry.media.thumbnail(url=image.url, group=None, **size)


def article_links(article: Article, related: tuple[str, ...]) -> _EntryLinks:
    """The links of an article's Atom entry: its page, its image (if any), then the related stories."""
    links = [{"href": article.url, "rel": "alternate", "type": "text/html"}]
    if article.image is not None:
        links.append({"href": article.image.url, "rel": "enclosure", "type": article.image.mime_type, "length": "0"})
    links.extend({"href": url, "rel": "related", "type": "text/html"} for url in related)
    return _EntryLinks(tuple(links))


def _outside_entry(entry: FeedEntry, outside: OutsideEntry) -> _EntryLinks:
    entry.id(outside.id)
    entry.guid(outside.id, permalink=False)
    entry.title(outside.title)
    entry.link(href=outside.url, rel="alternate")
    entry.published(outside.published)
    entry.updated(outside.published)
    summary = outside.summary_html or html.escape(outside.title, quote=False)
    entry.description(summary)
    entry.summary(summary, type="html")
    if outside.author:
        entry.dc.dc_creator(outside.author)
    if outside.image is not None:
        _media(entry, outside.image)
    entry.source(url=outside.source_url, title=outside.source_title)
    links = [{"href": outside.url, "rel": "alternate", "type": "text/html"}]
    links.extend({"href": url, "rel": "related", "type": "text/html"} for url in outside.also_at)
    return _EntryLinks(tuple(links), (outside.source_title, outside.source_url))


# Feeds with no item still need an Atom <updated>; a fixed moment keeps their bytes stable.
_EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)
# Built entries by item and what else shapes them (see .itemcache), serialised as spliced into feeds
# (see fragments): the trees themselves are not kept, once serialised nothing reads them.
_fragment_cache: ItemCache[tuple[bytes, bytes]] = ItemCache(limit=20_000)


def _channel(meta: FeedMeta, items: FeedItems) -> FeedGenerator:
    """The feed-level part of both documents, without entries (``meta`` already XML-safe: see rss_and_atom)."""
    feed = FeedGenerator()
    # The classes load_extension("dc") and ("media") would import and look up by name, on every feed.
    feed.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    feed.register_extension("media", MediaExtension, MediaEntryExtension, atom=True, rss=True)
    feed.id(meta.feed_id)
    feed.title(meta.title)
    feed.description(meta.description or meta.title)
    feed.subtitle(meta.description or meta.title)
    feed.language(meta.language)
    feed.ttl(meta.ttl)
    feed.generator(GENERATOR, version=__version__)
    newest = items.newest()
    feed.updated(newest or _EMPTY_FEED_UPDATED)
    if newest is not None:
        feed.lastBuildDate(newest)
        feed.pubDate(newest)
    # RFC 4287 wants an author on the feed unless every entry has one; the
    # publication stands in (feedgen writes feed authors to Atom only when no
    # email is given, so RSS keeps its per-item authors).
    if meta.author_name or meta.publisher:
        feed_author = {"name": meta.author_name or meta.publisher}
        if meta.author_name and meta.author_url:
            feed_author["uri"] = meta.author_url
        feed.author(feed_author)
    if meta.image_url:
        # The author's avatar on an author feed: readers show it beside the feed's name.
        feed.logo(meta.image_url)
        feed.image(url=meta.image_url, title=meta.title, link=meta.home_url)
    return feed


def _feedgen_entries(
    item: Article | OutsideEntry, meta: FeedMeta, related: tuple[str, ...]
) -> tuple[etree._Element, etree._Element]:
    """The RSS <item> and Atom <entry> of one item, as feedgen builds them (Atom links repaired)."""
    return clean_feedgen_entries(xml_safe_copy(item), xml_safe_copy(meta), xml_safe_copy(related))


def clean_feedgen_entries(
    item: Article | OutsideEntry, meta: FeedMeta, related: tuple[str, ...]
) -> tuple[etree._Element, etree._Element]:
    """:func:`_feedgen_entries` of an item, meta and links already XML-safe (see .scrub): not scrubbed again."""
    entry = FeedEntry()
    entry.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    entry.register_extension("media", MediaEntryExtension, atom=True, rss=True)
    links = _article_entry(entry, item, meta, related) if isinstance(item, Article) else _outside_entry(entry, item)
    atom_entry = entry.atom_entry()
    _fix_atom_entry_links(atom_entry, links)
    return entry.rss_entry(), atom_entry


def _serialise(root: etree._Element, meta: FeedMeta, entries: bytes = b"", before: bytes = b"") -> bytes:
    """The document of ``root``, with the serialised ``entries`` spliced in at the last ``before``."""
    if meta.stylesheet_url:
        # XSLT first, where the browser still has it; the CSS beside it styles the raw feed where it does not.
        css_url = meta.stylesheet_url.removesuffix(".xsl") + ".css"
        root.addprevious(etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{meta.stylesheet_url}"'))
        root.addprevious(etree.ProcessingInstruction("xml-stylesheet", f'type="text/css" href="{css_url}"'))
    document = bytes(_document_bytes(root))
    if not entries:
        return document
    at = document.rindex(before)
    return document[:at] + entries + document[at:]


def _document_bytes(root: etree._Element) -> bytes:
    """How every feed document is serialised (a fragment cut from it must match, byte for byte)."""
    return bytes(etree.tostring(etree.ElementTree(root), xml_declaration=True, encoding="UTF-8", pretty_print=True))


# Where the items end in each document: RSS items are the channel's last children, Atom entries the feed's.
_RSS_ITEMS_END = b"  </channel>\n</rss>"
_ATOM_ENTRIES_END = b"</feed>"


def _namespaces(root: etree._Element) -> tuple[object, ...]:
    """What of a document's root shapes how an entry inside it is serialised (its tag and namespaces)."""
    return (root.tag, tuple(sorted(root.nsmap.items(), key=lambda pair: pair[0] or "")))


def fragments(
    rss_item: etree._Element, atom_entry: etree._Element, rss_root: etree._Element, atom_root: etree._Element
) -> tuple[bytes, bytes]:
    """The bytes of an RSS ``<item>`` and an Atom ``<entry>`` as they appear in documents like these roots'.

    Cut from a document holding just the entry, built like the real one (same
    root tag and namespaces, same depth, same serialisation), so indentation
    and namespace declarations are those the entry has in any feed. The
    entries are moved into those documents (they are fresh, nothing else holds them).
    """
    rss = etree.Element(rss_root.tag, nsmap=rss_root.nsmap)
    etree.SubElement(rss, "channel").append(rss_item)
    rss_bytes = _document_bytes(rss)
    rss_start = rss_bytes.index(b"<channel>\n") + len(b"<channel>\n")
    atom = etree.Element(atom_root.tag, nsmap=atom_root.nsmap)
    atom.append(atom_entry)
    atom_bytes = _document_bytes(atom)
    atom_start = atom_bytes.index(b">\n", atom_bytes.index(b"?>\n") + 3) + 2
    return rss_bytes[rss_start : rss_bytes.rindex(_RSS_ITEMS_END)], atom_bytes[
        atom_start : atom_bytes.rindex(_ATOM_ENTRIES_END)
    ]


def _fix_atom_entry_links(element: etree._Element, wanted: _EntryLinks) -> None:
    # feedgen builds its Atom tree with un-namespaced tags and a literal xmlns
    # attribute on the root, so the tags to find and add carry no namespace.
    for old in [*element.findall("link"), *element.findall("source")]:
        element.remove(old)
    anchor = element.find("title")
    position = list(element).index(anchor) + 1 if anchor is not None else 0
    for offset, attributes in enumerate(wanted.links):
        link = etree.Element("link", {k: attributes[k] for k in ("href", "rel", "type", "length") if k in attributes})
        element.insert(position + offset, link)
    if wanted.source is not None:
        title, url = wanted.source
        source = etree.SubElement(element, "source")
        etree.SubElement(source, "id").text = url
        etree.SubElement(source, "title").text = title
        etree.SubElement(source, "link", href=url, rel="self")


def document_roots(meta: FeedMeta, items: FeedItems) -> tuple[etree._Element, etree._Element]:
    """The RSS and Atom documents of a feed set without their entries (``meta`` already XML-safe)."""
    feed = _channel(meta, items)
    roots = []
    for filename, build in (("rss.xml", feed._create_rss), ("atom.xml", feed._create_atom)):
        # feedgen takes the RSS <link> from the *last* link given, so self goes first.
        feed.link(
            [{"href": meta.feed_url(filename), "rel": "self"}, {"href": meta.home_url, "rel": "alternate"}],
            replace=True,
        )
        # The private builders return the tree: we need it for the stylesheet PI and the entries.
        roots.append(build()[0])
    rss_root, atom_root = roots
    channel = rss_root.find("channel")
    for hub in meta.hubs:
        # After the self link feedgen wrote, as WebSub (section 4) discovery expects beside it.
        etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=hub, rel="hub")
        etree.SubElement(atom_root, "link", href=hub, rel="hub")
    return rss_root, atom_root


def fragment_context(rss_root: etree._Element, atom_root: etree._Element) -> str:
    """What of two documents' roots shapes the bytes of an entry cut from them (see :func:`fragments`).

    A string, compared once per item and feed: cheaper than the nested tuples it is made of.
    """
    return repr((_namespaces(rss_root), _namespaces(atom_root)))


def related_link_lines(related: tuple[str, ...], atom_root: etree._Element) -> bytes:
    """The serialised ``rel="related"`` links of an Atom entry in a document like ``atom_root``'s.

    Cut, like :func:`fragments`, from a document built like the real one (same
    root, same depth), so escaping and indentation are lxml's own. ``related``
    already XML-safe.
    """
    if not related:
        return b""
    atom = etree.Element(atom_root.tag, nsmap=atom_root.nsmap)
    entry = etree.SubElement(atom, "entry")
    for url in related:
        etree.SubElement(entry, "link", href=url, rel="related", type="text/html")
    document = _document_bytes(atom)
    start = document.index(b"<entry>\n") + len(b"<entry>\n")
    return document[start : document.rindex(b"  </entry>")]


# Related links by (links, document context): an article's links are the same in every feed holding it.
_related_lines_cache: dict[tuple[tuple[str, ...], str], bytes] = {}


def _related_lines(related: tuple[str, ...], atom_root: etree._Element, context: str) -> bytes:
    key = (related, context)
    found = _related_lines_cache.get(key)
    if found is None:
        if len(_related_lines_cache) >= 20_000:
            _related_lines_cache.clear()
        found = _related_lines_cache[key] = related_link_lines(tuple(map(xml_safe, related)), atom_root)
    return found


def _fits(prebuilt: PrebuiltEntry, article: Article, meta: FeedMeta, context: str) -> bool:
    """Whether ``prebuilt`` was made for this article, in feeds like this one (see PrebuiltEntry)."""
    made_for = (prebuilt.base_url, prebuilt.full_content, prebuilt.guid, prebuilt.context)
    return made_for == (meta.base_url, meta.full_content, article.id, context)


def rss_and_atom(meta: FeedMeta, items: FeedItems) -> tuple[bytes, bytes]:
    """The RSS 2.0 and Atom 1.0 documents of one feed set."""
    meta = xml_safe_copy(meta)
    rss_root, atom_root = document_roots(meta, items)
    rows: list[tuple[float, str, Article | OutsideEntry]] = [
        (a.published.timestamp(), a.id, a) for a in items.articles
    ] + [(e.published.timestamp(), e.id, e) for e in items.outside]
    rows.sort(key=lambda row: (-row[0], row[1]))
    context = fragment_context(rss_root, atom_root)
    rss_items: list[bytes] = []
    atom_entries: list[bytes] = []
    for _, _, item in rows:
        related = items.related_links.get(item.slug, ()) if isinstance(item, Article) else ()
        prebuilt = items.prebuilt.get(item.slug) if isinstance(item, Article) else None
        if prebuilt is not None and isinstance(item, Article) and _fits(prebuilt, item, meta, context):
            # Pieces made elsewhere (see .prebuilt), spliced: nothing parsed, nothing built but the related links.
            rss_items.append(prebuilt.rss)
            atom_entries += (prebuilt.atom_head, _related_lines(related, atom_root, context), prebuilt.atom_tail)
            continue
        shape = (meta.base_url, meta.full_content, related, context)
        found = _fragment_cache.get(item, shape)
        if found is None:
            found = _fragment_cache.put(
                item, shape, fragments(*_feedgen_entries(item, meta, related), rss_root, atom_root)
            )
        rss_items.append(found[0])
        atom_entries.append(found[1])
    return (
        _serialise(rss_root, meta, b"".join(rss_items), _RSS_ITEMS_END),
        _serialise(atom_root, meta, b"".join(atom_entries), _ATOM_ENTRIES_END),
    )
