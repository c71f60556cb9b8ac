"""Subscriber addresses: validation, normalisation, and CSV import.

Addresses go through email-validator (syntax only: no DNS, so imports work
offline and fast) and are stored in its normalised form; two addresses that
differ only in letter case are one subscriber. Names are made safe for a
header: control characters (CR and LF above all) become spaces.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import InvalidAddressError as InvalidAddressError  # re-exported: its old import path
from .._model import Problem, Severity, Subscriber, SubscriberStatus
from .._store.signups import SignupTable
from .._store.subscribers import MergeCounts, SubscriberTable, email_key

if TYPE_CHECKING:
    from .._store import Store

MAX_NAME_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_SPACES = re.compile(r"\s+")


def normalize_address(text: str) -> str:
    """The normalised form of an address, or :class:`InvalidAddressError`.

    Internationalised local parts (SMTPUTF8) are refused: not every relay
    takes them, and a message that cannot be delivered is worse than a clear
    error at import. Internationalised domains are stored in their ASCII form.
    """
    # Imported here, not at the top: only subscriber commands validate addresses.
    from email_validator import EmailNotValidError, validate_email

    try:
        info = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddressError(text.strip(), str(exc)) from None
    return info.ascii_email or info.normalized


def clean_name(text: str) -> str:
    """A display name safe in a header and a greeting: one line, trimmed, bounded."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()[:MAX_NAME_LENGTH]


@dataclass
class ImportReport:
    """What an import did: counts, and each refused line named by number."""

    path: str
    read: int = 0
    duplicates: int = 0  # rows naming an address an earlier row of the file named
    forgotten: int = 0  # rows skipped because the address asked to be forgotten
    counts: MergeCounts = field(default_factory=MergeCounts)
    problems: list[Problem] = field(default_factory=list)


def read_subscriber_csv(text: str, path: str) -> tuple[list[tuple[str, str]], ImportReport]:
    """Parse CSV with a header row naming ``email`` (and optionally ``name``).

    Returns the valid ``(address, name)`` rows, duplicates merged (a later
    non-empty name wins), and a report naming every refused line.
    """
    report = ImportReport(path=path)
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        report.problems.append(Problem(path, "the file is empty; expected a header row 'email,name'", line=1))
        return [], report
    columns = [column.strip().lower() for column in header]
    if "email" not in columns:
        report.problems.append(
            Problem(path, f"the header row has no 'email' column (found: {', '.join(header)})", line=1)
        )
        return [], report
    email_at = columns.index("email")
    name_at = columns.index("name") if "name" in columns else None
    merged: dict[str, tuple[str, str]] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        report.read += 1
        raw = row[email_at] if email_at < len(row) else ""
        if not raw.strip():
            report.problems.append(Problem(path, "no address in the 'email' column", line=line))
            continue
        try:
            address = normalize_address(raw)
        except InvalidAddressError as exc:
            report.problems.append(Problem(path, f"{raw.strip()!r}: {exc.reason}", line=line))
            continue
        name = clean_name(row[name_at]) if name_at is not None and name_at < len(row) else ""
        key = email_key(address)
        if key in merged:
            report.duplicates += 1
            report.problems.append(
                Problem(path, f"{address} is listed again; merged with the earlier row", Severity.WARNING, line)
            )
            address, name = merged[key][0], name or merged[key][1]  # the first spelling stays
        merged[key] = (address, name)
    return list(merged.values()), report


