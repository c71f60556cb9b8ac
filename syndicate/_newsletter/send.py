"""Sending an issue to every subscriber exactly once: the send policy (ledger, retries, preferences).

The SMTP conversation itself is :mod:`syndicate._newsletter.smtp`; this module
decides who gets what, when, and records it.

The run, step by step (:func:`send_newsletter`):

1. Decide the week: ``--week`` as given, else the latest week whose issue is
   due (``[newsletter] send_weekday``/``send_time`` in the site timezone). A
   week already sent completely is not sent again, so an hourly cron job is
   correct; weeks missed while the machine was down are reported and skipped
   in favour of the latest.
2. Take the send lock (a second overlapping run exits with "locked").
3. The first run of an issue renders it once, stores it, and fixes its
   audience in the ledger (one ``pending`` row per active subscriber).
4. For each row due now, one SMTP transaction on the shared connection. One
   commit records the previous message's outcome (``sent`` on 250,
   ``deferred`` with back-off on 4xx, ``bounced`` on 5xx, counted towards
   suppression) and marks this one ``in_flight``; it runs on a worker thread
   while the relay answers MAIL and RCPT, and the message data is sent only
   once it is done.

Exactly once, and the one exception: the ledger commits ``in_flight`` before
a message's data and ``sent`` after the relay's 250 (before the next data). A run killed
between the two (SIGKILL, power loss) leaves that one row ``in_flight``, and
the next run sends it again, with the same Message-ID: the recipient may get
that one message twice, and their mail client can tell it is the same message.
Since one connection sends one message at a time, at most one row is ever in
flight, so a crash costs at most one duplicate, never a lost recipient.

Bounded retries, one recipient never blocking the rest: each message gets one
SMTP transaction per run. Every attempt counts across runs (it is counted when
the row is marked in flight, so one cut off by a crash counts too); a 4xx
reply or a connection lost before the data defers the row with back-off; a
connection lost after the data (dropped, or silent past ``[smtp] timeout``)
means "maybe delivered": the row becomes ``unconfirmed`` and one later run
retries it with the same Message-ID, never more. A row that reaches
``max_attempts`` (or is unconfirmed a second time) is ``parked`` and reported.
After any lost connection the run reconnects and goes on with the next
recipient; only a relay that cannot be reached at all stops the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .._atomicfile import write_atomic
from .._dates import backoff, missed_weeks, next_due, resolve_week
from .._errors import NewsletterError
from .._errors import OutboxWriteError as OutboxWriteError  # re-exported: its old import path
from .._model import RenderedIssue, Subscriber
from .._store.ledger import OPEN_STATUSES, DeliveryStatus, LedgerRow, RowOutcome
from . import prepare_issue, publish_issue
from .envelope import Envelope
from .ledger import LedgerWriter, issue_from_json, issue_to_json
from .lock import SendLock
from .message import MessageTemplate, Recipient, template_for, unsubscribe_base
from .report import Progress, RunKind, SendReport
from .site_parts import SiteParts
from .smtp import Outcome, RelayUnavailableError, Reply, SmtpRelay
from .subscribers import InvalidAddressError, normalize_address
from .unsubscribe import TokenSigner, load_secret, unsubscribe_link
from .variants import with_reader_choices

__all__ = ["OutboxWriteError", "RelayUnavailableError", "RunKind", "SendReport", "send_newsletter"]

DEFERRALS_IN_A_ROW = 25  # then the relay itself is unhappy (throttling, full queue): stop, retry later


# --- the run --------------------------------------------------------------------------------------


class Sender:
    """What every message of a run shares: the site, the run's clock, the token signer."""

    def __init__(self, site: SiteParts, now: datetime) -> None:
        self.site = site
        self.config = site.config
        self.now = now
        self.signer = TokenSigner(load_secret())
        self.envelope = Envelope.for_site(self.config, load_secret())  # VERP return paths, DKIM (bounce handling)

    def template(self, issue: RenderedIssue) -> MessageTemplate:
        return template_for(self.config, issue)

    def recipient(self, subscriber_id: int, email: str, name: str) -> tuple[Recipient, str]:
        token = self.signer.token(subscriber_id, email)
        link = unsubscribe_link(unsubscribe_base(self.config), token)
        return Recipient(email=email, name=name, unsubscribe_url=link, subscriber_id=subscriber_id), token

    def envelope_sender(self, template: MessageTemplate, recipient: Recipient) -> str:
        """The MAIL FROM of one recipient's message: its own VERP address when configured, else the From address."""
        return self.envelope.return_path(
            template.sender.addr_spec, recipient.subscriber_id, template.week, recipient.email
        )

    def outgoing(
        self,
        template: MessageTemplate,
        recipient: Recipient,
        token: str,
        *,
        now: datetime,
        message_id: str | None = None,
    ) -> OutgoingMessage:
        """One recipient's message as it goes to the relay (or to a dry run's file).

        Every path that sends builds its message here, so a step that must
        see each finished message (DKIM signing of ``data``) goes here too.
        """
        data = self.envelope.sign(template.render(recipient, token=token, now=now, message_id=message_id))
        return OutgoingMessage(self.envelope_sender(template, recipient), recipient.email, data)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One recipient's message: its envelope and its bytes, CRLF line ends, ready for DATA."""

    envelope_sender: str
    recipient: str
    data: bytes


