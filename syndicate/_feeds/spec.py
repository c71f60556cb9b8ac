"""What one set of feeds (RSS, Atom, JSON Feed in one folder) contains."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .._model import Article, OutsideEntry


@dataclass(frozen=True)
class FeedMeta:
    """Channel-level data shared by the three formats of one feed set."""

    folder: str  # relative to the output folder: "", "tags/horror/", "authors/jane-doe/"
    title: str
    description: str
    home_url: str  # the HTML page the feed stands for
    base_url: str  # site URL without trailing slash
    language: str
    ttl: int
    stylesheet_url: str | None = None
    author_name: str | None = None
    full_content: bool = True
    publisher: str = ""  # the site's name: the Atom feed author when the feed has no author of its own
    hubs: tuple[str, ...] = ()  # WebSub hubs the feeds advertise
    author_url: str | None = None  # an author feed's author page
    image_url: str | None = None  # an author feed's avatar: RSS <image>, Atom <logo>, JSON Feed icon

    def feed_url(self, filename: str) -> str:
        """The absolute URL of one of this set's files, e.g. ``feed_url("atom.xml")``."""
        return f"{self.base_url}/{self.folder}{filename}"

    @property
    def feed_id(self) -> str:
        """The Atom feed id: the Atom file's URL, stable as long as the folder is."""
        return self.feed_url("atom.xml")


@dataclass(frozen=True, slots=True)
class PrebuiltEntry:
    """An article's pieces of every feed format, as the bytes spliced into the documents.

    Made by :func:`~syndicate._feeds.prebuilt.prebuild_entries` in another
    process: the RSS ``<item>``, the Atom ``<entry>`` cut where its related
    links go (they are known later), and the JSON Feed item. Good only for
    feeds with this ``base_url`` and ``full_content``, for an article with
    this id, in documents whose roots match ``context``.
    """

    rss: bytes
    atom_head: bytes
    atom_tail: bytes
    json: bytes
    base_url: str
    full_content: bool
    guid: str  # the article's id it was built with: useless once the identity ledger gave another
    context: str  # see xmlfeeds.fragment_context


@dataclass(frozen=True)
class FeedItems:
    """The items of one feed set, newest first, already limited."""

    articles: tuple[Article, ...] = ()
    outside: tuple[OutsideEntry, ...] = ()
    related_links: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Entries feedgen already built elsewhere, by article slug (see xmlfeeds.prebuild_entries):
    # how they are made, not what they say, so not part of a set's fingerprint.
    prebuilt: dict[str, PrebuiltEntry] = field(default_factory=dict)

    def newest(self) -> datetime | None:
        """When the newest item last changed: the feed's ``updated`` date (None when empty)."""
        moments = [a.modified for a in self.articles] + [e.published for e in self.outside]
        return max(moments) if moments else None
