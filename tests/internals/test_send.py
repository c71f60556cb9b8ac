"""Sending the newsletter to a real SMTP server (aiosmtpd on 127.0.0.1): exactly once, safely."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import SiteFactory
from smtp_relay import WEEK, Relay, relay, send, sending_site, site_config

import syndicate
from syndicate import SubscriberStatus, import_subscribers
from syndicate._newsletter.send import RunKind, send_newsletter
from syndicate._newsletter.unsubscribe import TokenSigner
from syndicate._store.ledger import DeliveryStatus
from syndicate.cli import main

__all__ = ["relay"]  # the fixture, imported for pytest

SECRET = "test-secret-0123456789abcdef"
LONDON = ZoneInfo("Europe/London")
DUE = datetime(2026, 11, 27, 7, 0, tzinfo=LONDON)  # W47's issue is due on the Friday of W48 at 07:00
AFTER_DUE = DUE + timedelta(hours=1)


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)


def test_500_subscribers_each_get_one_message_with_their_own_link(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 500)
    with syndicate.Site.open(site) as opened:
        table = opened.store.subscribers
        unsubscribed = table.find("reader7@example.net")
        bounced = table.find("reader8@example.net")
        assert unsubscribed and bounced
        table.set_status(unsubscribed.id, SubscriberStatus.UNSUBSCRIBED)
        table.set_status(bounced.id, SubscriberStatus.BOUNCED)
        report = send_newsletter(opened, week=WEEK, now=AFTER_DUE)
        subscribers = {s.email: s for s in table.all()}
    assert (report.sent, report.skipped, report.deferred, report.bounced) == (498, 0, 0, 0)
    assert report.connections == 1  # one connection reused for every message
    counts = relay.counts()
    assert len(counts) == 498 and set(counts.values()) == {1}
    assert "reader7@example.net" not in counts and "reader8@example.net" not in counts

    signer = TokenSigner(SECRET.encode())
    message_ids = set()
    for received in relay.received:
        message = received.message()
        subscriber = subscribers[received.rcpt]
        assert message["To"].addresses[0].addr_spec == received.rcpt
        assert message["To"].addresses[0].display_name == subscriber.name
        assert message["From"] == "Test Reel <news@test.example.org>"
        assert message["Subject"]
        assert message["Date"].datetime.tzinfo is not None
        assert message["List-Id"] == "Test Reel <weekly.test.example.org>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        token = signer.token(subscriber.id, subscriber.email)
        link = f"https://test.example.org/unsubscribe?token={token}"
        assert message["List-Unsubscribe"] == (
            f"<{link}>, <mailto:unsubscribe@test.example.org?subject=unsubscribe%20{token}>"
        )
        html = message.get_body(("html",))
        text = message.get_body(("plain",))
        assert html is not None and text is not None
        assert link in html.get_content() and link in text.get_content()
        assert f"Hi {subscriber.name.split()[0]}," in text.get_content()
        assert "%%SYN_" not in html.get_content() + text.get_content()
        message_ids.add(message["Message-ID"])
        # Serialised with CRLF only: no bare LF anywhere.
        assert b"\n" not in received.data.replace(b"\r\n", b"")
    assert len(message_ids) == 498

    # Second run: nothing is sent.
    again = send(site, week=WEEK, now=AFTER_DUE + timedelta(hours=1))
    assert again.sent == 0 and relay.count() == 498


def test_deferred_recipients_get_it_on_a_later_run_once(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 60)
    flaky = {f"reader{n}@example.net" for n in (3, 17, 42)}
    relay.defer = set(flaky)
    first = send(site, week=WEEK, now=AFTER_DUE)
    assert (first.sent, first.deferred, first.remaining) == (57, 3, 3)
    assert first.next_retry == AFTER_DUE + timedelta(minutes=30)
    assert not flaky & set(relay.counts())

    # Too early for the retry: nothing happens, and the run says why.
    early = send(site, now=AFTER_DUE + timedelta(minutes=10))
    assert early.kind is RunKind.WAITING and early.sent == 0
    # Still failing at the retry: the back-off doubles.
    second = send(site, now=AFTER_DUE + timedelta(minutes=31))
    assert second.deferred == 3
    assert second.next_retry == AFTER_DUE + timedelta(minutes=31 + 60)

    relay.defer.clear()
    third = send(site, now=AFTER_DUE + timedelta(hours=2))
    assert third.sent == 3 and third.remaining == 0
    counts = relay.counts()
    assert len(counts) == 60 and set(counts.values()) == {1}
    # The issue is complete: the hourly run is a no-op from now on.
    after = send(site, now=AFTER_DUE + timedelta(hours=3))
    assert after.kind is RunKind.ALREADY_SENT and relay.count() == 60


def test_relay_dropping_the_connection_every_50_messages(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 230)
    relay.drop_every = 50
    report = send(site, week=WEEK, now=AFTER_DUE)
    assert report.sent == 230 and not report.error
    assert report.connections == 5
    counts = relay.counts()
    assert len(counts) == 230 and set(counts.values()) == {1}


def test_hard_bounces_are_recorded_and_suppress_the_address(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 5, extra="max_bounces = 2")
    relay.reject = {"reader1@example.net"}
    first = send(site, week=WEEK, now=AFTER_DUE)
    assert (first.sent, first.bounced) == (4, 1)
    with syndicate.Site.open(site) as opened:
        bouncer = opened.store.subscribers.find("reader1@example.net")
        assert bouncer and bouncer.bounces == 1 and bouncer.active
        assert opened.store.ledger.statuses(WEEK)[bouncer.id] is DeliveryStatus.BOUNCED
    second = send(site, week="2026-W46", now=AFTER_DUE)  # an empty week: no issue
    assert second.kind is RunKind.EMPTY
    # Two more issues: the second bounce suppresses the address, so the third is not even tried.
    (site / "content" / "later.md").write_text(
        "---\ntitle: Later Story\ndate: 2026-11-24 10:00\n---\nBody.\n", encoding="utf-8"
    )
    (site / "content" / "latest.md").write_text(
        "---\ntitle: Latest Story\ndate: 2026-12-01 10:00\n---\nBody.\n", encoding="utf-8"
    )
    assert send(site, week="2026-W48", now=AFTER_DUE + timedelta(days=7)).bounced == 1
    with syndicate.Site.open(site) as opened:
        bouncer = opened.store.subscribers.find("reader1@example.net")
        assert bouncer and bouncer.bounces == 2 and bouncer.status is SubscriberStatus.BOUNCED
    third = send(site, week="2026-W49", now=AFTER_DUE + timedelta(days=14))
    assert (third.sent, third.bounced) == (4, 0)
    assert relay.counts()["reader1@example.net"] == 0


def test_header_injection_from_title_and_name_gives_single_line_headers(make_site: SiteFactory, relay: Relay) -> None:
    evil = {
        "evil.md": """
            ---
            title: "Festival\\r\\nBcc: victim@example.com\\r\\nX-Evil: 1"
            date: 2026-11-17 09:30
            ---
            Body.
            """
    }
    site = make_site(evil, config=site_config(relay.port))
    (site / "list.csv").write_text(
        'email,name\n"mallory@example.net","Mal\r\nBcc: victim@example.com\rX-Evil: 2"\n'
        "plain@example.net,Zoë Ünicode\n",
        encoding="utf-8",
    )
    with syndicate.Site.open(site) as opened:
        import_subscribers(opened.store.subscribers, site / "list.csv")
        report = send_newsletter(opened, week=WEEK, now=AFTER_DUE)
    assert report.sent == 2
    assert set(relay.counts()) == {"mallory@example.net", "plain@example.net"}  # no Bcc smuggled in
    for received in relay.received:
        head = received.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
        # Every header line is a field or a folded continuation; no injected fields.
        names = [line.split(":", 1)[0] for line in head.split("\r\n") if not line.startswith((" ", "\t"))]
        assert "Bcc" not in names and "X-Evil" not in names
        assert len(names) == len(set(names))
        message: EmailMessage = received.message()
        assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
        assert "Bcc: victim@example.com" in message["Subject"]  # kept as harmless text on one line
        assert "\n" not in str(message["To"])
    display_names = {r.rcpt: r.message()["To"].addresses[0].display_name for r in relay.received}
    assert display_names["mallory@example.net"] == "Mal Bcc: victim@example.com X-Evil: 2"
    assert display_names["plain@example.net"] == "Zoë Ünicode"


def test_due_logic_for_an_hourly_cron(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 3)
    before = send(site, now=DUE - timedelta(minutes=1))  # the W46 issue is due then, and W46 is empty
    assert before.kind is RunKind.EMPTY and before.week == "2026-W46"
    assert relay.count() == 0
    at = send(site, now=DUE + timedelta(minutes=5))
    assert at.week == WEEK and at.sent == 3
    for hour in range(1, 5):
        later = send(site, now=DUE + timedelta(hours=hour))
        assert later.kind is RunKind.ALREADY_SENT and later.sent == 0
    assert relay.count() == 3


def test_a_run_after_missed_ones_sends_only_the_latest_and_says_so(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 2)
    assert send(site, now=AFTER_DUE).sent == 2
    for day, title in (
        ("2026-11-24", "Week 48 Story"),
        ("2026-12-01", "Week 49 Story"),
        ("2026-12-08", "Week 50 Story"),
    ):
        slug = title.lower().replace(" ", "-")
        (site / "content" / f"{slug}.md").write_text(f"---\ntitle: {title}\ndate: {day} 10:00\n---\nBody.\n")
    # The machine was down for three weeks: W48 and W49 were due and missed.
    report = send(site, now=AFTER_DUE + timedelta(weeks=3))
    assert report.week == "2026-W50" and report.sent == 2
    assert report.missed_weeks == ["2026-W48", "2026-W49"]
    assert "missed 2026-W48, 2026-W49" in report.message
    # Sending a later week ahead of time makes the one due before it stale: cron does not send it after.
    for day, title in (("2026-12-15", "Week 51 Story"), ("2026-12-22", "Week 52 Story")):
        slug = title.lower().replace(" ", "-")
        (site / "content" / f"{slug}.md").write_text(f"---\ntitle: {title}\ndate: {day} 10:00\n---\nBody.\n")
    assert send(site, week="2026-W52", now=AFTER_DUE + timedelta(weeks=4, days=-1)).sent == 2
    stale = send(site, now=AFTER_DUE + timedelta(weeks=4))  # W51 is due now; W52 already went out
    assert stale.week == "2026-W51" and stale.kind is RunKind.ALREADY_SENT and stale.sent == 0
    assert "later issue 2026-W52" in stale.message
    subjects = {r.message()["Subject"] for r in relay.received}
    assert any("Week 50" in s for s in subjects) and any("Week 52" in s for s in subjects)
    assert not any(f"Week {n}" in s for s in subjects for n in (48, 49, 51))


def test_dry_run_writes_eml_files_and_records_nothing(make_site: SiteFactory, relay: Relay, tmp_path: Path) -> None:
    site = sending_site(make_site, relay, 4)
    out = tmp_path / "outbox"
    report = send(site, week=WEEK, now=AFTER_DUE, dry_run_dir=out)
    assert report.kind is RunKind.DRY_RUN
    files = sorted(out.glob("*.eml"))
    assert len(files) == 4 and relay.count() == 0
    data = files[0].read_bytes()
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in data
    with syndicate.Site.open(site) as opened:
        assert opened.store.ledger.issue(WEEK) is None
    assert send(site, week=WEEK, now=AFTER_DUE).sent == 4


def test_test_copy_records_nothing(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 3)
    report = send(site, week=WEEK, now=AFTER_DUE, test_address="Editor@Example.COM")
    assert report.kind is RunKind.TEST and report.sent == 1
    assert list(relay.counts()) == ["Editor@example.com"]
    with syndicate.Site.open(site) as opened:
        assert opened.store.ledger.issue(WEEK) is None
    assert send(site, week=WEEK, now=AFTER_DUE).sent == 3


def test_limit_spreads_an_issue_over_runs(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 10)
    assert send(site, week=WEEK, now=AFTER_DUE, limit=4).remaining == 6
    assert send(site, now=AFTER_DUE, limit=4).sent == 4
    assert send(site, now=AFTER_DUE).sent == 2
    assert set(relay.counts().values()) == {1} and relay.count() == 10


def test_cli_send_json_summary_and_exit_codes(
    make_site: SiteFactory, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = sending_site(make_site, relay, 6, extra="")
    config = (
        (site / "syndicate.toml")
        .read_text()
        .replace("timeout = 10", 'timeout = 10\nusername = "mailer"\npassword_env = "TEST_SMTP_PASSWORD"')
    )
    (site / "syndicate.toml").write_text(config)
    runner = CliRunner()
    # A username without its password in the environment: a clear config error, nothing sent.
    missing = runner.invoke(main, ["newsletter", "send", "--site", str(site), "--week", WEEK, "--json"])
    assert missing.exit_code == 3 and "TEST_SMTP_PASSWORD" in missing.output and relay.count() == 0

    (site / "syndicate.toml").write_text(config.replace('username = "mailer"\n', ""))
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "hunter2-very-secret")
    relay.defer = {"reader2@example.net"}
    result = runner.invoke(main, ["newsletter", "send", "--site", str(site), "--week", WEEK, "--json"])
    assert result.exit_code == 4, result.output  # partly failed: one deferred
    summary = json.loads(result.output)
    assert (summary["sent"], summary["deferred"], summary["bounced"], summary["skipped"]) == (5, 1, 0, 0)
    assert "hunter2" not in result.output

    table = runner.invoke(main, ["newsletter", "send", "--site", str(site), "--week", WEEK])
    assert table.exit_code == 0 and "deferred" in table.output  # nothing due: waiting for the retry
    bad = runner.invoke(main, ["newsletter", "send", "--site", str(site), "--week", "2026-47"])
    assert bad.exit_code == 10 and "YYYY-Www" in bad.output


def test_missing_secret_is_a_clear_error(make_site: SiteFactory, relay: Relay, monkeypatch: pytest.MonkeyPatch) -> None:
    site = sending_site(make_site, relay, 1)
    monkeypatch.delenv("SYNDICATE_SECRET")
    result = CliRunner().invoke(main, ["newsletter", "send", "--site", str(site), "--week", WEEK])
    assert result.exit_code == 3
    assert "SYNDICATE_SECRET is not set" in result.output
    assert relay.count() == 0


def test_message_ids_are_unique_and_headers_fold(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 20)
    send(site, week=WEEK, now=AFTER_DUE)
    ids = [r.message()["Message-ID"] for r in relay.received]
    assert len(set(ids)) == 20 and all(
        re.fullmatch(r"<2026-W47\.\d+\.[0-9a-f]{16}@test\.example\.org>", i) for i in ids
    )
    for received in relay.received:
        assert all(len(line) <= 998 for line in received.data.split(b"\r\n"))


def test_unreachable_relay_loses_nobody(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 5)
    config = site / "syndicate.toml"
    good = config.read_text()
    config.write_text(good.replace(f"port = {relay.port}", "port = 9"))  # nothing listens there
    down = send(site, week=WEEK, now=AFTER_DUE)
    assert down.sent == 0 and "cannot connect" in down.error and down.remaining == 5
    result = CliRunner().invoke(main, ["newsletter", "send", "--site", str(site), "--week", WEEK])
    assert result.exit_code == 10 and "cannot connect" in result.output
    config.write_text(good)
    assert send(site, now=AFTER_DUE).sent == 5
    assert set(relay.counts().values()) == {1} and relay.count() == 5


def test_rate_limit_paces_messages(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 11, rate=50.0)
    started = time.monotonic()
    assert send(site, week=WEEK, now=AFTER_DUE).sent == 11
    assert time.monotonic() - started >= 10 / 50 * 0.9  # ten intervals of 20 ms at least


def test_lines_starting_with_a_dot_arrive_intact(relay: Relay) -> None:
    from syndicate._config import SmtpConfig
    from syndicate._newsletter.smtp import Outcome, SmtpRelay

    data = b"Subject: dots\r\n\r\n.first\r\n..second\r\n.\r\nlast line without end"
    smtp = SmtpRelay(SmtpConfig(host="127.0.0.1", port=relay.port, security="none"))
    try:
        reply = smtp.deliver("news@test.example.org", "reader@example.net", data)
    finally:
        smtp.close()
    assert reply.outcome is Outcome.SENT
    assert relay.received[0].data == data + b"\r\n"


def test_a_relay_deferring_everyone_stops_the_run(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 40)
    relay.defer = {f"reader{n}@example.net" for n in range(40)}
    report = send(site, week=WEEK, now=AFTER_DUE)
    assert report.deferred == 25 and "in a row" in report.error
    assert report.remaining == 40  # 25 deferred, 15 still pending: none lost
    relay.defer.clear()
    assert send(site, now=AFTER_DUE + timedelta(hours=1)).sent == 40
    assert set(relay.counts().values()) == {1}


def test_newcomers_get_a_sent_issue_only_when_asked_with_week(make_site: SiteFactory, relay: Relay) -> None:
    site = sending_site(make_site, relay, 3)
    assert send(site, now=AFTER_DUE).sent == 3
    with syndicate.Site.open(site) as opened:
        opened.store.subscribers.merge([("late@example.net", "Late Comer")])
    assert send(site, now=AFTER_DUE + timedelta(hours=1)).kind is RunKind.ALREADY_SENT
    again = send(site, week=WEEK, now=AFTER_DUE + timedelta(hours=2))
    assert again.sent == 1 and relay.counts()["late@example.net"] == 1 and relay.count() == 4