def send_newsletter(
    site: SiteParts,
    *,
    week: str | None = None,
    now: datetime | None = None,
    dry_run_dir: str | Path | None = None,
    dry_run: bool = False,
    test_address: str | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
) -> SendReport:
    """Send the due issue (or ``week``'s) to every subscriber not yet sent it.

    ``dry_run`` writes each message that would be sent as an ``.eml`` file
    (into ``dry_run_dir``, default ``.syndicate/outbox/<week>/``) and records
    nothing; ``test_address`` sends one copy there and records nothing;
    ``limit`` caps the messages of this run (the rest go out on later runs).
    """
    moment = now or datetime.now(UTC)
    config = site.config
    label, explicit = resolve_week(config, week, moment)
    sender = Sender(site, moment)
    # A full disk (or a file size limit) while writing any state of the run is one clear error,
    # raised before anything unsent could be recorded as sent.
    with site.store.ledger.writing(f"the state of the {label} send run"):
        if test_address is not None:
            return _send_test(sender, label, test_address, moment)
        if dry_run or dry_run_dir is not None:
            folder = Path(dry_run_dir) if dry_run_dir else config.state_dir / "outbox" / label
            return _dry_run(sender, label, folder, limit, progress)
        with SendLock(config.state_dir / "send.lock"):
            return _send_run(sender, label, explicit, limit, progress)


def _issue_for(sender: Sender, label: str) -> tuple[RenderedIssue | None, bool]:
    """The stored issue of ``label`` when it was opened before, else a fresh rendering."""
    stored = sender.site.store.ledger.rendered(label)
    if stored is not None:
        return issue_from_json(stored), True
    return prepare_issue(sender.site, label, now=sender.now), False


def _send_test(sender: Sender, label: str, address: str, now: datetime) -> SendReport:
    try:
        email = normalize_address(address)
    except InvalidAddressError as exc:
        raise NewsletterError(f"--to {address!r}: {exc.reason}") from None
    issue, _ = _issue_for(sender, label)
    if issue is None:
        return SendReport(label, RunKind.EMPTY, f"{label} has no stories: no issue to send")
    template = sender.template(issue)
    recipient, token = sender.recipient(0, email, "")
    relay = SmtpRelay(sender.config.smtp)
    try:
        message = sender.outgoing(template, recipient, token, now=now)
        reply = relay.deliver(message.envelope_sender, message.recipient, message.data)
    finally:
        relay.close()
    report = SendReport(label, RunKind.TEST, f"test copy of {label} to {email}: {reply}", connections=1)
    if reply.outcome is Outcome.SENT:
        report.sent = 1
    elif reply.outcome is Outcome.DEFERRED:
        report.deferred = 1
    elif reply.outcome is Outcome.UNCONFIRMED:
        report.unconfirmed = 1
    else:
        report.bounced = 1
    return report


def _dry_run(sender: Sender, label: str, folder: Path, limit: int | None, progress: Progress | None) -> SendReport:
    store = sender.site.store
    issue, opened = _issue_for(sender, label)
    if issue is None:
        return SendReport(label, RunKind.EMPTY, f"{label} has no stories: no issue to send")
    if opened:
        ids = [row.subscriber_id for row in store.ledger.rows_to_send(label, sender.now)]
        subscribers = [s for s in store.subscribers.by_ids(ids).values() if s.active]
    else:
        subscribers = store.subscribers.receiving(sender.now, sender.config.newsletter.max_bounces)  # as a run would
    subscribers.sort(key=lambda s: s.id)
    if limit is not None:
        subscribers = subscribers[:limit]
    template = with_reader_choices(sender.template(issue), subscribers)  # plain text for those who chose it
    for done, subscriber in enumerate(subscribers, 1):
        recipient, token = sender.recipient(subscriber.id, subscriber.email, subscriber.name)
        safe = "".join(c if c.isalnum() or c in "@._-" else "_" for c in subscriber.email)
        path = folder / f"{subscriber.id:07d}-{safe}.eml"
        try:
            write_atomic(path, sender.outgoing(template, recipient, token, now=sender.now).data)
        except OSError as exc:  # ENOSPC, EFBIG, EACCES: write_atomic left no partial file behind
            raise OutboxWriteError(path, exc.strerror or str(exc)) from None
        if progress:
            progress(done, len(subscribers))
    return SendReport(
        label,
        RunKind.DRY_RUN,
        f"dry run: wrote {len(subscribers)} message(s) of {label} to {folder}; nothing sent or recorded",
        dry_run_dir=str(folder),
    )


