"""A simulated year of cron: `Site.run(now=...)` every hour for 52 weeks, with the faults a year brings.

The clock is injected, never slept. Every hour is one in-process cycle
against a real site folder, a real SQLite state file and a real aiosmtpd
relay (tests/year_relay.py) that defers 1% of deliveries and is down for one
whole send day. The site gains an article a day (one holiday week gains
none), its two outside feeds (files the OPML lists) change daily, cron is
down three times (1 day, 4 days, 10 days across two send days), one cycle
runs in a subprocess that is SIGKILLed mid-send while an overlapping cycle is
locked out. The full year runs under each policy (digest, latest, each); a
ten-week simulation with a three-week outage checks "latest" and "each" closely.

Afterwards: every subscriber got each non-empty week's stories exactly once
(a digest counts for the weeks it covers; "latest" reports the weeks it
skipped, with why), except at most the one message in flight at the SIGKILL;
the archive holds every sent issue, byte for byte the HTML that was sent (but
for the per-recipient fields); every link of every message resolves; every
feed written validated; no lock is held; the state database stays small.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import jsonschema
import pytest
from conftest import SiteFactory
from lxml import etree
from lxml import html as lxml_html
from smtp_relay import site_config, write_subscribers
from year_relay import FaultyRelay, faulty_relay

import syndicate
from syndicate import import_subscribers
from syndicate._cycle import LOCK_FILE, RunReport, StepStatus
from syndicate._dates import due_at, week_label
from syndicate._newsletter import placeholders
from syndicate._newsletter.ledger import issue_from_json

__all__ = ["faulty_relay"]

SITE = "https://test.example.org"
READERS = 12
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday
FETCH_EVERY = timedelta(hours=48)  # the feeds change daily; fetching every other day keeps the year under 2 minutes
STEP_SECONDS: defaultdict[tuple[str, str], float] = defaultdict(float)
DB_LIMIT = 8_000_000  # bytes: the state database after a year stays under this


def day(n: int, hour: int = 0) -> datetime:
    return START + timedelta(days=n, hours=hour)


@dataclass
class Scenario:
    weeks: int
    policy: str
    outages: list[tuple[datetime, datetime]] = field(default_factory=list)  # [from, to): cron does not run
    holiday: tuple[int, int] | None = None  # days without a new article
    relay_down: tuple[datetime, datetime] | None = None
    kill_at: datetime | None = None  # this cycle runs in a subprocess, killed mid-send
    transient_rate: float = 0.0


@dataclass
class Outcome:
    site: Path
    reports: list[RunReport]
    article_weeks: dict[str, list[str]]  # week -> titles of the stories published in it
    skipped: dict[str, str]  # week -> why the run did not send it
    feeds_checked: int = 0
    killed_week: str = ""
    locked_out: int = 0
    seconds: float = 0.0


YEAR_CONFIG_TAIL = """
[feeds]
limit = 20
tag_feeds = false
author_feeds = false

[sources]
opml = "feeds/sources.opml"

[related]
workers = 1  # a few hundred articles: forking workers would cost more than it saves
"""


def make_sim_site(make_site: SiteFactory, relay: FaultyRelay, policy: str) -> Path:
    extra = f'catch_up = "{policy}"\npostal_address = "Test Reel, 1 Projector Lane, London"'
    site = make_site({}, site_config(relay.port, extra=extra) + YEAR_CONFIG_TAIL)
    (site / "feeds").mkdir()
    outlines = "".join(
        f'<outline type="rss" text="{name}" title="{name}" xmlUrl="feeds/{name}.xml" '
        f'htmlUrl="https://{name}.example.net/"/>'
        for name in ("trade", "critics")
    )
    (site / "feeds" / "sources.opml").write_text(
        f'<?xml version="1.0"?><opml version="2.0"><head><title>s</title></head><body>{outlines}</body></opml>',
        encoding="utf-8",
    )
    write_outside_feeds(site, 0)
    write_subscribers(site / "list.csv", READERS)
    with syndicate.Site.open(site) as opened:
        import_subscribers(opened.store.subscribers, site / "list.csv")
    return site


def write_outside_feeds(site: Path, n: int) -> None:
    """Each source's feed as it stands on day ``n``: its five latest items."""
    for name in ("trade", "critics"):
        items = "".join(
            f"<item><title>{name.title()} item of day {d}</title><link>https://{name}.example.net/day-{d}</link>"
            f"<guid>https://{name}.example.net/day-{d}</guid>"
            f"<pubDate>{day(d, 6):%a, %d %b %Y %H:%M:%S} GMT</pubDate></item>"
            for d in range(max(0, n - 4), n + 1)
        )
        (site / "feeds" / f"{name}.xml").write_text(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>'
            f"<link>https://{name}.example.net/</link><description>d</description>{items}</channel></rss>",
            encoding="utf-8",
        )


