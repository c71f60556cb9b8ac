"""Writing feeds: RSS 2.0 and Atom (feedgen), JSON Feed 1.1 (by hand).

:func:`site_feed_sets` decides which feed sets a collection gets (the whole
site, each tag, each author); :func:`write_feed_sets` writes them atomically,
skipping any set whose inputs are unchanged since the last build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from importlib import resources
from pathlib import Path

from .._atomicfile import write_atomic
from .._collection import Collection
from .._collection.loader import MARKDOWN_SUFFIXES
from .._config import Config
from .._model import Article, Author
from .._parallel import parallel_map
from .._store import OutputFingerprints
from .jsonfeed import json_feed
from .prebuilt import prebuild_entries
from .spec import FeedItems, FeedMeta, PrebuiltEntry
from .xmlfeeds import rss_and_atom

FEED_FILES = ("rss.xml", "atom.xml", "feed.json")
STYLESHEET_FILE = "feed.xsl"
CSS_STYLESHEET_FILE = "feed.css"
STYLESHEET_FILES = (STYLESHEET_FILE, CSS_STYLESHEET_FILE)
# Below this many feed sets to render, forking workers costs more than it saves.
PARALLEL_SETS = 24


@dataclass(frozen=True)
class FeedSet:
    """One folder of feeds: its channel data and its items."""

    meta: FeedMeta
    items: FeedItems

    def fingerprint(self, salt: str) -> str:
        """Changes whenever any byte of the three feeds could change."""
        digest = hashlib.blake2b(salt.encode(), digest_size=16)
        digest.update(repr(self.meta).encode())
        for article in self.items.articles:
            # content_hash covers the file, which (with the salt) decides a Markdown body, so the
            # fingerprint is the same whether the body is loaded yet or not. A plain-text body also
            # depends on the collection (MORE: pointers become links), so it is hashed itself.
            digest.update(f"{article.id}\0{article.content_hash}\0{article.url}\0{article.published}\0".encode())
            if not article.source_path.endswith(MARKDOWN_SUFFIXES):
                digest.update(hashlib.blake2b(article.content_html.encode(), digest_size=8).digest())
        for entry in self.items.outside:
            digest.update(repr(entry).encode())
        digest.update(repr(sorted(self.items.related_links.items())).encode())
        return digest.hexdigest()

    def with_related_links(self, links: Mapping[str, tuple[str, ...]]) -> FeedSet:
        """This set with each article's ``rel="related"`` links taken from ``links`` (by slug)."""
        chosen = {a.slug: links[a.slug] for a in self.items.articles if a.slug in links}
        return replace(self, items=replace(self.items, related_links=chosen))

    def with_prebuilt_entries(self, prebuilt: Mapping[tuple[str, str], PrebuiltEntry]) -> FeedSet:
        """This set using entries built elsewhere, by (source path, content hash) of the article."""
        chosen = {
            a.slug: found for a in self.items.articles if (found := prebuilt.get((a.source_path, a.content_hash)))
        }
        return replace(self, items=replace(self.items, prebuilt=chosen)) if chosen else self

    def with_articles(self, whole: dict[str, Article]) -> FeedSet:
        """This set with its articles replaced by the ones in ``whole`` (by slug), where given."""
        # The set's article keeps its identity: a body read from a cache or another process carries
        # the GUID its file alone gives, not the one the identity ledger keeps.
        articles = tuple(
            a if (found := whole.get(a.slug)) is None else found if found.id == a.id else replace(found, id=a.id)
            for a in self.items.articles
        )
        return replace(self, items=replace(self.items, articles=articles))


