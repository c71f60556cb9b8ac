"""``site.subscribers``: the mailing list's verbs (import, add, remove, unsubscribe, list, stats, export, forget, form).

Each verb is what one ``syndicate subscribers ...`` command does; results have
the ``as_json()`` shape its ``--json`` prints. An address that is not one
raises :class:`~syndicate._errors.InvalidAddressError` (a
:class:`~syndicate._errors.SyndicateError`) naming it.

>>> site = Site.open("path/to/site")                                # doctest: +SKIP
>>> site.subscribers.add("jane@example.com", name="Jane Doe")        # doctest: +SKIP
>>> site.subscribers.unsubscribe("jane@example.com").changed         # doctest: +SKIP
True
"""

from __future__ import annotations

import builtins
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomicfile import write_atomic
from .._errors import InvalidArgumentError
from .._model import Problem, Severity, Subscriber, SubscriberStatus
from .._newsletter.subscribers import (
    ImportReport,
    ListStats,
    add_subscriber,
    find_subscriber,
    forget_subscriber,
    import_subscribers,
    list_stats,
    subscribers_csv,
)

if TYPE_CHECKING:
    from . import Site


def subscriber_json(subscriber: Subscriber, now: datetime) -> dict[str, Any]:
    """One subscriber as ``subscribers list --json`` prints it (a pause that has ended shows as none)."""
    s = subscriber
    return {
        "id": s.id,
        "email": s.email,
        "name": s.name,
        "status": s.status.value,
        "bounces": s.bounces,
        "consent_method": s.consent_method,
        "consent_source": s.consent_source,
        "confirmed_at": s.confirmed_at.isoformat() if s.confirmed_at else None,
        "plain_text": s.plain_text,
        "paused_until": s.paused_until.isoformat() if s.paused(now) and s.paused_until else None,
    }


@dataclass(frozen=True)
class ImportResult:
    """What ``site.subscribers.import_csv`` did: counts and each refused line."""

    report: ImportReport

    @property
    def errors(self) -> builtins.list[Problem]:
        """The refused lines (problems of severity error); warnings are in ``report.problems``."""
        return [p for p in self.report.problems if p.severity is Severity.ERROR]

    def as_json(self) -> dict[str, Any]:
        report, counts = self.report, self.report.counts
        return {
            "file": report.path,
            "read": report.read,
            "added": counts.added,
            "renamed": counts.renamed,
            "unchanged": counts.unchanged,
            "kept_unsubscribed_or_bounced": counts.kept_inactive,
            "duplicates": report.duplicates,
            "forgotten_skipped": report.forgotten,
            "problems": [p.as_json() for p in report.problems],
        }


@dataclass(frozen=True)
class SubscriberChange:
    """One subscriber after a verb: ``changed`` says whether the verb changed anything.

    For ``add``, ``changed`` means the address is new to the list; for
    ``unsubscribe``, that it was not unsubscribed before.
    """

    subscriber: Subscriber
    changed: bool

    def as_json(self) -> dict[str, Any]:
        return {"subscriber": subscriber_json(self.subscriber, datetime.now(UTC)), "changed": self.changed}


@dataclass(frozen=True)
class SubscriberList:
    """The subscribers ``site.subscribers.list`` found, as of ``now``, with the list's health."""

    subscribers: builtins.list[Subscriber]
    stats: ListStats
    now: datetime

    def rows_json(self) -> builtins.list[dict[str, Any]]:
        """The subscribers alone, as ``subscribers list --json`` prints them (a JSON array, as before)."""
        return [subscriber_json(s, self.now) for s in self.subscribers]

    def as_json(self) -> dict[str, Any]:
        return {"subscribers": self.rows_json(), "stats": self.stats.as_json()}


@dataclass(frozen=True)
class ExportResult:
    """The CSV ``site.subscribers.export`` made, and the file it went to (``None``: only returned)."""

    text: str
    count: int
    path: Path | None

    def as_json(self) -> dict[str, Any]:
        return {"path": str(self.path) if self.path else None, "count": self.count}


