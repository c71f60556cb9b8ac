"""syndicate: a publisher's article collection to feeds, related stories and newsletters.

The public API, everything a Python user needs, is re-exported here::

    import syndicate

    site = syndicate.Site.open("path/to/site")
    for article in site.collection.filter(tag="festivals"):
        print(article.title, article.url)
    result = site.build()            # writes public/rss.xml, atom.xml, feed.json, tags/, authors/

Lower-level stages take data and return data, so each can be used alone:
:func:`load_config` (a validated :class:`Config`), :func:`load_collection`
(a :class:`Collection`; ``with_bodies=False`` for front matter only, completed
by :func:`load_bodies`), :func:`site_feed_sets` (what the site, each tag and
each author publish), :func:`render_feed_set` (the RSS, Atom and JSON Feed
bytes) and :func:`write_feed_sets` (atomic writes that skip unchanged files);
:func:`build_site` runs them all with the caches, as ``syndicate build`` does.
Every error is a :class:`SyndicateError`; bad input in articles is reported as
:class:`Problem` values rather than raised, so one bad file never stops the rest.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

__version__ = "0.1.0"

# The exception tree is small and is what callers catch, so it is imported at once.
from ._errors import (
    AddressRefused,
    ArchiveStateError,
    ArticleNotFoundError,
    ConfigError,
    DatabaseError,
    DiskFullError,
    DuplicateSourceError,
    ExpiredTokenError,
    FrontMatterError,
    InvalidAddressError,
    InvalidArgumentError,
    InvalidTokenError,
    LedgerWriteError,
    LockedError,
    MailboxError,
    NewsletterError,
    NotWritableError,
    OutboxWriteError,
    PreferenceError,
    RelayUnavailableError,
    SecretMissingError,
    SourceError,
    SourceListError,
    StateDamagedError,
    StoreError,
    SyndicateError,
    TargetExistsError,
    UnknownSourceError,
    WebhookRejected,
    WriteError,
)

if _typing.TYPE_CHECKING:
    from ._build import BuildResult, build_site
    from ._collection import Collection, Reference, load_bodies, load_collection
    from ._config import Config, load_config
    from ._cronline import CronLine
    from ._feeds import FeedSet, render_feed_set, site_feed_sets, write_feed_sets
    from ._model import (
        Article,
        Author,
        Image,
        Issue,
        IssueStory,
        OutsideEntry,
        Problem,
        RelatedPick,
        RenderedIssue,
        Severity,
        Source,
        Subscriber,
        SubscriberStatus,
        Tag,
    )
    from ._newsletter import BuiltIssue, build_issue, prepare_issue
    from ._newsletter.send import SendReport, send_newsletter
    from ._newsletter.site_parts import SiteParts
    from ._newsletter.subscribers import import_subscribers
    from ._newsletter.unsubscribe import unsubscribe_app
    from ._site import Site
    from ._site.content import SiteCheck
    from ._site.newsletter import DueIssue, IssueBuild, SiteNewsletter, UnpublishResult
    from ._site.related import RelatedStories
    from ._site.sources import OpmlImport, SiteSources, SourceChange, SourcesHealth, SourceStatus
    from ._site.subscribers import ExportResult, ImportResult, SiteSubscribers, SubscriberChange, SubscriberList
    from ._sources import FetchReport, SourceResult, fetch_sources, merged_stream
    from ._store import Store
    from ._store.maintenance import BackupResult, StateCheck

# Everything else is imported on first use: ``syndicate fetch`` or ``import syndicate`` for one
# verb does not pay for the build's, the feeds' or the newsletter's modules (numpy, feedgen,
# Jinja2, MJML...). A name's first lookup imports its module and keeps the value here.
_LAZY_MODULES: dict[str, tuple[str, ...]] = {
    "._build": ("BuildResult", "build_site"),
    "._collection": ("Collection", "Reference", "load_bodies", "load_collection"),
    "._config": ("Config", "load_config"),
    "._cronline": ("CronLine",),
    "._feeds": ("FeedSet", "render_feed_set", "site_feed_sets", "write_feed_sets"),
    "._model": (
        "Article",
        "Author",
        "Image",
        "Issue",
        "IssueStory",
        "OutsideEntry",
        "Problem",
        "RelatedPick",
        "RenderedIssue",
        "Severity",
        "Source",
        "Subscriber",
        "SubscriberStatus",
        "Tag",
    ),
    "._site": ("Site",),
    "._site.related": ("RelatedStories",),
    "._sources": ("FetchReport", "fetch_sources", "merged_stream", "SourceResult"),
    "._site.content": ("SiteCheck",),
    "._site.sources": ("OpmlImport", "SiteSources", "SourceChange", "SourcesHealth", "SourceStatus"),
    "._store": ("Store",),
    "._store.maintenance": ("BackupResult", "StateCheck"),
    "._newsletter": ("BuiltIssue", "build_issue", "prepare_issue"),
    "._newsletter.send": ("SendReport", "send_newsletter"),
    "._newsletter.site_parts": ("SiteParts",),
    "._newsletter.subscribers": ("import_subscribers",),
    "._newsletter.unsubscribe": ("unsubscribe_app",),
    "._site.newsletter": ("DueIssue", "IssueBuild", "SiteNewsletter", "UnpublishResult"),
    "._site.subscribers": ("ExportResult", "ImportResult", "SiteSubscribers", "SubscriberChange", "SubscriberList"),
}
_LAZY = {name: module for module, names in _LAZY_MODULES.items() for name in names}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'syndicate' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "AddressRefused",
    "ArchiveStateError",
    "Article",
    "ArticleNotFoundError",
    "Author",
    "BackupResult",
    "BuildResult",
    "BuiltIssue",
    "Collection",
    "Config",
    "ConfigError",
    "CronLine",
    "DatabaseError",
    "DiskFullError",
    "DueIssue",
    "DuplicateSourceError",
    "ExpiredTokenError",
    "ExportResult",
    "FeedSet",
    "FetchReport",
    "FrontMatterError",
    "Image",
    "ImportResult",
    "InvalidAddressError",
    "InvalidArgumentError",
    "InvalidTokenError",
    "Issue",
    "IssueBuild",
    "IssueStory",
    "LedgerWriteError",
    "LockedError",
    "MailboxError",
    "NewsletterError",
    "NotWritableError",
    "OpmlImport",
    "OutboxWriteError",
    "OutsideEntry",
    "PreferenceError",
    "Problem",
    "Reference",
    "RelatedPick",
    "RelatedStories",
    "RelayUnavailableError",
    "RenderedIssue",
    "SecretMissingError",
    "SendReport",
    "Severity",
    "Site",
    "SiteCheck",
    "SiteNewsletter",
    "SiteParts",
    "SiteSources",
    "SiteSubscribers",
    "Source",
    "SourceChange",
    "SourceError",
    "SourceListError",
    "SourceResult",
    "SourceStatus",
    "SourcesHealth",
    "StateCheck",
    "StateDamagedError",
    "Store",
    "StoreError",
    "Subscriber",
    "SubscriberChange",
    "SubscriberList",
    "SubscriberStatus",
    "SyndicateError",
    "Tag",
    "TargetExistsError",
    "UnknownSourceError",
    "UnpublishResult",
    "WebhookRejected",
    "WriteError",
    "__version__",
    "build_issue",
    "build_site",
    "fetch_sources",
    "import_subscribers",
    "load_bodies",
    "load_collection",
    "load_config",
    "merged_stream",
    "prepare_issue",
    "render_feed_set",
    "send_newsletter",
    "site_feed_sets",
    "unsubscribe_app",
    "write_feed_sets",
]

# ``from __future__ import annotations`` leaves a name behind; the public namespace is ``__all__`` alone.
del annotations