def import_subscribers(table: SubscriberTable, path: str | Path, signups: SignupTable | None = None) -> ImportReport:
    """Import a CSV file of subscribers; unsubscribed and bounced addresses stay so.

    With ``signups`` (the store's), addresses that asked to be forgotten are
    reported and skipped: an old list cannot bring them back silently.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        report = ImportReport(path=str(source))
        report.problems.append(Problem(str(source), f"cannot read the file: {exc}"))
        return report
    rows, report = read_subscriber_csv(text, str(source))
    if signups is not None:
        forgotten = signups.forgotten([email for email, _ in rows])
        for email in sorted(forgotten):
            report.problems.append(
                Problem(
                    str(source),
                    f"{email} asked to be forgotten: skipped (they can sign up again themselves)",
                    Severity.WARNING,
                )
            )
        report.forgotten = len(forgotten)
        rows = [row for row in rows if row[0] not in forgotten]
    report.counts = table.merge(rows, method="import", source=source.name)
    return report


def add_subscriber(
    table: SubscriberTable, address: str, name: str = "", *, resubscribe: bool = False
) -> tuple[Subscriber, bool]:
    """Add one address; return the subscriber and whether it is new.

    An unsubscribed or bounced address stays so unless ``resubscribe`` says
    the person asked to come back (their consent is the operator's to check).
    """
    email = normalize_address(address)
    existing = table.find(email)
    table.merge([(email, clean_name(name))], method="manual")
    subscriber = table.find(email)
    assert subscriber is not None
    if resubscribe and not subscriber.active:
        table.set_status(subscriber.id, SubscriberStatus.ACTIVE, reset_bounces=True)
        subscriber = table.get(subscriber.id) or subscriber
    return subscriber, existing is None


def find_subscriber(table: SubscriberTable, address: str) -> Subscriber | None:
    """The subscriber with this address (any letter case), or None."""
    return table.find(normalize_address(address))


EXPORT_COLUMNS = (
    "email",
    "name",
    "status",
    "bounces",
    "created_at",
    "consent_method",
    "consent_source",
    "consent_at",
    "confirmed_at",
    "plain_text",
    "paused_until",
)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def subscribers_csv(subscribers: list[Subscriber]) -> str:
    """CSV with the import's header (``email,name``), status, bounces, the consent record and preferences."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for s in subscribers:
        writer.writerow(
            [
                s.email,
                s.name,
                s.status.value,
                s.bounces,
                _iso(s.created_at),
                s.consent_method,
                s.consent_source,
                _iso(s.consent_at),
                _iso(s.confirmed_at),
                int(s.plain_text),
                _iso(s.paused_until),
            ]
        )
    return out.getvalue()


def forget_subscriber(store: Store, address: str, now: datetime) -> bool:
    """Erase everything about ``address`` (row, send history, sign-ups), keeping only a salted hash.

    Returns whether anything was on record. The hash is kept either way, so a
    later import skips the address. :class:`InvalidAddressError` for a non-address.
    """
    email = normalize_address(address)
    found = store.subscribers.find(email)
    if found is not None:
        store.subscribers.remove(found.id)
    erased = store.signups.erase_address(email)
    store.signups.forget(email, now)
    return found is not None or erased > 0


@dataclass(frozen=True)
class ListStats:
    """The list's health: who gets the newsletter, who is waiting, who left, and growth per week."""

    active: int
    pending: int
    bounced: int
    complained: int
    paused: int
    unsubscribed: int
    weeks: list[tuple[str, int, int]]  # (ISO week, joined, left)

    def as_json(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "pending": self.pending,
            "bounced": self.bounced,
            "complained": self.complained,
            "paused": self.paused,
            "unsubscribed": self.unsubscribed,
            "growth": [{"week": w, "joined": j, "left": left} for w, j, left in self.weeks],
        }


def list_stats(store: Store, confirm_hours: int, now: datetime) -> ListStats:
    """Counts by status (``active`` includes paused readers, also counted alone) and weekly growth."""
    counts = store.subscribers.counts()
    return ListStats(
        active=counts.get(SubscriberStatus.ACTIVE.value, 0),
        pending=store.signups.pending(now, timedelta(hours=confirm_hours)),
        bounced=counts.get(SubscriberStatus.BOUNCED.value, 0),
        complained=counts.get("complained", 0),  # the status bounce processing gives complainers
        paused=store.subscribers.paused_count(now),
        unsubscribed=counts.get(SubscriberStatus.UNSUBSCRIBED.value, 0),
        weeks=store.subscribers.weekly_growth(),
    )