def _skip_reason(subscriber: Subscriber | None, max_bounces: int, now: datetime) -> str:
    if subscriber is None:
        return "removed from the list"
    if not subscriber.active:
        return f"{subscriber.status.value} since the issue was first sent"
    if subscriber.bounces >= max_bounces:
        return f"suppressed after {subscriber.bounces} hard bounces"
    if subscriber.paused(now):
        # Paused after the audience was fixed: a retry must not reach them while the pause lasts.
        return f"paused until {subscriber.paused_until:%Y-%m-%d}"
    return ""


def _send_run(sender: Sender, label: str, explicit: bool, limit: int | None, progress: Progress | None) -> SendReport:
    config, store, now = sender.config, sender.site.store, sender.now
    nl = config.newsletter
    ledger = store.ledger
    record = ledger.issue(label)
    missed: list[str] = []
    if not explicit:
        if record is not None and record.completed_at is not None:
            upcoming = next_due(config, now)
            return SendReport(
                label,
                RunKind.ALREADY_SENT,
                f"{label} was already sent ({record.completed_at:%Y-%m-%d %H:%M} UTC); "
                f"the next issue is due {upcoming:%a %Y-%m-%d %H:%M %Z}",
            )
        opened_weeks = [r.week for r in ledger.issues()]
        newer = [week for week in opened_weeks if week > label]
        if newer:
            # A later issue went out (sent with --week ahead of time): the due one is stale now.
            return SendReport(
                label,
                RunKind.ALREADY_SENT,
                f"{label} is due, but the later issue {newer[-1]} was already sent; not sending an older one",
            )
        earlier = [week for week in opened_weeks if week < label]
        missed = missed_weeks(earlier[-1] if earlier else None, label)
    issue, opened = _issue_for(sender, label)
    if issue is None:
        return SendReport(label, RunKind.EMPTY, f"{label} has no stories: no issue to send", missed_weeks=missed)
    if not opened or explicit:
        # The audience is fixed when the issue first goes out; an explicit --week also adds newcomers.
        active = [s.id for s in store.subscribers.receiving(now, nl.max_bounces)]  # paused readers wait
        ledger.open_issue(label, issue.subject, issue_to_json(issue), active, now)
    publish_issue(sender.site, label, now=now)  # the web archive is the stored rendering, up before any message
    rows = ledger.rows_to_send(label, now)
    report = SendReport(label, RunKind.SENT, missed_weeks=missed)
    if missed:
        report.message = f"missed {', '.join(missed)} (not sent when due); sending only the latest due issue, {label}"
    if not rows:
        _finish_report(sender, report)
        if report.remaining:
            report.kind = RunKind.WAITING
            when = f" (next retry after {report.next_retry:%Y-%m-%d %H:%M} UTC)" if report.next_retry else ""
            report.message = f"{label}: {report.remaining} deferred recipient(s) wait for their retry{when}"
        elif not report.message:
            report.kind = RunKind.ALREADY_SENT
            report.message = f"{label} was already sent to everyone"
        return report
    if limit is not None:
        rows = rows[:limit]
    subscribers = store.subscribers.by_ids([row.subscriber_id for row in rows])
    template = with_reader_choices(sender.template(issue), subscribers.values())  # plain text for those who chose it
    relay = SmtpRelay(config.smtp, nl.rate_per_second)
    writer = LedgerWriter(store, label, now, nl.max_bounces)
    backlog: list[RowOutcome] = []  # outcomes not yet handed to the writer
    deferrals = 0
    try:
        relay.open()
        for done, row in enumerate(rows, 1):
            subscriber = subscribers.get(row.subscriber_id)
            reason = _skip_reason(subscriber, nl.max_bounces, now)
            if reason or subscriber is None:
                if subscriber is not None:
                    backlog.append(RowOutcome(row.subscriber_id, DeliveryStatus.SKIPPED, reason))
                report.skipped += 1
            elif row.attempts >= nl.max_attempts:
                # Cut off by crashes (or relay trouble) max_attempts times: give up rather than try for ever.
                why = row.last_reply or "each attempt was cut off before the relay answered"
                backlog.append(_park(row.subscriber_id, subscriber.email, f"{_attempts(row.attempts)}: {why}", report))
            else:
                recipient, token = sender.recipient(subscriber.id, subscriber.email, subscriber.name)
                # Every attempt at one recipient's copy is the same message, with the Message-ID of
                # the first: a copy that may have gone out already (a run died with it in flight, or
                # the connection died after its data) and its resend are then one message to the
                # recipient's mail client.
                message_id = row.message_id or template.message_id(recipient)
                message = sender.outgoing(template, recipient, token, now=datetime.now(UTC), message_id=message_id)
                # One commit records the previous outcomes and marks this message in flight; it runs
                # while the relay answers MAIL and RCPT, and the data waits for it (before_data).
                writer.submit(backlog, (subscriber.id, message_id))
                backlog = []
                try:
                    reply = relay.deliver(
                        message.envelope_sender, message.recipient, message.data, before_data=writer.wait
                    )
                except RelayUnavailableError as exc:
                    # Refused before any recipient was named (no connection, or MAIL FROM turned away):
                    # the attempt marked in flight is given back, so a relay outage of any length
                    # never parks a reader; the run stops and the next one tries again.
                    backlog.append(RowOutcome(row.subscriber_id, DeliveryStatus.DEFERRED, str(exc), now, refund=True))
                    raise
                backlog.append(_outcome(sender, row, subscriber.email, reply, report))
                unanswered = reply.outcome in (Outcome.DEFERRED, Outcome.UNCONFIRMED)
                deferrals = deferrals + 1 if unanswered else 0
                if deferrals >= DEFERRALS_IN_A_ROW:
                    raise RelayUnavailableError(
                        f"the relay deferred {deferrals} messages in a row (last: {reply}); "
                        "stopping this run, the rest stay pending for the next one"
                    )
            if progress:
                progress(done, len(rows))
    except NewsletterError as exc:
        # The message being sent stays in flight: the next run sends it again.
        report.error = str(exc)
    finally:
        relay.close()
        writer.submit(backlog, None)
        writer.close()
        report.connections = relay.connections
    _finish_report(sender, report)
    return report


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def _park(subscriber_id: int, email: str, why: str, report: SendReport) -> RowOutcome:
    report.parked += 1
    report.parked_recipients.append(f"{email}: {why}")
    return RowOutcome(subscriber_id, DeliveryStatus.PARKED, f"parked after {why}")