class SiteSubscribers:
    """The mailing list of one site: ``site.subscribers``."""

    def __init__(self, site: Site) -> None:
        self._site = site

    def import_csv(self, path: str | os.PathLike[str]) -> ImportResult:
        """Import a CSV file with a header row ``email,name``.

        Addresses are validated and normalised; duplicates (any letter case)
        are merged; invalid lines are reported by line number and the rest
        imported. An address that unsubscribed or bounced stays so; one that
        asked to be forgotten is reported and skipped.
        """
        store = self._site.store
        return ImportResult(import_subscribers(store.subscribers, Path(path), store.signups))

    def add(self, email: str, name: str = "", *, resubscribe: bool = False) -> SubscriberChange:
        """Add one subscriber (or update their name); ``resubscribe`` makes an inactive address active again."""
        subscriber, created = add_subscriber(self._site.store.subscribers, email, name, resubscribe=resubscribe)
        return SubscriberChange(subscriber, created)

    def find(self, email: str) -> Subscriber | None:
        """The subscriber with this address (any letter case), or ``None``."""
        return find_subscriber(self._site.store.subscribers, email)

    def remove(self, email: str) -> Subscriber | None:
        """Erase a subscriber and their send history; the removed subscriber, or ``None`` if not listed.

        To only stop their mail, use :meth:`unsubscribe`; to honour an erasure
        request, :meth:`forget`.
        """
        subscriber = self.find(email)
        if subscriber is not None:
            self._site.store.subscribers.remove(subscriber.id)
        return subscriber

    def unsubscribe(self, email: str | None = None, *, token: str | None = None) -> SubscriberChange | None:
        """Unsubscribe an address, or the subscriber a signed ``token`` names; nobody is deleted.

        Returns ``None`` when the address is not on the list. A token needs
        ``$SYNDICATE_SECRET``; a forged or stale one raises
        :class:`~syndicate._errors.InvalidTokenError`. Give exactly one of
        ``email`` and ``token`` (else :class:`~syndicate._errors.InvalidArgumentError`).
        """
        if (email is None) == (token is None):
            raise InvalidArgumentError("unsubscribe() takes an email or a token, not both and not neither")
        table = self._site.store.subscribers
        if token is not None:
            from .._newsletter.unsubscribe import TokenSigner, load_secret, unsubscribe_with_token

            subscriber, changed = unsubscribe_with_token(table, TokenSigner(load_secret()), token)
            return SubscriberChange(subscriber, changed)
        found = self.find(email or "")
        if found is None:
            return None
        changed = found.status is not SubscriberStatus.UNSUBSCRIBED
        table.set_status(found.id, SubscriberStatus.UNSUBSCRIBED)
        return SubscriberChange(table.get(found.id) or found, changed)

    def list(self, status: SubscriberStatus | str | None = None, *, now: datetime | None = None) -> SubscriberList:
        """Subscribers (all, or those with ``status``) with their consent and preferences, and the list's health."""
        moment = now or datetime.now(UTC)
        rows = self._site.store.subscribers.all(SubscriberStatus(status) if status else None)
        return SubscriberList(rows, self.stats(now=moment), moment)

    def stats(self, *, now: datetime | None = None) -> ListStats:
        """The list's health: active, pending, bounced, complained, paused, unsubscribed; growth per week.

        Pending counts addresses with an unconfirmed sign-up still within
        ``[newsletter] confirm_hours``; paused readers are active and counted in both.
        """
        site = self._site
        return list_stats(site.store, site.config.newsletter.confirm_hours, now or datetime.now(UTC))

    def export(
        self, status: SubscriberStatus | str | None = None, *, output: str | os.PathLike[str] | None = None
    ) -> ExportResult:
        """CSV of the subscribers with their consent records and preferences (``import_csv`` reads it back).

        Written atomically to ``output`` when given; the text is returned either way.
        """
        rows = self._site.store.subscribers.all(SubscriberStatus(status) if status else None)
        text = subscribers_csv(rows)
        path = Path(output) if output else None
        if path is not None:
            write_atomic(path, text)
        return ExportResult(text, len(rows), path)

    def forget(self, email: str, *, now: datetime | None = None) -> bool:
        """Erase a person's data on their request, keeping only a salted hash; whether anything was on record.

        A later :meth:`import_csv` of an old list reports and skips the
        address; they can still sign up again through the form.
        """
        return forget_subscriber(self._site.store, email, now or datetime.now(UTC))

    def signup_form(self, source: str = "website") -> str:
        """An HTML sign-up form to paste into any page (it posts to ``[newsletter] subscribe_url``)."""
        from .._newsletter.signup import signup_form_html

        return signup_form_html(self._site.config, source)


__all__ = [
    "ExportResult",
    "ImportResult",
    "SiteSubscribers",
    "SubscriberChange",
    "SubscriberList",
    "subscriber_json",
]