def write_article(site: Path, n: int, tz: object) -> tuple[str, str]:
    moment = day(n, 9)
    title = f"Day {n} Story On The Slate"
    (site / "content" / f"day-{n:03d}.md").write_text(
        f"---\nid: urn:sim:day-{n}\ntitle: {title}\ndate: {moment.isoformat()}\nsummary: What day {n} brought.\n"
        f"---\nThe news of day {n}.\n",
        encoding="utf-8",
    )
    return week_label(moment.astimezone(tz)), title  # type: ignore[arg-type]


SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


class FeedChecker:
    """Validates every feed file the moment it is (re)written: Atom by RelaxNG, JSON Feed by its schema,
    RSS 2.0 by structure (well-formed, channel title/link/description, each item a title and a guid).

    feedparser takes ~50 ms a feed here; a year writes over a thousand, so it reads only the newsletter's
    RSS (what feed readers mail out) and a sample of the rest, every tenth write.
    """

    def __init__(self, public: Path) -> None:
        self.public = public
        self.seen: dict[Path, int] = {}
        self.atom = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
        self.json = jsonschema.Draft202012Validator(json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text()))
        self.checked = 0

    def changed(self) -> list[Path]:
        out = []
        for relative in (
            "rss.xml",
            "atom.xml",
            "feed.json",
            "around-the-web/rss.xml",
            "around-the-web/atom.xml",
            "newsletter/rss.xml",
        ):
            path = self.public / relative
            with contextlib.suppress(FileNotFoundError):
                stamp = path.stat().st_mtime_ns
                if self.seen.get(path) != stamp:
                    self.seen[path] = stamp
                    out.append(path)
        return out

    def check(self) -> None:
        for path in self.changed():
            data = path.read_bytes()
            if path.suffix == ".json":
                self.json.validate(json.loads(data))
            else:
                root = etree.fromstring(data)
                if path.name == "atom.xml":
                    assert self.atom.validate(root), f"{path}: {self.atom.error_log}"
                else:
                    assert root.tag == "rss" and root.get("version") == "2.0", path
                    channel = root.find("channel")
                    assert channel is not None and all(channel.findtext(k) for k in ("title", "link", "description"))
                    for item in channel.iter("item"):
                        assert item.findtext("title") and item.findtext("guid"), path
                if path.parent.name == "newsletter" or self.checked % 10 == 0:
                    parsed = feedparser.parse(data)
                    assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')}"
            self.checked += 1


def killed_cycle(site: Path, now: datetime, relay: FaultyRelay, opened: syndicate.Site) -> tuple[str, bool]:
    """Run the cycle of ``now`` in a subprocess, try an overlapping cycle, then SIGKILL it mid-send."""
    before = relay.count()
    relay.delay = 0.1
    script = (
        "import sys; from datetime import datetime, timedelta; import syndicate; "
        "s = syndicate.Site.open(sys.argv[1]); "
        "s.run(now=datetime.fromisoformat(sys.argv[2]), fetch_every=timedelta(hours=48))"
    )
    process = subprocess.Popen([sys.executable, "-c", script, str(site), now.isoformat()])
    try:
        deadline = time.monotonic() + 60
        while relay.count() < before + 3:
            assert process.poll() is None, "the cycle ended before it was killed"
            assert time.monotonic() < deadline, "the subprocess never started sending"
            time.sleep(0.01)
        overlapping = opened.run(now=now, fetch_every=FETCH_EVERY)
        locked = overlapping.locked and overlapping.exit_code == 6
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        relay.delay = 0.0
    assert process.returncode == -signal.SIGKILL
    assert relay.count() < before + READERS, "the kill came too late: everything was sent"
    return week_label(now - timedelta(days=7)), locked


