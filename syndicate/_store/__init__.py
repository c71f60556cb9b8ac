"""The state database: the only part of syndicate that talks SQL.

One SQLite file under ``.syndicate/`` holds the parse cache, output
fingerprints, the fetch cache and source health, outside entries, the related
index, subscribers and the send ledger. Each concern is one module here with
its own table class and migrations.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from . import articles, bounces, entries, identities, ledger, outputs, related, sources, subscribers
from .articles import ArticleCache
from .bounces import BounceEventTable
from .database import Database, Migration
from .entries import OutsideEntries, StoredEntry
from .identities import IdentityLedger, IdentityRecord
from .ledger import SendLedger
from .outputs import OutputFingerprints
from .related import LastPicks, RelatedFeatureCache, RelatedLastPicks
from .signups import MIGRATIONS as SIGNUP_MIGRATIONS
from .signups import SignupTable
from .sources import SourceHealthTable
from .subscribers import SubscriberTable

ALL_MIGRATIONS: list[Migration] = [
    *articles.MIGRATIONS,
    *outputs.MIGRATIONS,
    *sources.MIGRATIONS,
    *entries.MIGRATIONS,
    *related.MIGRATIONS,
    *subscribers.MIGRATIONS,
    *SIGNUP_MIGRATIONS,
    *ledger.MIGRATIONS,
    *bounces.MIGRATIONS,
    *identities.MIGRATIONS,
]


class Store:
    """The state database of one site, migrated to the current schema on open."""

    def __init__(self, path: str | Path) -> None:
        self.db = Database(path, ALL_MIGRATIONS)

    @cached_property
    def article_cache(self) -> ArticleCache:
        return ArticleCache(self.db)

    @cached_property
    def outputs(self) -> OutputFingerprints:
        return OutputFingerprints(self.db)

    @cached_property
    def related_features(self) -> RelatedFeatureCache:
        return RelatedFeatureCache(self.db)

    @cached_property
    def related_last_picks(self) -> RelatedLastPicks:
        return RelatedLastPicks(self.db)

    @cached_property
    def signups(self) -> SignupTable:
        return SignupTable(self.db)

    @cached_property
    def subscribers(self) -> SubscriberTable:
        return SubscriberTable(self.db)

    @cached_property
    def bounce_events(self) -> BounceEventTable:
        return BounceEventTable(self.db)

    @cached_property
    def ledger(self) -> SendLedger:
        return SendLedger(self.db)

    @cached_property
    def source_health(self) -> SourceHealthTable:
        return SourceHealthTable(self.db)

    @cached_property
    def outside_entries(self) -> OutsideEntries:
        return OutsideEntries(self.db)

    @cached_property
    def identities(self) -> IdentityLedger:
        return IdentityLedger(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "ArticleCache",
    "Database",
    "IdentityLedger",
    "IdentityRecord",
    "LastPicks",
    "OutputFingerprints",
    "OutsideEntries",
    "RelatedFeatureCache",
    "RelatedLastPicks",
    "SendLedger",
    "SignupTable",
    "SourceHealthTable",
    "Store",
    "StoredEntry",
    "SubscriberTable",
]
