"""The reader's side of the feeds: a subscribe page and the autodiscovery links.

A person who clicks a feed link sees XML; a person who wants to subscribe
needs a page that lists every feed in its three formats, copies an address
in one click and opens it in a common reader. ``build`` writes that page to
``feeds/index.html`` (its ``<head>`` carries ``<link rel="alternate">`` so
browsers and readers discover the site's own feeds from it), and
``syndicate feeds links`` prints the same autodiscovery ``<link>`` elements
for the publisher's own page templates.

The page is a Jinja2 template: a site's ``templates/feeds.html.j2`` replaces
the packaged one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .._collection import Collection
from .._config import Config
from .spec import FeedMeta

if TYPE_CHECKING:
    import jinja2

SUBSCRIBE_PAGE = "feeds/index.html"
TEMPLATE_NAME = "feeds.html.j2"

# (file, media type, label): the three formats of every feed set.
FORMATS = (
    ("rss.xml", "application/rss+xml", "RSS"),
    ("atom.xml", "application/atom+xml", "Atom"),
    ("feed.json", "application/feed+json", "JSON Feed"),
)

# One-click subscription links of common web readers; each takes the feed's address, URL-encoded.
READERS = (
    ("Feedly", "https://feedly.com/i/subscription/feed/{url}"),
    ("Inoreader", "https://www.inoreader.com/?add_feed={url}"),
    ("NewsBlur", "https://www.newsblur.com/?url={url}"),
    ("The Old Reader", "https://theoldreader.com/feeds/subscribe?url={url}"),
)


@dataclass(frozen=True, slots=True)
class FeedFormat:
    label: str
    media_type: str
    url: str


@dataclass(frozen=True, slots=True)
class ReaderLink:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class FeedListing:
    """One feed set as the subscribe page and the autodiscovery links show it."""

    kind: str  # "site", "merged", "tag" or "author"
    title: str
    description: str
    home_url: str
    formats: tuple[FeedFormat, ...]
    readers: tuple[ReaderLink, ...]

    @property
    def main_url(self) -> str:
        """The address to copy: the RSS one, which every reader takes."""
        return self.formats[0].url

    def as_json(self) -> dict[str, Any]:
        """The ``syndicate feeds list --json`` shape: every field, formats and readers as objects."""
        return asdict(self)


def _kind(folder: str, merged_folder: str) -> str:
    if not folder:
        return "site"
    if folder == merged_folder:
        return "merged"
    return "tag" if folder.startswith("tags/") else "author"


def listings(metas: Iterable[FeedMeta], merged_folder: str = "") -> list[FeedListing]:
    """Every feed set's listing: the site first, then the merged feed, tags and authors by title."""
    order = {"site": 0, "merged": 1, "tag": 2, "author": 3}
    found = []
    for meta in metas:
        formats = tuple(FeedFormat(label, kind, meta.feed_url(name)) for name, kind, label in FORMATS)
        readers = tuple(
            ReaderLink(name, pattern.format(url=quote(formats[0].url, safe=""))) for name, pattern in READERS
        )
        found.append(
            FeedListing(
                _kind(meta.folder, merged_folder), meta.title, meta.description, meta.home_url, formats, readers
            )
        )
    found.sort(key=lambda listing: (order[listing.kind], listing.title.casefold()))
    return found


def site_listings(config: Config, collection: Collection, now: datetime) -> list[FeedListing]:
    """Every feed set the site publishes at ``now`` (site, merged, each tag and author), as listings."""
    from . import site_feed_sets
    from .merged import merged_feed_meta

    metas = [feed_set.meta for feed_set in site_feed_sets(config, collection, now)]
    if config.merged.enabled:
        metas.append(merged_feed_meta(config))
    return listings(metas, config.merged.folder_path)


def autodiscovery_links(found: Sequence[FeedListing], kinds: Sequence[str] = ("site", "merged")) -> str:
    """``<link rel="alternate">`` elements for a page's ``<head>``, one per format of the chosen feeds."""
    lines = []
    for listing in found:
        if listing.kind not in kinds:
            continue
        for feed_format in listing.formats:
            lines.append(
                f'<link rel="alternate" type="{feed_format.media_type}" '
                f'title="{escape(listing.title)} ({feed_format.label})" href="{escape(feed_format.url)}">'
            )
    return "\n".join(lines)


def _environment(config: Config) -> jinja2.Environment:
    import jinja2  # here, not at the top: only a build that changed a feed renders the page

    folders = [str(config.path(config.site.templates_dir))] if config.path(config.site.templates_dir).is_dir() else []
    default = resources.files(__package__).joinpath(TEMPLATE_NAME).read_text(encoding="utf-8")
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(folders), jinja2.DictLoader({TEMPLATE_NAME: default})])
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)


def subscribe_page(config: Config, found: Sequence[FeedListing]) -> bytes:
    """The subscribe page's HTML."""
    template = _environment(config).get_template(TEMPLATE_NAME)
    groups = [
        ("Everything", [f for f in found if f.kind in ("site", "merged")]),
        ("By tag", [f for f in found if f.kind == "tag"]),
        ("By author", [f for f in found if f.kind == "author"]),
    ]
    page = template.render(
        site_title=config.site.title,
        site_url=config.site.base_url + "/",
        language=config.site.language,
        autodiscovery=autodiscovery_links(found),
        groups=[(name, items) for name, items in groups if items],
    )
    return page.encode("utf-8")


def subscribe_page_path(out_dir: Path) -> Path:
    return out_dir / SUBSCRIBE_PAGE