@dataclass
class WriteReport:
    """What :func:`write_feed_sets` did, file by file."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    skipped_sets: int = 0


def stylesheet_url(config: Config, folder: str = "") -> str | None:
    """The XSL stylesheet's address relative to a feed in ``folder`` (``""``, ``"tags/horror/"``).

    Relative, so a feed served under any sub-path or host finds it (browsers
    only apply same-origin stylesheets); the CSS fallback sits beside it.
    """
    if not config.feeds.stylesheet:
        return None
    return "../" * folder.count("/") + STYLESHEET_FILE


def _meta(
    config: Config, folder: str, title: str, description: str, home: str, author: Author | None = None
) -> FeedMeta:
    return FeedMeta(
        folder=folder,
        title=title,
        description=description,
        home_url=home,
        base_url=config.site.base_url,
        language=config.site.language,
        ttl=config.feeds.ttl,
        stylesheet_url=stylesheet_url(config, folder),
        author_name=author.name if author else None,
        author_url=(author.url or home) if author else None,
        image_url=author.avatar if author else None,
        full_content=config.feeds.full_content,
        publisher=config.site.title,
        hubs=tuple(config.feeds.websub_hubs),
    )


def site_feed_sets(
    config: Config,
    collection: Collection,
    now: datetime,
    related_links: dict[str, tuple[str, ...]] | None = None,
) -> list[FeedSet]:
    """The site-wide feed set, then one per tag and one per author."""
    limit = config.feeds.limit
    site = config.site
    links = related_links or {}

    def items(articles: list) -> FeedItems:  # type: ignore[type-arg]
        chosen = tuple(articles[:limit])
        return FeedItems(articles=chosen, related_links={a.slug: links[a.slug] for a in chosen if a.slug in links})

    sets = [
        FeedSet(
            _meta(config, "", site.title, site.description or site.title, site.base_url + "/"),
            items(collection.published(now)),
        )
    ]
    if config.feeds.tag_feeds:
        for slug, (tag, articles) in sorted(collection.tags(now).items()):
            sets.append(
                FeedSet(
                    _meta(
                        config,
                        f"tags/{slug}/",
                        f"{site.title}: {tag.name}",
                        f"Stories tagged \u201c{tag.name}\u201d on {site.title}",
                        f"{site.base_url}/tags/{slug}/",
                    ),
                    items(articles),
                )
            )
    if config.feeds.author_feeds:
        for slug, (author, articles) in sorted(collection.authors(now).items()):
            sets.append(
                FeedSet(
                    _meta(
                        config,
                        f"authors/{slug}/",
                        f"{site.title}: {author.name}",
                        author.bio or f"Stories by {author.name} on {site.title}",
                        author.url or f"{site.base_url}/authors/{slug}/",
                        author=author,
                    ),
                    items(articles),
                )
            )
    return sets


def render_feed_set(feed_set: FeedSet) -> dict[str, bytes]:
    """The three documents of a feed set, by file name."""
    rss, atom = rss_and_atom(feed_set.meta, feed_set.items)
    return {"rss.xml": rss, "atom.xml": atom, "feed.json": json_feed(feed_set.meta, feed_set.items)}


def _render_and_write(feed_set: FeedSet, out_dir: Path) -> list[tuple[Path, bool]]:
    """Render one set and write its files; ``(path, written)`` for each."""
    folder = out_dir / feed_set.meta.folder
    # Not fsynced one by one: a feed lost in a crash no longer matches its recorded size and mtime,
    # so the next build writes it again.
    return [
        (folder / name, write_atomic(folder / name, data, durable=False))
        for name, data in render_feed_set(feed_set).items()
    ]


def _render_all(pending: list[FeedSet], out_dir: Path, workers: int | None) -> list[list[tuple[Path, bool]]]:
    """Render and write the sets, in forked worker processes when there are many.

    feedgen costs a few milliseconds per feed; a site with a few hundred tags
    has a thousand feeds, which two cores write in half the time.
    """
    return parallel_map(
        partial(_render_and_write, out_dir=out_dir), pending, min_items=PARALLEL_SETS, workers=workers, chunksize=8
    )


def write_feed_sets(
    feed_sets: Iterable[FeedSet],
    out_dir: Path,
    salt: str = "",
    fingerprints: OutputFingerprints | None = None,
    workers: int | None = None,
    prepare: Callable[[list[FeedSet]], list[FeedSet]] | None = None,
) -> WriteReport:
    """Write each feed set under ``out_dir``; skip sets whose inputs are unchanged.

    ``salt`` covers what is not in the items (config, templates, code version).
    A set is skipped only if its fingerprint matches *and* its files on disk
    still have the size and mtime recorded, so a deleted or edited output is rewritten.
    A set that is rendered again but comes out byte-identical is not rewritten either.
    ``prepare`` is called with the sets that will be rendered, before rendering;
    the build uses it to load article bodies only for those (the fingerprint
    needs no body: it covers each article's file hash).
    """
    report = WriteReport()
    known = fingerprints.all() if fingerprints is not None else {}
    pending: list[FeedSet] = []
    pending_prints: list[str] = []
    for feed_set in feed_sets:
        fingerprint = feed_set.fingerprint(salt)
        paths = [out_dir / feed_set.meta.folder / name for name in FEED_FILES]
        if all(
            known.get(str(path), ("", ""))[0] == fingerprint and _on_disk_matches(path, known[str(path)][1])
            for path in paths
        ):
            report.skipped_sets += 1
            report.unchanged.extend(paths)
            continue
        pending.append(feed_set)
        pending_prints.append(fingerprint)
    if prepare is not None and pending:
        pending = prepare(pending)
    records: list[tuple[str, str, str]] = []
    for fingerprint, outcome in zip(pending_prints, _render_all(pending, out_dir, workers), strict=True):
        for path, written in outcome:
            (report.written if written else report.unchanged).append(path)
            records.append((str(path), fingerprint, _stat_signature(path)))
    if fingerprints is not None:
        fingerprints.record_many(records)
    return report


def _stat_signature(path: Path) -> str:
    """Size and mtime: any rewrite or edit of the file changes them."""
    info = path.stat()
    return f"{info.st_size}:{info.st_mtime_ns}"


def _on_disk_matches(path: Path, expected_signature: str) -> bool:
    try:
        return _stat_signature(path) == expected_signature
    except OSError:
        return False


def write_stylesheet(out_dir: Path) -> list[Path]:
    """Copy the stylesheets that make feeds readable in a browser; return the ones (re)written.

    The XSL one turns a feed into a page where the browser still runs XSLT;
    the CSS one makes the raw feed readable where it does not (Chromium is
    removing XSLT).
    """
    written = []
    for name in STYLESHEET_FILES:
        data = resources.files(__package__).joinpath(name).read_bytes()
        if write_atomic(out_dir / name, data):
            written.append(out_dir / name)
    return written


__all__ = [
    "FeedItems",
    "FeedMeta",
    "FeedSet",
    "PrebuiltEntry",
    "WriteReport",
    "prebuild_entries",
    "render_feed_set",
    "site_feed_sets",
    "write_feed_sets",
    "write_stylesheet",
]
