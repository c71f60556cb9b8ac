"""A site folder opened for use from Python: config, state and collection together."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .._config import Config, load_config, load_secret_files
from .._cronline import DEFAULT_SCHEDULE, CronLine, cron_line
from .._store import Store
from .._store.maintenance import BackupResult, StateCheck, backup_state, check_state, restore_state

# The build's, the collection's and the fetcher's modules are imported by the verbs that use
# them, so a command such as ``syndicate fetch`` or ``subscribers list`` starts without them.
if TYPE_CHECKING:
    from .._build import BuildResult
    from .._collection import Collection
    from .._collection.importer import ImportResult
    from .._cycle import RunReport
    from .._feeds.subscribe import FeedListing
    from .._newsletter.bounce_run import BounceRunReport
    from .._newsletter.dns_records import DnsRecord
    from .._newsletter.server import UnsubscribeServer
    from .._sources import FetchReport, ProgressCallback
    from .content import SiteCheck
    from .newsletter import SiteNewsletter
    from .related import RelatedStories
    from .sources import SiteSources
    from .subscribers import SiteSubscribers


class Site:
    """A site folder: ``syndicate.toml``, ``content/``, ``feeds/``, ``templates/``.

    >>> site = Site.open("path/to/site")          # doctest: +SKIP
    >>> titles = [a.title for a in site.collection.filter(tag="festivals")]  # doctest: +SKIP
    >>> site.build()                              # doctest: +SKIP
    """

    def __init__(self, config: Config) -> None:
        self.config = config

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] = ".",
        *,
        env_file: str | os.PathLike[str] | None = None,
        read_secrets: bool = True,
    ) -> Site:
        """Open the site in ``path``; raises ConfigError if its config is bad.

        Secrets missing from the environment are read from ``env_file``,
        ``$SYNDICATE_SECRET_FILE`` or ``[newsletter] secret_file`` (dotenv
        format), so a cron job needs no wrapper; a named file that is missing
        raises :class:`~syndicate._errors.SecretMissingError`. With
        ``read_secrets=False`` no secret file is read (for what needs none,
        such as :meth:`cron_line`).
        """
        config = load_config(path)
        if read_secrets:
            load_secret_files(config, env_file)
        return cls(config)

    @property
    def root(self) -> Path:
        return self.config.root

    @cached_property
    def store(self) -> Store:
        """The state database, opened (and migrated) on first use."""
        return Store(self.config.database_path)

    @cached_property
    def collection(self) -> Collection:
        """Every article of the site, parsed through the cache, with the GUIDs the identity ledger keeps.

        Reading it changes nothing in the state database; ``build`` records new identities.
        """
        from .._collection import load_collection
        from .._collection.identity import assign_identities

        loaded = load_collection(self.config, self.store.article_cache)
        return assign_identities(loaded, self.store.identities, datetime.now(UTC), record=False)

    @cached_property
    def sources(self) -> SiteSources:
        """Outside feeds: ``.add(...)``, ``.remove``, ``.import_opml``, ``.export_opml``, ``.health()``."""
        from .sources import SiteSources

        return SiteSources(self)

    @cached_property
    def newsletter(self) -> SiteNewsletter:
        """The weekly issue: ``site.newsletter.build(...)``, ``.preview``, ``.send``, ``.due``."""
        from .newsletter import SiteNewsletter

        return SiteNewsletter(self)

    @cached_property
    def subscribers(self) -> SiteSubscribers:
        """The mailing list: ``.import_csv(...)``, ``.add``, ``.unsubscribe``, ``.list``, ``.export``."""
        from .subscribers import SiteSubscribers

        return SiteSubscribers(self)

    def reload(self) -> Collection:
        """Read the content folder again (after files changed)."""
        self.__dict__.pop("collection", None)
        return self.collection

    def fetch(
        self,
        now: datetime | None = None,
        *,
        force: bool = False,
        only: Sequence[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> FetchReport:
        """Fetch the due outside feeds of the OPML list and store their new stories (``syndicate fetch``).

        ``force`` also fetches sources that are backing off (never those gone,
        410); ``only`` limits the run to these URLs. ``progress(result, done,
        total)`` is called as each source finishes, e.g. to draw a progress
        bar. One failing source never stops the others: it is in the report's
        ``failed`` list. Returns a :class:`~syndicate._sources.FetchReport`
        (``as_json()`` is what ``fetch --json`` prints).
        """
        from .._sources import fetch_sources

        return fetch_sources(
            self.config, self.store, now=now, force=force, only=list(only) if only else None, progress=progress
        )

    def build(
        self,
        out_dir: str | os.PathLike[str] | None = None,
        now: datetime | None = None,
        *,
        fetch: bool = False,
        progress: ProgressCallback | None = None,
    ) -> BuildResult:
        """Write every output of ``syndicate build``; return what was done.

        With ``fetch``, the outside feeds are fetched first (as :meth:`fetch`,
        with ``progress``), at the current time even when ``now`` is given:
        ``now`` previews the build, it does not date the fetch. The fetch's
        report is the result's ``fetch``; failing sources never stop the build.
        Warnings about ``syndicate.toml`` itself (deprecated keys) are among
        the result's problems.

        The collection is read from the files (a no-change rebuild reads none);
        :attr:`collection` is read again on its next use.
        """
        from .._build import build_site

        fetched = self.fetch(progress=progress) if fetch else None
        self.__dict__.pop("collection", None)
        result = build_site(self.config, out_dir=Path(out_dir) if out_dir else None, now=now, store=self.store)
        result.fetch = fetched
        return result

    def check(self) -> SiteCheck:
        """Every problem of ``syndicate.toml`` and the articles at once (``syndicate check``); writes nothing."""
        from .content import check_site

        return check_site(self)

    def import_plaintext(
        self,
        files: Iterable[str | os.PathLike[str]],
        *,
        date: datetime | None = None,
        overwrite: bool = False,
        slug: str | None = None,
        keep: bool = False,
    ) -> list[ImportResult]:
        """Convert plain-text desk copy (files, or folders of ``.txt`` files) into Markdown articles in ``content/``.

        ``date`` is the publication date (default: each file's mtime, with a
        warning); ``overwrite`` replaces an existing article; ``slug`` names the
        one story imported; ``keep`` leaves the originals where they are
        instead of moving them to ``content/.imported/``. One bad file never
        stops the rest: its problems are in its result. A ``slug`` with several
        files raises :class:`~syndicate._errors.InvalidArgumentError`.
        """
        from .content import import_desk_copy

        results = import_desk_copy(self, files, date=date, overwrite=overwrite, slug=slug, keep=keep)
        self.__dict__.pop("collection", None)
        return results

    def feed_listings(self, now: datetime | None = None) -> list[FeedListing]:
        """Every feed the site publishes (the site, the merged feed, each tag and author), with its addresses.

        >>> for feed in Site.open("path/to/site").feed_listings():   # doctest: +SKIP
        ...     print(feed.title, feed.main_url)
        """
        from .._feeds.subscribe import site_listings

        return site_listings(self.config, self.collection, now or datetime.now(UTC))

    def related(
        self,
        slug: str,
        *,
        explain: bool = False,
        count: int | None = None,
        exclude: Iterable[str] = (),
        before: datetime | None = None,
        outside: bool = False,
        now: datetime | None = None,
    ) -> RelatedStories:
        """The related stories of the article ``slug`` (or headline): editor's picks first, then computed ones.

        ``count`` defaults to ``[related] count``; ``exclude`` slugs are never
        picked; ``before`` keeps to stories published before that moment;
        ``outside`` also ranks the stored outside stream (from :meth:`fetch`).
        ``explain`` adds each signal's share to ``as_json()``. Raises
        :class:`~syndicate._errors.ArticleNotFoundError` for an unknown slug.

        >>> picks = Site.open("path/to/site").related("hollow-pines-set-visit").picks  # doctest: +SKIP
        """
        from .related import related_stories

        return related_stories(
            self, slug, count=count, explain=explain, exclude=exclude, before=before, outside=outside, now=now
        )

    def run(self, now: datetime | None = None, *, fetch_every: timedelta | None = None) -> RunReport:
        """One unattended cycle (``syndicate run``): fetch, build, newsletter, send, archive, each when due.

        Returns a :class:`~syndicate._cycle.RunReport` (``exit_code``,
        ``as_json()``); a second cycle overlapping this one returns at once
        with ``locked`` set. See :mod:`syndicate._cycle`.
        """
        from .._cycle import FETCH_INTERVAL, run_cycle

        return run_cycle(self, now=now, fetch_every=fetch_every or FETCH_INTERVAL)

    def cron_line(
        self, schedule: str = DEFAULT_SCHEDULE, *, env_file: Path | None = None, log: Path | None = None
    ) -> CronLine:
        """The crontab line that runs ``syndicate run`` here (log by default in ``.syndicate/run.log``)."""
        return cron_line(self.config, schedule, env_file=env_file, log=log)

    def bounces(
        self, maildir: Path | None = None, *, dry_run: bool = False, now: datetime | None = None
    ) -> BounceRunReport:
        """Read the bounce mailbox (``maildir``, else IMAP from ``[bounces]``) and suppress what it reports.

        Returns the run's report (``as_json()``; ``left`` lists the messages
        left in the mailbox). With ``dry_run`` nothing is changed or moved.
        """
        from .._newsletter.bounce_run import read_bounces
        from .._newsletter.mailbox import BounceMailbox, MaildirMailbox, open_imap

        box: BounceMailbox = (
            MaildirMailbox(maildir, self.config.bounces.processed_folder)
            if maildir is not None
            else open_imap(self.config)
        )
        try:
            return read_bounces(self, box, now=now, dry_run=dry_run)
        finally:
            box.close()

    def check_dns(self, *, offline: bool = False, timeout: float = 3.0, nameserver: str = "") -> list[DnsRecord]:
        """The DKIM, SPF and DMARC records to publish for sending, each checked unless ``offline``."""
        from .._newsletter.dns_records import check_dns, dns_resolver, records_to_publish

        return check_dns(records_to_publish(self.config), None if offline else dns_resolver(timeout, nameserver))

    def unsubscribe_server(
        self, host: str, port: int, *, threads: int | None = None, channel_timeout: int | None = None
    ) -> UnsubscribeServer:
        """A listening server for the subscription pages (``serve_forever()``; a context manager)."""
        from .._newsletter.server import ServeLimits, UnsubscribeServer
        from .._newsletter.unsubscribe import unsubscribe_app

        given = {"threads": threads, "channel_timeout": channel_timeout}
        limits = ServeLimits(**{name: value for name, value in given.items() if value is not None})
        return UnsubscribeServer(unsubscribe_app(self), host, port, limits)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]

    def __enter__(self) -> Site:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_state(self, *, quick: bool = False) -> StateCheck:
        """Check the state database file (pages, foreign keys) without opening it for writing."""
        return check_state(self.config.database_path, quick=quick)

    def backup_state(self, target: str | os.PathLike[str], *, force: bool = False) -> BackupResult:
        """Copy the state database to ``target`` (safe while cron or serve use it)."""
        return backup_state(self.config.database_path, target, force=force)

    def restore_state(self, backup: str | os.PathLike[str], *, now: datetime | None = None) -> BackupResult:
        """Replace the state database with ``backup``; the old file is kept beside it."""
        self.close()
        return restore_state(backup, self.config.database_path, now=now)
