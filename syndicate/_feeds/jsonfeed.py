"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written by hand: it is just JSON."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any, TypeVar

from .._model import Article, Author, OutsideEntry
from .itemcache import ItemCache
from .scrub import xml_safe_copy
from .spec import FeedItems, FeedMeta


def _article_item(article: Article, meta: FeedMeta) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "content_html": article.content_html if meta.full_content else f"<p>{html.escape(article.summary)}</p>",
        "summary": article.summary,
        "date_published": article.published.isoformat(),
    }
    if article.updated:
        item["date_modified"] = article.updated.isoformat()
    if article.image:
        item["image"] = article.image.url
    if article.authors:
        item["authors"] = [_person(person, meta) for person in article.authors]
    if article.tags:
        item["tags"] = [tag.name for tag in article.tags]
    return item


def _person(person: Author, meta: FeedMeta) -> dict[str, str]:
    found = {"name": person.name, "url": person.url or f"{meta.base_url}/authors/{person.slug}/"}
    if person.avatar:
        found["avatar"] = person.avatar
    return found


def _outside_item(entry: OutsideEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.url,
        "external_url": entry.url,
        "title": entry.title,
        "content_html": entry.summary_html
        or f'<p><a href="{html.escape(entry.url)}">{html.escape(entry.title, quote=False)}</a></p>',
        "date_published": entry.published.isoformat(),
        "_source": {"title": entry.source_title, "url": entry.source_url},
    }
    if entry.author:
        item["authors"] = [{"name": entry.author}]
    if entry.image:
        item["image"] = entry.image.url
    return item


def json_feed(meta: FeedMeta, items: FeedItems) -> bytes:
    """The JSON Feed document as UTF-8 bytes, keys in a stable order."""
    meta = xml_safe_copy(meta)
    rows: list[tuple[float, str, bytes]] = [
        (a.published.timestamp(), a.id, _prebuilt(items, a, meta) or _encoded(a, meta, _article_item))
        for a in items.articles
    ]
    rows += [
        (e.published.timestamp(), e.id, _encoded(e, meta, lambda entry, _: _outside_item(entry))) for e in items.outside
    ]
    rows.sort(key=lambda row: (-row[0], row[1]))
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta.title,
        "home_page_url": meta.home_url,
        "feed_url": meta.feed_url("feed.json"),
        "description": meta.description,
        "language": meta.language,
    }
    if meta.author_name:
        feed_author = {"name": meta.author_name}
        if meta.author_url:
            feed_author["url"] = meta.author_url
        if meta.image_url:
            feed_author["avatar"] = meta.image_url
        document["authors"] = [feed_author]
    if meta.image_url:
        document["icon"] = meta.image_url
    if meta.hubs:
        document["hubs"] = [{"type": "WebSub", "url": hub} for hub in meta.hubs]
    # The items go last, each encoded once per process (to JSON, then to UTF-8) and spliced in:
    # an article sits in several feeds. No indent: json's C encoder only runs without one.
    head = _dumps(document)[:-1].encode("utf-8")
    return head + b',"items":[' + b",".join(row[2] for row in rows) + b"]}\n"


# Each item encoded once per process (see .itemcache), as the UTF-8 bytes of its JSON.
_item_cache: ItemCache[bytes] = ItemCache(limit=20_000)
_Item = TypeVar("_Item", Article, OutsideEntry)


def _encoded(item: _Item, meta: FeedMeta, build: Callable[[_Item, FeedMeta], dict[str, Any]]) -> bytes:
    shape = (meta.base_url, meta.full_content)
    cached = _item_cache.get(item, shape)
    if cached is not None:
        return cached
    return _item_cache.put(item, shape, _dumps(build(xml_safe_copy(item), meta)).encode("utf-8"))


def article_item_bytes(article: Article, meta: FeedMeta) -> bytes:
    """The item of an article (already XML-safe, as ``meta``: see .scrub), as spliced into a document."""
    return _dumps(_article_item(article, meta)).encode("utf-8")


def _prebuilt(items: FeedItems, article: Article, meta: FeedMeta) -> bytes | None:
    """The article's item made ahead of the feeds (see .prebuilt), when made for feeds like this one."""
    found = items.prebuilt.get(article.slug)
    if found is None or (found.base_url, found.full_content, found.guid) != (
        meta.base_url,
        meta.full_content,
        article.id,
    ):
        return None
    return found.json


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