def simulate(site: Path, relay: FaultyRelay, scenario: Scenario) -> Outcome:
    started = time.perf_counter()
    relay.transient_rate = scenario.transient_rate
    outcome = Outcome(site, [], defaultdict(list), {})
    with syndicate.Site.open(site) as opened:
        tz = opened.config.site.tz
        feeds = FeedChecker(opened.config.output_dir)
        for hour in range(scenario.weeks * 7 * 24):
            now = START + timedelta(hours=hour)
            n, clock = divmod(hour, 24)
            if clock == 6:
                write_outside_feeds(site, n)
            if clock == 9 and not (scenario.holiday and scenario.holiday[0] <= n < scenario.holiday[1]):
                week, title = write_article(site, n, tz)
                outcome.article_weeks[week].append(title)
            if any(start <= now < end for start, end in scenario.outages):
                continue
            relay.down = bool(scenario.relay_down and scenario.relay_down[0] <= now < scenario.relay_down[1])
            if now == scenario.kill_at:
                outcome.killed_week, locked = killed_cycle(site, now, relay, opened)
                outcome.locked_out += int(locked)
                continue
            report = opened.run(now=now, fetch_every=FETCH_EVERY)
            outcome.reports.append(report)
            for step in report.steps:
                STEP_SECONDS[step.name, step.status.value] += step.seconds
            for skipped in report.skipped_weeks:
                outcome.skipped[skipped["week"]] = skipped["reason"]
            failed = [s for s in report.steps if s.status is StepStatus.FAILED]
            # The only step allowed to fail is sending while the relay is down.
            assert all(s.name == "send" and relay.down for s in failed), (now, [s.as_json() for s in failed])
            if any(s.status is StepStatus.DONE for s in report.steps):
                feeds.check()
    outcome.seconds = time.perf_counter() - started
    outcome.feeds_checked = feeds.checked
    return outcome


# --- what must hold afterwards ---------------------------------------------------------------------


_ISSUE_LINK = re.compile(re.escape(SITE) + r"/newsletter/(\d{4}-W\d{2})/")
_OUTSIDE = re.compile(r"^https://(trade|critics)\.example\.net/(day-\d+)?$")  # the sim's feeds' items and homes
_TEXT_LINK = re.compile(r"https?://[^\s<>()\"']+")


def received_issues(relay: FaultyRelay) -> dict[str, list[tuple[str, str, str]]]:
    """Per reader: (issue label, HTML part, text part) of each message, in order."""
    out: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for received in relay.received:
        message = received.message()
        html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
        assert html_part is not None and text_part is not None
        text = str(text_part.get_content()).replace("\r\n", "\n")
        html = str(html_part.get_content()).replace("\r\n", "\n")
        match = _ISSUE_LINK.search(text)
        assert match, "a message without its archive link"
        out[received.rcpt].append((match.group(1), html, text))
    return out


def covered_weeks(site: Path, label: str) -> list[str]:
    record = json.loads((site / "public" / "newsletter" / label / "issue.json").read_text(encoding="utf-8"))
    assert record["published"] is True
    return list(record["covers"])


