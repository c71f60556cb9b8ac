"""The immutable data that flows between syndicate's stages.

Nothing here does I/O or imports the rest of syndicate: loaders build these
objects, writers read them. Every ``datetime`` is timezone-aware.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any, TypeVar

_T = TypeVar("_T")


def _pickled_positionally(cls: type[_T]) -> type[_T]:
    """``cls`` pickled as its constructor and its field values in order, like a named tuple.

    A parsed collection crosses process boundaries as pickles (forked parse
    workers send every article to the parent) and is stored as pickles (the
    parse cache). A frozen dataclass with slots pickles through a state
    function that looks up its fields on every object, the largest cost of
    that transfer; one ``attrgetter`` call out and one constructor call in
    cost a fraction of it. Pickles made the old way still load (the dataclass
    keeps its ``__setstate__``). A change of fields changes the parser
    version, so no stored pickle is read under another field order.
    """
    values = attrgetter(*(item.name for item in fields(cls)))  # type: ignore[arg-type]

    def __reduce__(self: _T) -> tuple[type[_T], tuple[Any, ...]]:
        return type(self), values(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


class Severity(StrEnum):
    """How bad a :class:`Problem` is: errors skip the article, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@_pickled_positionally
@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with an input, named precisely enough to fix it."""

    path: str
    message: str
    severity: Severity = Severity.ERROR
    line: int | None = None

    def __str__(self) -> str:
        location = f"{self.path}:{self.line}" if self.line else self.path
        return f"{location}: {self.severity.value}: {self.message}"

    def as_json(self) -> dict[str, object]:
        """The one JSON shape of a problem, wherever a report lists problems."""
        return {"path": self.path, "line": self.line, "severity": self.severity.value, "message": self.message}


@_pickled_positionally
@dataclass(frozen=True, slots=True)
class Author:
    """A writer of the publication's own articles."""

    name: str
    slug: str
    bio: str = ""
    email: str | None = None
    url: str | None = None
    avatar: str | None = None  # absolute URL of a square picture: the author feed's image, JSON Feed's avatar
    handles: tuple[str, ...] = ()  # social handles as written: "@janedoe", "@jane@film.social"
    show_email: bool = False  # feeds are public: the address goes into Atom only when the author opted in


@_pickled_positionally
@dataclass(frozen=True, slots=True)
class Tag:
    """A topic label; ``slug`` names its feed folder under ``tags/``."""

    name: str
    slug: str


@_pickled_positionally
@dataclass(frozen=True, slots=True)
class Image:
    """An image with the absolute URL feed readers and mail clients need."""

    url: str
    alt: str = ""
    mime_type: str = "image/jpeg"
    # Pixels, when the front matter gives them: feed readers size thumbnails by them (Media RSS).
    width: int | None = None
    height: int | None = None


@_pickled_positionally
@dataclass(frozen=True, slots=True)
class Article:
    """One of the publication's own stories, parsed and ready to publish.

    ``id`` is the permanent identifier used as the feed GUID: it never changes
    when the title or slug is edited, provided the front matter carries ``id``.
    ``related`` and ``more`` are the editor's references (slugs or headlines) as
    written; :class:`~syndicate._collection.Collection` resolves them.
    """

    id: str
    slug: str
    title: str
    url: str
    published: datetime
    source_path: str
    content_html: str = ""
    text: str = ""
    summary: str = ""
    updated: datetime | None = None
    author: Author | None = None
    tags: tuple[Tag, ...] = ()
    image: Image | None = None
    related: tuple[str, ...] = ()
    coauthors: tuple[Author, ...] = ()  # a second byline (desk copy by two people), after ``author``
    more: tuple[str, ...] = ()
    draft: bool = False
    featured: bool = False
    has_permanent_id: bool = False
    content_hash: str = ""

    @property
    def authors(self) -> tuple[Author, ...]:
        """Every byline: ``author`` first, then the co-authors."""
        return (self.author, *self.coauthors) if self.author is not None else self.coauthors

    @property
    def modified(self) -> datetime:
        """The last time the story changed: ``updated`` if set, else ``published``."""
        return self.updated or self.published

    def is_published(self, now: datetime) -> bool:
        """True when the article is neither a draft nor dated after ``now``."""
        return not self.draft and self.published <= now


