"""The one set of suppression rules every bounce and complaint goes through (mailbox or webhook).

* a hard bounce suppresses the address at once (status ``bounced``);
* a complaint suppresses it at once (status ``complained``), whatever it was:
  someone who called us spam is never mailed again, even after a re-import;
* a soft bounce is counted; at ``[bounces] soft_bounce_limit`` distinct
  reports the address is suppressed (``bounced``).

Each event is recorded once by its key, so re-reading a mailbox or a service
retrying a webhook never counts a report twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .._config import Config
from .._model import Subscriber, SubscriberStatus
from .._store import Store
from .bounces import BounceKind
from .unsubscribe import load_secret
from .verp import VerpAddresses

__all__ = ["BounceEvent", "Verdict", "apply_event", "attribute_return_path", "verp_addresses"]


class Verdict(StrEnum):
    SUPPRESSED = "suppressed"  # this event took the address off the list
    COUNTED = "counted"  # a soft bounce below the limit
    ALREADY = "already suppressed"  # the address was off the list before
    DUPLICATE = "duplicate"  # this very report was processed before


@dataclass(frozen=True, slots=True)
class BounceEvent:
    """One attributed report, whatever its origin."""

    subscriber_id: int
    kind: BounceKind
    origin: str  # "mailbox", "ses", "postmark", "sendgrid"
    event_key: str
    detail: str = ""
    week: str = ""


def verp_addresses(config: Config, secret: bytes | None = None) -> VerpAddresses | None:
    """The site's VERP scheme, or None when ``[newsletter] verp_address`` is unset."""
    nl = config.newsletter
    if not nl.verp_address:
        return None
    return VerpAddresses(secret if secret is not None else load_secret(), nl.verp_address, nl.verp_separator)


def attribute_return_path(
    store: Store, verp: VerpAddresses, candidates: tuple[str, ...] | list[str]
) -> tuple[Subscriber, str] | None:
    """The subscriber (and issue week) of the first candidate that is a genuine return path of ours.

    A forged, altered or stale id matches nobody; the addresses a bounce
    merely quotes are never consulted.
    """
    for address in candidates:
        claimed = verp.parse(address)
        if claimed is None:
            continue
        subscriber = store.subscribers.get(claimed.subscriber_id)
        if subscriber is not None and verp.verify(claimed, subscriber.email):
            return subscriber, claimed.week
    return None


def apply_event(store: Store, config: Config, event: BounceEvent, now: datetime) -> Verdict:
    """Record ``event`` and apply the suppression rules to its subscriber."""
    if not store.bounce_events.add(
        event.event_key, event.subscriber_id, event.kind.value, event.origin, event.week, event.detail, now
    ):
        return Verdict.DUPLICATE
    subscriber = store.subscribers.get(event.subscriber_id)
    if subscriber is None:
        return Verdict.ALREADY
    if event.kind is BounceKind.COMPLAINT:
        if subscriber.status is SubscriberStatus.COMPLAINED:
            return Verdict.ALREADY
        store.subscribers.set_status(subscriber.id, SubscriberStatus.COMPLAINED)
        return Verdict.SUPPRESSED
    if subscriber.status is not SubscriberStatus.ACTIVE:
        return Verdict.ALREADY
    if event.kind is BounceKind.SOFT:
        soft = store.bounce_events.count(subscriber.id, BounceKind.SOFT.value)
        if soft < config.bounces.soft_bounce_limit:
            return Verdict.COUNTED
    store.subscribers.set_status(subscriber.id, SubscriberStatus.BOUNCED)
    return Verdict.SUPPRESSED