def check_exactly_once(outcome: Outcome, relay: FaultyRelay, first_week: str, last_due: str) -> None:
    due_weeks = [w for w, titles in outcome.article_weeks.items() if titles and first_week <= w <= last_due]
    per_reader = received_issues(relay)
    assert len(per_reader) == READERS
    duplicates = 0
    for reader, messages in per_reader.items():
        labels = Counter(label for label, _, _ in messages)
        for label, count in labels.items():
            if count > 1:  # only the message in flight at the SIGKILL may come twice
                assert label == outcome.killed_week and count == 2, (reader, label, count)
                duplicates += 1
        got = Counter(week for label in labels for week in covered_weeks(outcome.site, label))
        for week in due_weeks:
            if week in outcome.skipped:
                assert got[week] == 0 and outcome.skipped[week], (reader, week)
            else:
                assert got[week] == 1, (reader, week, got[week], sorted(got))
        assert set(got) <= set(due_weeks), (reader, set(got) - set(due_weeks))
        for label, html, text in messages:  # the stories of the week are in the message for it
            record = json.loads((outcome.site / "public/newsletter" / label / "issue.json").read_text())
            assert all(story["url"] in html and story["url"] in text for story in record["stories"])
    assert duplicates <= 1


def check_archive_is_what_was_sent(outcome: Outcome, relay: FaultyRelay) -> None:
    with syndicate.Site.open(outcome.site) as opened:
        weeks = [record.week for record in opened.store.ledger.issues()]
        stored = {week: issue_from_json(opened.store.ledger.rendered(week) or "") for week in weeks}
    newsletter = outcome.site / "public" / "newsletter"
    feed = feedparser.parse((newsletter / "rss.xml").read_bytes())
    assert sorted(e.link for e in feed.entries) == sorted(f"{SITE}/newsletter/{w}/" for w in weeks)
    marker = re.compile("|".join(re.escape(m) for m in placeholders.ALL))
    for week, rendered in stored.items():
        folder = newsletter / week
        # The stored rendering, its per-recipient markers in their fixed form (never a run's random ones).
        assert (folder / "email.html").read_text(encoding="utf-8") == placeholders.published(rendered.html)
        assert (folder / "email.txt").read_text(encoding="utf-8") == placeholders.published(rendered.text)
        assert (folder / "index.html").read_text(encoding="utf-8") == rendered.web_html
    # The HTML each reader got is the archived email.html with only the per-recipient fields filled in.
    for messages in received_issues(relay).values():
        for label, html, _ in messages:
            fixed = marker.split(stored[label].html.replace("\r\n", "\n"))
            position = 0
            for chunk in fixed:
                found = html.find(chunk, position)
                assert found >= 0, f"{label}: the sent HTML differs from the archive copy"
                position = found + len(chunk)


def check_links(outcome: Outcome, relay: FaultyRelay) -> int:
    public = outcome.site / "public"
    with syndicate.Site.open(outcome.site) as opened:
        permalinks = {a.url for a in opened.collection.articles}
    checked = 0
    for messages in received_issues(relay).values():
        for _, html, text in messages:
            links = {a.get("href") for a in lxml_html.fromstring(html).xpath("//a[@href]")}
            links |= {link.rstrip(".,;") for link in _TEXT_LINK.findall(text)}
            for link in links:
                checked += 1
                parts = urlsplit(link)
                bare = f"{parts.scheme}://{parts.netloc}{parts.path}"
                if parts.scheme == "mailto":
                    continue
                if parts.netloc != urlsplit(SITE).netloc:
                    assert _OUTSIDE.match(link), f"an outside link no feed published: {link}"
                    continue
                if parts.path == "/unsubscribe":  # the WSGI app's route (syndicate serve)
                    assert "token=" in parts.query
                    continue
                if bare in permalinks or parts.path == "/":  # an article, or the publisher's home page
                    continue
                target = public / parts.path.lstrip("/")
                if parts.path.endswith("/"):
                    target = target / "index.html"
                assert target.is_file(), f"{link} resolves to no file under public/"
    return checked


def check_no_lock_left(site: Path) -> None:
    for name in (LOCK_FILE, "send.lock"):
        path = site / ".syndicate" / name
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if anyone still holds it
        finally:
            os.close(fd)