@dataclass(frozen=True, slots=True)
class Source:
    """An outside feed listed in ``feeds/sources.opml``."""

    url: str
    title: str
    html_url: str = ""
    category: str = ""
    max_items: int | None = None
    keywords: tuple[str, ...] = ()
    weight: float = 1.0
    timezone: str = ""  # IANA zone for the feed's dates written without one (default: UTC)


@dataclass(frozen=True, slots=True)
class OutsideEntry:
    """A story from an outside feed, normalised and sanitised.

    ``summary_html`` has been cleaned (no scripts, handlers, tracking pixels);
    the full outside text is never kept. ``also_at`` lists the URLs of the
    duplicates that merging folded into this entry.
    """

    id: str
    title: str
    url: str
    source_title: str
    source_url: str
    published: datetime
    first_seen: datetime
    summary_html: str = ""
    author: str = ""
    image: Image | None = None
    source_weight: float = 1.0
    also_at: tuple[str, ...] = ()
    also_at_sources: tuple[str, ...] = ()  # titles of the sources of ``also_at``, same order
    category: str = ""  # the source's category from the OPML outline


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How fetching one outside feed has gone: the state kept between runs.

    ``url`` is the address as listed in the OPML file. ``etag`` and
    ``last_modified`` make the next request conditional; ``failures`` counts
    consecutive failed runs and ``next_attempt`` is when back-off (or a
    server's Retry-After) allows the next one. ``moved_to`` is the target of
    a permanent redirect seen for ``moved_runs`` runs in a row.
    """

    url: str
    etag: str = ""
    last_modified: str = ""
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_status: int | None = None
    last_error: str = ""
    failures: int = 0
    next_attempt: datetime | None = None
    disabled: bool = False
    moved_to: str = ""
    moved_runs: int = 0
    entries: int = 0


@dataclass(frozen=True, slots=True)
class RelatedPick:
    """One related story chosen for an article, with why it was chosen."""

    slug: str
    title: str
    url: str
    score: float
    editor_pick: bool = False
    reasons: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class IssueStory:
    """A story in a newsletter issue with its block of related stories."""

    article: Article
    related: tuple[RelatedPick, ...] = ()


@dataclass(frozen=True, slots=True)
class Issue:
    """A weekly newsletter issue: what was selected, before rendering.

    ``week`` is the ISO week label, e.g. ``"2026-W47"``, in the site's timezone.
    """

    week: str
    start: datetime
    end: datetime
    stories: tuple[IssueStory, ...] = ()
    around_the_web: tuple[OutsideEntry, ...] = ()

    @property
    def is_digest(self) -> bool:
        """True for a catch-up issue that spans several missed weeks (see ``[newsletter] catch_up``)."""
        return (self.end - self.start).days > 7

    @property
    def lead(self) -> IssueStory | None:
        """The lead story: the first one, or ``None`` for an empty week."""
        return self.stories[0] if self.stories else None


@dataclass(frozen=True, slots=True)
class RenderedIssue:
    """An issue rendered once for everyone; per-recipient data are placeholders.

    The HTML and text contain the markers of
    :mod:`syndicate._newsletter.placeholders`, substituted per subscriber when
    sending, so the MJML is compiled once per issue, not once per recipient.
    """

    week: str
    subject: str
    preheader: str
    html: str
    text: str
    web_html: str = ""
    story_urls: tuple[str, ...] = field(default_factory=tuple)


class SubscriberStatus(StrEnum):
    """Where an address stands: only ``active`` ones are sent the newsletter."""

    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"  # suppressed after too many hard bounces
    COMPLAINED = "complained"  # marked the newsletter as spam: never mailed again


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A newsletter subscriber as stored: the address is validated and normalised."""

    id: int
    email: str
    name: str = ""
    status: SubscriberStatus = SubscriberStatus.ACTIVE
    bounces: int = 0
    created_at: datetime | None = None
    changed_at: datetime | None = None
    # Consent: how the address came (import, form, api, manual), from where, and when confirmed.
    consent_method: str = ""
    consent_source: str = ""
    consent_at: datetime | None = None
    confirmed_at: datetime | None = None
    # Preferences the reader set on the preferences page.
    plain_text: bool = False
    paused_until: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status is SubscriberStatus.ACTIVE

    def paused(self, now: datetime) -> bool:
        return self.paused_until is not None and now < self.paused_until
