"""The merged feed set: the site's own stories and the outside ones, newest first.

Its folder, title and description come from ``[merged]`` in the config (the
demo site calls it ``film-news/``). The items need the outside stream, which
:func:`syndicate._sources.merged_stream` reads from the state database.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from .._collection import Collection
from .._config import Config
from .._errors import SourceError
from .._model import Article, OutsideEntry, Problem, Severity
from .._sources import merged_stream
from .._sources.window import outside_window
from .._store import Store
from . import FeedSet, stylesheet_url
from .spec import FeedItems, FeedMeta


def _feed_id(entry: OutsideEntry) -> OutsideEntry:
    # Atom ids must be IRIs; an outside GUID like "12345" is not, so such
    # entries are identified by their (canonical, unique after merging) URL.
    scheme = entry.id.split(":", 1)[0] if ":" in entry.id else ""
    if scheme.isalpha() and scheme.lower() in ("http", "https", "urn", "tag"):
        return entry
    return dataclasses.replace(entry, id=entry.url)


def merged_feed_meta(config: Config) -> FeedMeta:
    """The merged feed set's channel data (its items need the store: see :func:`merged_feed_set`)."""
    site = config.site
    folder = config.merged.folder_path
    return FeedMeta(
        folder=folder,
        title=config.merged.feed_title(site.title),
        description=config.merged.feed_description(site.title),
        home_url=f"{site.base_url}/{folder}",
        base_url=site.base_url,
        language=site.language,
        ttl=config.feeds.ttl,
        stylesheet_url=stylesheet_url(config, folder),
        full_content=config.feeds.full_content,
        hubs=tuple(config.feeds.websub_hubs),
    )


def merged_feed_set(
    config: Config, collection: Collection, store: Store, now: datetime, problems: list[Problem] | None = None
) -> FeedSet:
    """The ``[merged]`` feed set: own articles and outside stories, newest first, ``[merged] limit`` of them.

    Outside items link to the original and carry their source; only their
    sanitised summary is included. A broken OPML file does not stop the
    build: the set then holds the site's own articles, and the problem is
    added to ``problems`` (raised when ``problems`` is None).
    """
    try:
        stream = merged_stream(config, store, *outside_window(config.sources, now))
    except SourceError as exc:
        if problems is None:
            raise
        problems.append(
            Problem(
                config.sources.opml,
                f"{exc}; {config.merged.folder_path} has no outside stories",
                Severity.WARNING,
            )
        )
        stream = []
    outside = [_feed_id(e) for e in stream]
    articles = collection.published(now)
    rows: list[tuple[datetime, Article | OutsideEntry]] = [(a.published, a) for a in articles]
    rows += [(e.published, e) for e in outside]
    rows.sort(key=lambda row: row[0], reverse=True)
    chosen = [item for _, item in rows[: config.merged.limit]]
    items = FeedItems(
        articles=tuple(i for i in chosen if isinstance(i, Article)),
        outside=tuple(i for i in chosen if isinstance(i, OutsideEntry)),
    )
    return FeedSet(merged_feed_meta(config), items)


__all__ = ["merged_feed_meta", "merged_feed_set"]
