"""Every feed format's piece of an article, made once, before the feeds are written.

An article's RSS item, Atom entry and JSON Feed item need nothing but the
article (its related links, known later, go in a gap left in the Atom entry),
and building them is most of the cost of a feed. ``syndicate build`` has them
made by the process that renders the bodies, while the related stories are
being computed; the feed writers then only splice bytes (see
:func:`~syndicate._feeds.xmlfeeds.rss_and_atom`): no entry is parsed, built or
encoded again, and a feed worker holds no copy of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .._model import Article
from .entry_elements import article_elements
from .jsonfeed import article_item_bytes
from .scrub import xml_safe_copy
from .spec import FeedItems, FeedMeta, PrebuiltEntry
from .xmlfeeds import document_roots, fragment_context, fragments, related_link_lines

# (source path, content hash): what a PrebuiltEntry is made for (see FeedSet.with_prebuilt_entries).
ArticleKey = tuple[str, str]

# Stands in for the related links while the Atom entry is built, marking where they go. Only an element
# can serialise to these bytes (text and attribute values are escaped), and an entry holds one such.
_GAP_URL = "urn:syndicate:related-links-go-here"


def prebuild_entries(articles: Iterable[Article], meta: FeedMeta) -> dict[str, PrebuiltEntry]:
    """Each article's :class:`PrebuiltEntry` for feeds like ``meta``'s, by slug.

    An article whose pieces cannot be cut cleanly is left out: the writer builds it itself.
    """
    meta = xml_safe_copy(meta)
    rss_root, atom_root = document_roots(meta, FeedItems())
    context = fragment_context(rss_root, atom_root)
    gap = related_link_lines((_GAP_URL,), atom_root)
    out: dict[str, PrebuiltEntry] = {}
    for article in articles:
        clean = xml_safe_copy(article)  # once, for every format
        # Built without feedgen (see .entry_elements): the same elements, in a fraction of the time.
        rss, atom = fragments(*article_elements(clean, meta, (_GAP_URL,)), rss_root, atom_root)
        at = atom.find(gap)
        if at < 0 or atom.find(gap, at + 1) >= 0:
            continue
        json = article_item_bytes(clean, meta)
        out[article.slug] = PrebuiltEntry(
            rss, atom[:at], atom[at + len(gap) :], json, meta.base_url, meta.full_content, article.id, context
        )
    return out


def bodies_not_needed(
    feeds: Iterable[tuple[FeedMeta, Iterable[Article]]], prebuilt: Mapping[ArticleKey, PrebuiltEntry]
) -> set[ArticleKey]:
    """The articles that every feed holding them (``(meta, articles)``) takes whole from ``prebuilt``.

    The writers use an article's pieces when they were made for the feed's base
    URL and ``full_content``, for the article's id, in documents of the same
    namespaces (see ``xmlfeeds._fits``); then they read nothing but its date, id
    and slug. Such an article can stay a stub (no body unpickled in this
    process); any other must be whole. The namespaces are those of the
    extensions every document registers, the same in every feed set, so the
    first feed's stand for all.
    """
    made_for: dict[tuple[str, bool], str] = {}
    unusable: set[ArticleKey] = set()
    usable: set[ArticleKey] = set()
    for meta, articles in feeds:
        shape = (meta.base_url, meta.full_content)
        if shape not in made_for:
            made_for[shape] = fragment_context(*document_roots(xml_safe_copy(meta), FeedItems()))
        context = made_for[shape]
        for article in articles:
            key = (article.source_path, article.content_hash)
            found = prebuilt.get(key)
            if found is not None and (found.base_url, found.full_content, found.guid, found.context) == (
                meta.base_url,
                meta.full_content,
                article.id,
                context,
            ):
                usable.add(key)
            else:
                unusable.add(key)
    return usable - unusable
