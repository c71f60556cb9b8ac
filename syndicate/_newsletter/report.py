"""What a send run reports: counts, the kind of run, and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RunKind(StrEnum):
    SENT = "sent"  # the run sent (or tried) messages
    ALREADY_SENT = "already_sent"
    WAITING = "waiting"  # only deferred recipients are left, and their back-off has not passed
    EMPTY = "empty"  # no stories in the week: no issue
    DRY_RUN = "dry_run"
    TEST = "test"


@dataclass
class SendReport:
    """The summary of one run: what was sent, skipped, deferred and bounced, and why."""

    week: str
    kind: RunKind
    message: str = ""
    sent: int = 0
    skipped: int = 0
    deferred: int = 0
    bounced: int = 0
    failed: int = 0  # given up before parking existed; kept so the JSON shape stays
    unconfirmed: int = 0  # the connection died after the data: maybe delivered, one retry on a later run
    parked: int = 0  # given up this run (max_attempts, or unconfirmed twice): see parked_recipients
    parked_recipients: list[str] = field(default_factory=list)  # "address: why", for the operator
    remaining: int = 0  # still to send after this run (pending or deferred)
    missed_weeks: list[str] = field(default_factory=list)
    next_retry: datetime | None = None
    dry_run_dir: str | None = None
    connections: int = 0
    error: str = ""

    @property
    def partial(self) -> bool:
        """True when some recipients could not be sent to (yet)."""
        return bool(self.deferred or self.bounced or self.failed or self.unconfirmed or self.parked or self.error)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["next_retry"] = self.next_retry.isoformat() if self.next_retry else None
        return data


Progress = Callable[[int, int], None]  # (done, total)