# --- the simulations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["digest", "latest", "each"])
def test_a_year_of_hourly_cron_with_outages_faults_a_kill_and_an_overlap(
    make_site: SiteFactory, faulty_relay: FaultyRelay, monkeypatch: pytest.MonkeyPatch, policy: str
) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", "a-year-of-cron-secret-0123456789")
    site = make_sim_site(make_site, faulty_relay, policy)
    first_friday_down = next(n for n in range(250, 270) if day(n).weekday() == 4)
    scenario = Scenario(
        weeks=52,
        policy=policy,
        outages=[(day(30), day(31)), (day(100), day(104)), (day(200), day(210))],
        holiday=(140, 147),
        relay_down=(day(first_friday_down), day(first_friday_down + 1)),
        kill_at=day(305, 7),  # Friday 6 November 2026, 07:00 London (GMT): W44's issue falls due
        transient_rate=0.01,
    )
    assert day(200).weekday() == 4 and day(305).weekday() == 4  # the long outage spans send days
    outcome = simulate(site, faulty_relay, scenario)
    config = syndicate.load_config(site)
    end = START + timedelta(weeks=52)
    tz = config.site.tz
    last_due = max(w for w in outcome.article_weeks if due_at(w, tz, "friday", "07:00") <= end - timedelta(hours=1))
    first_week = week_label(START.astimezone(tz))
    check_exactly_once(outcome, faulty_relay, first_week, last_due)
    check_archive_is_what_was_sent(outcome, faulty_relay)
    links = check_links(outcome, faulty_relay)
    check_no_lock_left(site)
    db = site / ".syndicate" / "state.sqlite3"
    size = db.stat().st_size + sum(p.stat().st_size for p in db.parent.glob("state.sqlite3-*"))
    assert size < DB_LIMIT
    assert outcome.locked_out == 1 and outcome.killed_week
    assert faulty_relay.deferred > 0 and faulty_relay.refused > 0  # the faults did happen
    sent = [label for label in {r["week"] for rep in outcome.reports for r in rep.sent_issues}]
    missed = {week: why for week, why in outcome.skipped.items() if outcome.article_weeks.get(week)}
    if policy == "digest":
        assert any(len(covered_weeks(site, label)) > 1 for label in sent)  # the long outage made a digest
        assert missed == {}
    elif policy == "latest":
        assert missed and all("catch_up = 'latest'" in why for why in missed.values())  # skipped, and said why
    else:
        assert missed == {} and all(len(covered_weeks(site, label)) == 1 for label in sent)
    assert outcome.feeds_checked > 300
    print(
        f"\nsimulated year: {len(outcome.reports)} cycles in {outcome.seconds:.1f} s; "
        f"{faulty_relay.count()} messages, {faulty_relay.deferred} deferred, {faulty_relay.refused} refused; "
        f"{outcome.feeds_checked} feeds validated, {links} links checked; state DB {size / 1e6:.2f} MB"
    )


@pytest.mark.parametrize("policy", ["latest", "each"])
def test_ten_weeks_with_a_three_week_outage_under_each_policy(
    make_site: SiteFactory, faulty_relay: FaultyRelay, monkeypatch: pytest.MonkeyPatch, policy: str
) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", "a-year-of-cron-secret-0123456789")
    site = make_sim_site(make_site, faulty_relay, policy)
    scenario = Scenario(weeks=10, policy=policy, outages=[(day(25), day(46, 12))], transient_rate=0.01)
    outcome = simulate(site, faulty_relay, scenario)
    tz = syndicate.load_config(site).site.tz
    end = START + timedelta(weeks=10)
    last_due = max(w for w in outcome.article_weeks if due_at(w, tz, "friday", "07:00") <= end - timedelta(hours=1))
    check_exactly_once(outcome, faulty_relay, week_label(START.astimezone(tz)), last_due)
    check_archive_is_what_was_sent(outcome, faulty_relay)
    check_links(outcome, faulty_relay)
    check_no_lock_left(site)
    missed = {week: why for week, why in outcome.skipped.items() if outcome.article_weeks.get(week)}
    if policy == "latest":
        assert len(missed) >= 2 and all("catch_up = 'latest'" in why for why in missed.values())
    else:
        assert missed == {}