def _outcome(sender: Sender, row: LedgerRow, email: str, reply: Reply, report: SendReport) -> RowOutcome:
    nl, now = sender.config.newsletter, sender.now
    subscriber_id = row.subscriber_id
    if reply.outcome is Outcome.SENT:
        report.sent += 1
        return RowOutcome(subscriber_id, DeliveryStatus.SENT, str(reply))
    if reply.outcome is Outcome.BOUNCED:
        report.bounced += 1
        return RowOutcome(subscriber_id, DeliveryStatus.BOUNCED, str(reply))
    tries = row.attempts + 1  # this attempt was counted when it was marked in flight
    if reply.outcome is Outcome.UNCONFIRMED:
        if row.unconfirmed >= 1 or tries >= nl.max_attempts:
            # Maybe delivered twice already: a third copy is worse than asking a human.
            return _park(subscriber_id, email, f"{_attempts(tries)}, data sent without a verdict: {reply}", report)
        report.unconfirmed += 1
        retry_at = now + backoff(tries, nl.retry_minutes)
        return RowOutcome(subscriber_id, DeliveryStatus.UNCONFIRMED, str(reply), retry_at, unconfirmed=True)
    if tries >= nl.max_attempts:
        return _park(subscriber_id, email, f"{_attempts(tries)}: {reply}", report)
    report.deferred += 1
    return RowOutcome(subscriber_id, DeliveryStatus.DEFERRED, str(reply), now + backoff(tries, nl.retry_minutes))


def _finish_report(sender: Sender, report: SendReport) -> None:
    ledger = sender.site.store.ledger
    ledger.close_issue_if_done(report.week, sender.now)
    counts = ledger.counts(report.week)
    report.remaining = sum(counts.get(status, 0) for status in OPEN_STATUSES)
    report.next_retry = ledger.next_retry(report.week)
