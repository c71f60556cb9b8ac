"""Outside feeds: listing, fetching, parsing, normalising and merging.

The stages, each its own module (after lemon24/reader's split):

* :mod:`.opml`: the list of sources, ``feeds/sources.opml``;
* :mod:`.fetch`: HTTP (the only module that talks it), politely and within limits;
* :mod:`.decider`: which sources are due, and their health after a fetch (no I/O);
* :mod:`.parse`: bytes to raw entries with feedparser, which never fetches;
* :mod:`.normalize`: plain titles, canonical URLs, sanitised summaries, aware dates;
* :mod:`.merge`: keyword filters, de-duplication across sources, caps.

The contract other stages rely on: :func:`merged_stream` returns the merged,
de-duplicated, sanitised outside entries of a window, newest first; an entry
belongs to the window by its date, or by its first-seen time when its feed
gave no date.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from ..collection import Collection
from ..config import Config
from ..errors import SourceError
from ..feeds import FeedItems, FeedMeta, FeedSet, stylesheet_url
from ..model import Article, OutsideEntry, Problem, Severity, Source
from ..store import Store
from .merge import MergeSettings, merge_stream
from .opml import parse_opml, read_opml, render_opml
from .update import FetchReport, SourceResult, fetch_sources, opml_path
from .window import outside_window

FILM_NEWS_FOLDER = "film-news/"


def merge_settings(config: Config) -> MergeSettings:
    s = config.sources
    return MergeSettings(
        keywords=tuple(s.keywords),
        max_per_source=s.max_per_source,
        dedupe_window=timedelta(days=s.dedupe_days),
        title_similarity=s.title_similarity,
    )


def list_sources(config: Config) -> list[Source]:
    """The sources listed in the site's OPML file."""
    return read_opml(opml_path(config))


def merged_stream(
    config: Config,
    store: Store,
    since: datetime,
    until: datetime,
    *,
    sources: Sequence[Source] | None = None,
) -> list[OutsideEntry]:
    """The merged outside stream of ``[since, until)``, newest first.

    De-duplicated across sources, filtered by the keywords, capped per
    source; summaries are already sanitised. ``sources`` defaults to the
    site's OPML list.
    """
    listed = list_sources(config) if sources is None else list(sources)
    stored = store.outside_entries.in_window(since, until)
    return merge_stream(stored, listed, merge_settings(config))


def _feed_id(entry: OutsideEntry) -> OutsideEntry:
    # Atom ids must be IRIs; an outside GUID like "12345" is not, so such
    # entries are identified by their (canonical, unique after merging) URL.
    scheme = entry.id.split(":", 1)[0] if ":" in entry.id else ""
    if scheme.isalpha() and scheme.lower() in ("http", "https", "urn", "tag"):
        return entry
    return dataclasses.replace(entry, id=entry.url)


def film_news_meta(config: Config) -> FeedMeta:
    """The merged feed set's channel data (its items need the store: see :func:`film_news_feed_set`)."""
    site = config.site
    return FeedMeta(
        folder=FILM_NEWS_FOLDER,
        title=f"{site.title}: film news",
        description=f"Stories from {site.title} and film news from around the web",
        home_url=f"{site.base_url}/{FILM_NEWS_FOLDER}",
        base_url=site.base_url,
        language=site.language,
        ttl=config.feeds.ttl,
        stylesheet_url=stylesheet_url(config, FILM_NEWS_FOLDER),
        full_content=config.feeds.full_content,
        hubs=tuple(config.feeds.websub_hubs),
    )


def film_news_feed_set(
    config: Config, collection: Collection, store: Store, now: datetime, problems: list[Problem] | None = None
) -> FeedSet:
    """The ``film-news/`` feed set: own articles and outside stories, newest first.

    Outside items link to the original and carry their source; only their
    sanitised summary is included. A broken OPML file does not stop the
    build: the set then holds the site's own articles, and the problem is
    added to ``problems``.
    """
    limit = config.sources.merged_limit
    try:
        stream = merged_stream(config, store, *outside_window(config.sources, now))
    except SourceError as exc:
        if problems is None:
            raise
        problems.append(Problem(config.sources.opml, f"{exc}; film-news/ has no outside stories", Severity.WARNING))
        stream = []
    outside = [_feed_id(e) for e in stream]
    articles = collection.published(now)
    rows: list[tuple[datetime, Article | OutsideEntry]] = [(a.published, a) for a in articles]
    rows += [(e.published, e) for e in outside]
    rows.sort(key=lambda row: row[0], reverse=True)
    chosen = [item for _, item in rows[:limit]]
    meta = film_news_meta(config)
    items = FeedItems(
        articles=tuple(i for i in chosen if isinstance(i, Article)),
        outside=tuple(i for i in chosen if isinstance(i, OutsideEntry)),
    )
    return FeedSet(meta, items)


__all__ = [
    "FetchReport",
    "MergeSettings",
    "SourceResult",
    "fetch_sources",
    "film_news_feed_set",
    "film_news_meta",
    "list_sources",
    "merge_stream",
    "merged_stream",
    "parse_opml",
    "read_opml",
    "render_opml",
]
