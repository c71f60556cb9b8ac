"""``syndicate bounces``: read the bounce mailbox once and apply what it says.

Each message is classified (:mod:`.bounces`), attributed through its VERP
return path (:mod:`.suppression`), recorded and moved to the processed
folder. A message that is not a bounce or complaint, or names no genuine
return path of ours, is left in place and reported: a person should look.
One bad message never stops the rest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .._errors import ConfigError
from .bounces import classify_message
from .mailbox import MAX_MESSAGE_BYTES, BounceMailbox, MailboxError
from .site_parts import SiteParts
from .suppression import BounceEvent, Verdict, apply_event, attribute_return_path, verp_addresses

__all__ = ["BounceRunReport", "MessageOutcome", "read_bounces"]


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    key: str
    outcome: str  # a Verdict, or "unknown", "unattributed", "error"
    kind: str = ""
    email: str = ""
    week: str = ""
    detail: str = ""
    moved: bool = False


@dataclass
class BounceRunReport:
    mailbox: str
    outcomes: list[MessageOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def suppressed(self) -> list[str]:
        return [o.email for o in self.outcomes if o.outcome == Verdict.SUPPRESSED]

    @property
    def left(self) -> list[MessageOutcome]:
        return [o for o in self.outcomes if not o.moved]

    def as_json(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "read": len(self.outcomes),
            "suppressed": self.suppressed,
            "counted": self.count(Verdict.COUNTED),
            "left": len(self.left),
            "messages": [asdict(o) for o in self.outcomes],
        }


def read_bounces(
    site: SiteParts, box: BounceMailbox, *, now: datetime | None = None, dry_run: bool = False
) -> BounceRunReport:
    """Process every waiting message of ``box`` (``dry_run``: classify and attribute only)."""
    moment = now or datetime.now(UTC)
    config, store = site.config, site.store
    verp = verp_addresses(config)
    if verp is None:
        raise ConfigError(
            "is not set: bounces are attributed by their VERP return path only, so set it "
            "(e.g. bounces@example.com) before sending",
            key="newsletter.verp_address",
        )
    report = BounceRunReport(box.name)
    for key, data in box.messages(config.bounces.max_messages):
        if len(data) > MAX_MESSAGE_BYTES:
            report.outcomes.append(MessageOutcome(key, "unknown", detail=f"larger than {MAX_MESSAGE_BYTES} bytes"))
            continue
        classified = classify_message(data)
        if classified is None:
            report.outcomes.append(MessageOutcome(key, "unknown", detail="not a bounce or complaint report"))
            continue
        found = attribute_return_path(store, verp, classified.return_paths)
        if found is None:
            quoted = ", ".join(classified.quoted_recipients) or "nobody"
            report.outcomes.append(
                MessageOutcome(
                    key,
                    "unattributed",
                    classified.kind.value,
                    detail=f"no genuine return path of ours (the report quotes {quoted})",
                )
            )
            continue
        subscriber, week = found
        if dry_run:
            report.outcomes.append(
                MessageOutcome(key, "would apply", classified.kind.value, subscriber.email, week, classified.detail)
            )
            continue
        event = BounceEvent(subscriber.id, classified.kind, "mailbox", classified.event_key, classified.detail, week)
        verdict = apply_event(store, config, event, moment)
        moved = False
        try:
            box.move_processed(key)
            moved = True
        except MailboxError as exc:
            report.outcomes.append(
                MessageOutcome(key, "error", classified.kind.value, subscriber.email, week, str(exc))
            )
            continue
        report.outcomes.append(
            MessageOutcome(key, verdict.value, classified.kind.value, subscriber.email, week, classified.detail, moved)
        )
    return report
