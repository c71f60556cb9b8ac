"""Sending against a hostile relay and hostile content: bounded retries, nobody blocked, no leaks.

The relay is a real aiosmtpd server on 127.0.0.1 (``smtp_relay.Relay``) told to
misbehave for chosen recipients; runs are a real cron's worth of
``send_newsletter`` calls with the clock moved on, never a sleep.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import html
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import SiteFactory
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from smtp_relay import ARTICLES, WEEK, Relay, relay, send, sending_site, serving, site_config, write_subscribers
from year_relay import FaultyRelay

import syndicate
from syndicate import RenderedIssue, Source, Store, fetch_sources, send_newsletter
from syndicate._config import SmtpConfig, load_config
from syndicate._newsletter import personalise, placeholders
from syndicate._newsletter.message import ListSettings, MessageTemplate, Recipient
from syndicate._newsletter.smtp import Outcome, SmtpRelay
from syndicate._newsletter.subscribers import clean_name, import_subscribers
from syndicate._newsletter.unsubscribe import TokenSigner
from syndicate._sources.opml import render_opml
from syndicate._store.ledger import DeliveryStatus
from syndicate.cli import main

__all__ = ["relay"]  # the fixture, imported for pytest

SECRET = "hostile-secret-0123456789abcdef"
LONDON = ZoneInfo("Europe/London")
AFTER_DUE = datetime(2026, 11, 27, 8, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)


def statuses(site: Path) -> dict[str, DeliveryStatus]:
    with syndicate.Site.open(site) as opened:
        by_id = {s.id: s.email for s in opened.store.subscribers.all()}
        return {by_id[i]: status for i, status in opened.store.ledger.statuses(WEEK).items()}


DROPS = "reader3@example.net"  # the connection dies after the data
HANGS = "reader5@example.net"  # no reply after the data; the client's timeout fires
CLOSES = "reader7@example.net"  # 421 at RCPT, and the relay closes the connection
FULL = "reader9@example.net"  # 452 at RCPT
GONE = "reader11@example.net"  # 550 at RCPT


def hostile(relay: Relay) -> None:
    relay.drop_after_data = {DROPS}
    relay.hang_after_data = {HANGS}
    relay.rcpt_replies = {CLOSES: "421 4.3.2 Closing", FULL: "452 4.2.2 Mailbox full"}
    relay.reject = {GONE}


def test_one_choking_recipient_never_blocks_the_rest_and_retries_are_bounded(
    make_site: SiteFactory, relay: Relay
) -> None:
    site = sending_site(make_site, relay, 20, timeout=1.0)  # the hang costs this, twice
    hostile(relay)
    first = send(site, week=WEEK, now=AFTER_DUE)
    # Everyone else is sent in the same run, after each fault.
    good = {f"reader{n}@example.net" for n in range(20)} - {DROPS, HANGS, CLOSES, FULL, GONE}
    counts = relay.counts()
    assert {a for a in good if counts[a] == 1} == good
    assert (first.sent, first.bounced, first.deferred, first.unconfirmed) == (15, 1, 2, 2)
    assert first.error == ""
    assert statuses(site)[DROPS] is DeliveryStatus.UNCONFIRMED
    assert statuses(site)[HANGS] is DeliveryStatus.UNCONFIRMED

    # A day of hourly cron runs, then a week of daily ones: the faults never stop.
    reports = [first]
    for hour in range(1, 24):
        reports.append(send(site, now=AFTER_DUE + timedelta(hours=hour)))
    for day in range(1, 8):
        reports.append(send(site, now=AFTER_DUE + timedelta(days=day, hours=1)))

    # "Maybe delivered" is retried once, in a later run, as the same message: exactly two copies.
    for address in (DROPS, HANGS):
        ids = relay.message_ids(address)
        assert len(ids) == 2, address  # main: 36 copies of the data for one such address
        assert ids[0] == ids[1], "a resend of a maybe-delivered message keeps its Message-ID"
    # A 4xx at RCPT: max_attempts (6) tries across runs, no data ever, then parked.
    assert relay.rcpt_attempts[CLOSES] == 6 and relay.rcpt_attempts[FULL] == 6
    assert counts[CLOSES] == 0 and relay.counts()[FULL] == 0
    assert relay.rcpt_attempts[GONE] == 1  # a 5xx is final at once

    final = statuses(site)
    for address in (DROPS, HANGS, CLOSES, FULL):
        assert final[address] is DeliveryStatus.PARKED, address
    assert final[GONE] is DeliveryStatus.BOUNCED
    parked = [line for r in reports for line in r.parked_recipients]
    assert sorted(line.split(":")[0] for line in parked) == sorted([DROPS, HANGS, CLOSES, FULL])
    assert sum(r.parked for r in reports) == 4
    assert all(f"{good_one}:" not in " ".join(parked) for good_one in good)
    # The issue is complete: nothing is left pending for ever.
    assert reports[-1].remaining == 0
    assert len(relay.counts()) == 17 and sum(relay.counts().values()) == 15 + 4
    with syndicate.Site.open(site) as opened:
        issue = opened.store.ledger.issue(WEEK)
        assert issue is not None and issue.completed_at is not None
        assert {p.email for p in opened.store.ledger.parked(WEEK)} == {DROPS, HANGS, CLOSES, FULL}


def test_attempts_cut_off_by_crashes_count_towards_max_attempts(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 5)
    with syndicate.Site.open(site) as opened:
        send_newsletter(opened, week=WEEK, now=AFTER_DUE, limit=1)  # opens the issue, sends reader0
        victim = opened.store.subscribers.find("reader1@example.net")
        assert victim is not None
        # Six runs, each killed with reader1 in flight (what a SIGKILL leaves behind).
        for _ in range(6):
            opened.store.ledger.advance(WEEK, AFTER_DUE, started=(victim.id, f"<crash.{victim.id}@test>"))
    report = send(site, week=WEEK, now=AFTER_DUE + timedelta(hours=1))
    assert report.sent == 3 and report.parked == 1
    assert report.parked_recipients[0].startswith("reader1@example.net: 6 attempts")
    assert "reader1@example.net" not in relay.counts()
    assert statuses(site)["reader1@example.net"] is DeliveryStatus.PARKED


def test_a_run_killed_with_a_message_in_flight_resends_it_with_the_same_message_id(
    make_site: SiteFactory, relay: Relay
) -> None:
    site = sending_site(make_site, relay, 3)
    with syndicate.Site.open(site) as opened:
        send_newsletter(opened, week=WEEK, now=AFTER_DUE, limit=1)
        victim = opened.store.subscribers.find("reader1@example.net")
        assert victim is not None
        opened.store.ledger.advance(WEEK, AFTER_DUE, started=(victim.id, "<2026-W47.crash@test.example.org>"))
    report = send(site, week=WEEK, now=AFTER_DUE)
    assert report.sent == 2
    assert relay.message_ids("reader1@example.net") == ["<2026-W47.crash@test.example.org>"]


# --- finding 3: per-recipient markers live only where our templates put them -------------------------

OLD_MARKERS = ("%%SYN_GREETING%%", "%%SYN_NAME%%", "%%SYN_EMAIL%%", "%%SYN_UNSUBSCRIBE_URL%%")
GUESSED = ("%%SYN_EMAIL_0123456789abcdef%%", "%%SYN_UNSUBSCRIBE_URL_0123456789abcdef%%")  # the new form, guessed
EVERY_MARKER = " ".join(OLD_MARKERS + GUESSED)


def hostile_feed() -> str:
    link = "https://evil.example.com/steal?e=%%SYN_EMAIL%%&amp;u=%%SYN_UNSUBSCRIBE_URL%%&amp;n=%%SYN_NAME%%"
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Evil Trade</title>"
        "<link>https://evil.example.com/</link><description>d</description>"
        f"<item><title>Exclusive {EVERY_MARKER}</title><link>{link}</link><guid>evil-1</guid>"
        f"<description>Read {EVERY_MARKER}</description>"
        "<pubDate>Wed, 18 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"
    )


HOSTILE_ARTICLES = {
    **ARTICLES,
    "pasted.md": f"""
        ---
        title: "Pasted {EVERY_MARKER}"
        date: 2026-11-19 09:00
        author: Jane Doe
        summary: "Summary {EVERY_MARKER}"
        ---
        Body {EVERY_MARKER} and [a link](https://evil.example.com/own?e=%%SYN_EMAIL%%).
        """,
}


def test_markers_in_outside_and_own_content_go_out_as_text_never_as_subscriber_data(
    make_site: SiteFactory, relay: Relay, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/evil").respond_with_data(hostile_feed(), content_type="application/rss+xml")
    site = sending_site(make_site, relay, 3, articles=HOSTILE_ARTICLES)
    (site / "feeds").mkdir()
    (site / "feeds" / "sources.opml").write_bytes(render_opml([Source(httpserver.url_for("/evil"), "Evil")], "t"))
    config = load_config(site)
    with Store(config.database_path) as store:
        fetched = fetch_sources(config, store, now=datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    assert not fetched.failed
    report = send(site, week=WEEK, now=AFTER_DUE)
    assert report.sent == 3

    signer = TokenSigner(SECRET.encode())
    with syndicate.Site.open(site) as opened:
        ids = {s.email: s.id for s in opened.store.subscribers.all()}
    for received in relay.received:
        message = received.message()
        address, token = received.rcpt, signer.token(ids[received.rcpt], received.rcpt)
        local = address.split("@")[0]
        text_part, html_part = (part.get_content() for part in message.iter_parts())
        for body in (text_part, html_part):
            # The stories went out, marker text and all, as text.
            assert "Exclusive %%SYN_GREETING%%" in body and "Pasted %%SYN_GREETING%%" in body
            for marker in OLD_MARKERS + GUESSED:
                assert marker in body, marker
            # Above our footer (the one place the templates name the reader), neither the reader's
            # address nor their token appears: no story, title, summary or link carries them.
            stories, _, footer = body.partition("You are receiving this email")
            assert footer and "evil.example.com/steal" in stories
            assert local not in stories and token not in stories
        hrefs = re.findall(r'href="([^"]*)"', html_part)
        evil = [h for h in hrefs if "evil.example.com/steal" in h]
        assert evil and all(local not in h and token not in h for h in evil)
        # Our own template's markers are still filled in: the real unsubscribe link and greeting.
        assert f"Unsubscribe: https://test.example.org/unsubscribe?token={token}" in text_part
        assert f"https://test.example.org/unsubscribe?token={token}" in hrefs
        assert f"because {address} subscribed" in " ".join(text_part.split())
        assert "Hi Reader," in text_part


def test_an_issue_stored_by_an_earlier_run_is_personalised_at_its_own_markers(
    make_site: SiteFactory, relay: Relay
) -> None:
    """A run resuming an issue (another process, other random markers) fills in the same places."""
    site = sending_site(make_site, relay, 4, articles=HOSTILE_ARTICLES)
    first = send(site, week=WEEK, now=AFTER_DUE, limit=2)
    assert first.sent == 2
    with syndicate.Site.open(site) as opened:
        stored = opened.store.ledger.rendered(WEEK)
        assert stored is not None
        # What another process would have stored: its own random markers.
        foreign = [m.replace(m.rsplit("_", 1)[1], "feedfacecafebeef%%") for m in placeholders.ALL]
        for mine, theirs in zip(placeholders.ALL, foreign, strict=True):
            stored = stored.replace(mine, theirs)
    with contextlib.closing(sqlite3.connect(load_config(site).database_path)) as db, db:
        db.execute("UPDATE newsletter_issues SET rendered = ? WHERE week = ?", (stored, WEEK))
    second = send(site, week=WEEK, now=AFTER_DUE)
    assert second.sent == 2
    for received in relay.received:
        text_part = next(received.message().iter_parts()).get_content()
        assert "%%SYN_GREETING%%" in text_part  # the pasted article's literal text
        assert "feedfacecafebeef" not in text_part
        assert "Unsubscribe: https://test.example.org/unsubscribe?token=" in text_part
        assert not any(m in text_part for m in placeholders.ALL)


# --- finding 11, the send part: a full disk (simulated by a file size limit) ----------------------------


def run_cli_with_file_size_limit(site: Path, limit_bytes: int, *args: str) -> subprocess.CompletedProcess[str]:
    """``syndicate newsletter send`` in a process whose files cannot grow past ``limit_bytes``.

    RLIMIT_FSIZE makes every write past the limit fail with EFBIG, for real, in
    SQLite and in Python alike (Python ignores SIGXFSZ, so the write returns
    the error instead of the signal killing the process): a full disk as the
    process sees it, without filling one.
    """

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    # Not measured by coverage: its data file could not be written under the limit either, and the
    # traceback coverage prints about it would land in the stderr under test.
    env = {name: value for name, value in os.environ.items() if not name.startswith("COVERAGE_")}
    return subprocess.run(
        [sys.executable, "-m", "syndicate", "newsletter", "send", "--site", str(site), "--week", WEEK, *args],
        env={**env, "SYNDICATE_SECRET": SECRET, "COLUMNS": "300"},
        preexec_fn=limit_file_size,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_full_disk_mid_send_is_one_line_exit_9_and_nothing_unsent_recorded(
    make_site: SiteFactory, relay: Relay
) -> None:
    site = sending_site(make_site, relay, 300)
    assert send(site, week=WEEK, now=AFTER_DUE, limit=1).sent == 1  # the issue is opened and stored
    database = load_config(site).database_path
    result = run_cli_with_file_size_limit(site, 96 * 1024)  # the ledger's write-ahead log fills up
    assert result.returncode == 9, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    # One line naming the database; the store says "disk full" (or the ledger "is the disk full?").
    assert len(lines) == 1 and lines[0].startswith(f"error: {database}: "), lines
    assert "disk full" in lines[0], lines

    with syndicate.Site.open(site) as opened:
        ids = {s.id: s.email for s in opened.store.subscribers.all()}
        recorded = opened.store.ledger.statuses(WEEK)
    sent = {ids[i] for i, status in recorded.items() if status is DeliveryStatus.SENT}
    received = set(relay.counts())
    assert 1 < len(sent) < 300, "the limit should stop the run midway"
    assert sent <= received, "recorded as sent but never received by the relay"
    assert len(received) - len(sent) <= 2  # at most the message in flight when the disk filled

    # Space again: the next run finishes, with at most the one in-flight message twice.
    rerun = send(site, week=WEEK, now=AFTER_DUE + timedelta(hours=1))
    assert rerun.error == "" and rerun.remaining == 0
    counts = relay.counts()
    assert len(counts) == 300 and sum(counts.values()) - 300 <= 1


def test_a_full_disk_while_preparing_the_issue_is_one_line_too(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 3)
    database = load_config(site).database_path
    result = run_cli_with_file_size_limit(site, 40 * 1024)  # the related cache and stored issue cannot grow
    assert result.returncode == 9, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {database}: ") and "disk full" in lines[0], lines
    assert relay.count() == 0


def test_a_full_disk_during_a_dry_run_names_the_file_and_leaves_no_partial_file(
    make_site: SiteFactory, relay: Relay, tmp_path: Path
) -> None:
    # Messages of about 60 KB against a 40 KB limit: the state database (and its 32 KB shared-memory
    # index) opens, and the first .eml file cannot be written.
    long_reads = {
        f"long-read-{n}.md": f"""
            ---
            title: "Long Read {n}"
            date: 2026-11-{17 + n % 5} 09:00
            summary: "{"A long summary sentence that goes on. " * 40}"
            ---
            Body.
            """
        for n in range(8)
    }
    site = sending_site(make_site, relay, 5, articles={**ARTICLES, **long_reads})
    send(site, week=WEEK, now=AFTER_DUE, dry_run_dir=tmp_path / "warm")  # the related cache is written now
    outbox = tmp_path / "outbox"
    result = run_cli_with_file_size_limit(site, 40 * 1024, "--dry-run", "--out", str(outbox))
    assert result.returncode == 9, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {outbox}/") and ".eml: " in lines[0] and "too large" in lines[0].lower()
    assert list(outbox.iterdir()) == []  # no half-written message, no temporary file
    assert relay.count() == 0


# --- property: whatever the content, only our markers are filled in ------------------------------------

MARKER_LIKE = st.sampled_from(
    [*OLD_MARKERS, *GUESSED, "%%", "%%SYN_", "%%SYN_EMAIL_", "%%SYN_NAME_" + "0" * 16 + "%%", "=", "=\r\n", "."]
)
CONTENT = st.lists(st.one_of(st.text(max_size=30), MARKER_LIKE), max_size=12).map("".join)


@settings(max_examples=100, deadline=None)
@given(content=CONTENT, name=st.text(max_size=20))
def test_any_content_goes_out_as_written_and_only_template_markers_are_filled(content: str, name: str) -> None:
    text = f"{content}\n{placeholders.GREETING}\nUnsubscribe: {placeholders.UNSUBSCRIBE_URL}\n"
    page = f'<p>{html.escape(content)}</p><a href="{placeholders.UNSUBSCRIBE_URL}">u</a>{placeholders.EMAIL}'
    issue = RenderedIssue(week=WEEK, subject="S", preheader="", html=page, text=text)
    template = MessageTemplate(
        issue, sender="Test <news@test.example.org>", lists=ListSettings("l.example.org", "L", "u@example.org")
    )
    link = "https://test.example.org/unsubscribe?token=7.secret"
    recipient = Recipient("victim@example.net", name, link, subscriber_id=7)
    raw = template.render(recipient, token="7.secret", now=AFTER_DUE, message_id="<m@test.example.org>")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text_part, html_part = (part.get_content().replace("\r\n", "\n") for part in message.iter_parts())
    greeting = personalise.greeting(clean_name(name))
    # Line ends become CRLF on the way out (a lone CR too), so compare with them made "\n".
    expected = f"{content}\n{greeting}\nUnsubscribe: {link}\n"
    assert text_part == expected.replace("\r\n", "\n").replace("\r", "\n")
    escaped = html.escape(content).replace("\r\n", "\n").replace("\r", "\n")
    assert html_part == f'<p>{escaped}</p><a href="{html.escape(link)}">u</a>victim@example.net'
    # The same holds for the plain substitution the benchmarks and the archive's preview use.
    values = recipient.values(for_html=False)
    assert personalise.Personaliser(text).fill(values) == f"{content}\n{greeting}\nUnsubscribe: {link}\n"


def test_the_archive_copies_are_the_same_bytes_from_every_process_and_show_no_random_marker(
    make_site: SiteFactory, relay: Relay
) -> None:
    site = sending_site(make_site, relay, 1)
    folder = site / "public" / "newsletter" / WEEK
    builds = []
    for _ in range(2):  # two processes: two different random markers
        subprocess.run(
            [sys.executable, "-m", "syndicate", "newsletter", "build", "--site", str(site), "--week", WEEK],
            check=True,
            capture_output=True,
            timeout=120,
        )
        builds.append({path.name: path.read_bytes() for path in folder.iterdir()})
    assert builds[0] == builds[1]
    email_html = builds[0]["email.html"].decode()
    assert "%%SYN_UNSUBSCRIBE_URL%%" in email_html and "%%SYN_UNSUBSCRIBE_URL_" not in email_html


# --- property: any reply at RCPT is one recipient's verdict, never the run's end -----------------------

RCPT_REPLY = st.tuples(
    st.integers(min_value=200, max_value=599),
    st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF, blacklist_categories=["Cs"]), max_size=80),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reply=RCPT_REPLY)
@example(reply=(250, "OK"))
@example(reply=(251, "User not local; will forward"))
@example(reply=(421, "Closing"))
@example(reply=(354, "Odd"))
@example(reply=(452, "Full"))
@example(reply=(550, "ÜnknÖwn ✉"))
def test_any_rcpt_reply_is_that_recipients_verdict_and_the_next_one_goes_through(
    relay: Relay, reply: tuple[int, str]
) -> None:
    code, text = reply
    relay.received.clear()
    relay.rcpt_replies = {"odd@example.net": f"{code} {text}".rstrip()}
    smtp = SmtpRelay(SmtpConfig(host="127.0.0.1", port=relay.port, security="none", timeout=5))
    data = b"Subject: s\r\n\r\nbody\r\n"
    try:
        verdict = smtp.deliver("news@test.example.org", "odd@example.net", data)
        after = smtp.deliver("news@test.example.org", "fine@example.net", data)
    finally:
        smtp.close()
    if code in (250, 251):
        assert verdict.outcome is Outcome.SENT
    elif code >= 500:
        assert verdict.outcome is Outcome.BOUNCED and verdict.code == code
    else:  # 4xx, and odd 2xx/3xx answers: try again later
        assert verdict.outcome is Outcome.DEFERRED
    assert "\n" not in str(verdict) and "\r" not in str(verdict)
    assert after.outcome is Outcome.SENT
    assert [r.rcpt for r in relay.received][-1] == "fine@example.net"


def test_the_cli_lists_parked_recipients_and_exits_4(make_site: SiteFactory, relay: Relay) -> None:
    site = make_site(ARTICLES, config=site_config(relay.port, extra="max_attempts = 1"))
    write_subscribers(site / "list.csv", 3)
    with syndicate.Site.open(site) as opened:
        import_subscribers(opened.store.subscribers, site / "list.csv")
    relay.rcpt_replies = {"reader1@example.net": "452 4.2.2 Mailbox full"}
    runner = CliRunner()
    command = ["newsletter", "send", "--site", str(site), "--week", WEEK]
    result = runner.invoke(main, [*command, "--json"], env={"SYNDICATE_SECRET": SECRET})
    assert result.exit_code == 4, result.output
    summary = json.loads(result.output)
    assert (summary["sent"], summary["parked"]) == (2, 1)
    assert summary["parked_recipients"] == ["reader1@example.net: 1 attempt: 452 4.2.2 Mailbox full"]
    # Parked is final: a later run has nothing left to do, and the issue is complete.
    again = runner.invoke(main, command, env={"SYNDICATE_SECRET": SECRET})
    assert again.exit_code == 0 and "already sent to everyone" in again.output
    assert relay.rcpt_attempts["reader1@example.net"] == 1


def test_a_maybe_delivered_message_deferred_on_its_retry_keeps_its_message_id(
    make_site: SiteFactory, relay: Relay
) -> None:
    site = sending_site(make_site, relay, 3)
    relay.drop_after_data = {"reader1@example.net"}
    assert send(site, week=WEEK, now=AFTER_DUE).unconfirmed == 1
    relay.drop_after_data = set()
    relay.rcpt_replies = {"reader1@example.net": "452 4.2.2 Mailbox full"}
    assert send(site, now=AFTER_DUE + timedelta(hours=2)).deferred == 1
    relay.rcpt_replies = {}
    assert send(site, now=AFTER_DUE + timedelta(hours=4)).sent == 1
    ids = relay.message_ids("reader1@example.net")
    assert len(ids) == 2 and ids[0] == ids[1]


def test_a_relay_that_turns_every_sender_away_for_days_parks_nobody(make_site: SiteFactory) -> None:
    """An outage is the relay's, not the readers': attempts refused at MAIL FROM are given back."""

    with serving(FaultyRelay()) as down:
        down.down = True
        site = sending_site(make_site, down, 5)
        for hour in range(3 * 24):  # three days of hourly runs against a relay in maintenance
            report = send(site, week=WEEK, now=AFTER_DUE + timedelta(hours=hour))
            assert report.sent == 0 and report.parked == 0, report
        with syndicate.Site.open(site) as opened:
            assert opened.store.ledger.parked(WEEK) == []
        down.down = False
        report = send(site, week=WEEK, now=AFTER_DUE + timedelta(days=3, hours=1))
    assert report.sent == 5 and report.parked == 0
    assert sorted(r.rcpt for r in down.received) == [f"reader{n}@example.net" for n in range(5)]
