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

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

from .build import BuildResult, build_site
from .collection import Collection, Reference, load_bodies, load_collection
from .config import Config, load_config
from .cronline import CronLine
from .errors import (
    AddressRefused,
    ArchiveStateError,
    ArticleNotFoundError,
    ConfigError,
    DatabaseError,
    DiskFullError,
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
    StateDamagedError,
    StoreError,
    SyndicateError,
    TargetExistsError,
    WebhookRejected,
    WriteError,
)
from .feeds import FeedSet, render_feed_set, site_feed_sets, write_feed_sets
from .model import (
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
from .site import Site
from .site.related import RelatedStories
from .sources import FetchReport, fetch_sources, merged_stream

# site.sources and site.check: the verbs' results and refusals.
from .errors import DuplicateSourceError, SourceListError, UnknownSourceError  # isort: skip
from .site.content import SiteCheck  # isort: skip
from .site.sources import OpmlImport, SiteSources, SourceChange, SourcesHealth, SourceStatus  # isort: skip
from .sources import SourceResult  # isort: skip
from .store import Store
from .store.maintenance import BackupResult, StateCheck

if TYPE_CHECKING:
    from .newsletter import BuiltIssue, build_issue, prepare_issue
    from .newsletter.send import SendReport, send_newsletter
    from .newsletter.subscribers import import_subscribers
    from .newsletter.unsubscribe import unsubscribe_app

# The newsletter half (Jinja2, MJML, css-inline, SMTP) is loaded on first use, so
# ``syndicate build`` and ``import syndicate`` for feeds do not pay for it.
_LAZY = {
    "BuiltIssue": ".newsletter",
    "build_issue": ".newsletter",
    "prepare_issue": ".newsletter",
    "SendReport": ".newsletter.send",
    "send_newsletter": ".newsletter.send",
    "import_subscribers": ".newsletter.subscribers",
    "unsubscribe_app": ".newsletter.unsubscribe",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'syndicate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
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
    "DuplicateSourceError",
    "ExpiredTokenError",
    "FeedSet",
    "FetchReport",
    "FrontMatterError",
    "Image",
    "InvalidAddressError",
    "InvalidArgumentError",
    "InvalidTokenError",
    "Issue",
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
    "SiteSources",
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
    "SubscriberStatus",
    "SyndicateError",
    "Tag",
    "TargetExistsError",
    "UnknownSourceError",
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
