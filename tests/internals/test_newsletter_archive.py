"""The web archive is what was sent: written from the stored rendering, before the first message, never a preview."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest
from click.testing import CliRunner
from conftest import SiteFactory
from smtp_relay import ARTICLES, WEEK, Relay, serving, site_config, write_subscribers

import syndicate
from syndicate import NewsletterError, import_subscribers, send_newsletter
from syndicate._newsletter import placeholders, publish_issue
from syndicate._newsletter.ledger import issue_from_json
from syndicate.cli import main

LONDON = ZoneInfo("Europe/London")
AFTER_DUE = datetime(2026, 11, 27, 9, 0, tzinfo=LONDON)  # WEEK (2026-W47) is due Friday 27 November, 07:00


class WatchingRelay(Relay):
    """A relay that notes, at each message, whether the issue's archive copy was already on disk."""

    watch: Path | None = None
    seen_archive: list[bool]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.watch is not None:
            self.seen_archive.append((self.watch / "index.html").is_file() and (self.watch / "email.html").is_file())
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def watching_relay() -> Iterator[WatchingRelay]:
    handler = WatchingRelay()
    handler.seen_archive = []
    with serving(handler):
        yield handler


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", "archive-test-secret-0123456789")


def sending_site(make_site: SiteFactory, port: int, count: int = 3) -> Path:
    site = make_site(ARTICLES, site_config(port))
    write_subscribers(site / "list.csv", count)
    with syndicate.Site.open(site) as opened:
        import_subscribers(opened.store.subscribers, site / "list.csv")
    return site


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def archive_links(site: Path) -> list[str]:
    feed = feedparser.parse((site / "public" / "newsletter" / "rss.xml").read_bytes())
    assert feed.bozo == 0
    return [entry.link for entry in feed.entries]


def test_send_writes_the_archive_from_the_stored_rendering_before_the_first_message(
    make_site: SiteFactory, watching_relay: WatchingRelay
) -> None:
    site = sending_site(make_site, watching_relay.port)
    watching_relay.watch = site / "public" / "newsletter" / WEEK
    with syndicate.Site.open(site) as opened:
        report = send_newsletter(opened, now=AFTER_DUE)
        stored = issue_from_json(opened.store.ledger.rendered(WEEK) or "")
    assert report.sent == 3
    assert watching_relay.seen_archive == [True, True, True]  # on disk before the first message left
    folder = site / "public" / "newsletter" / WEEK
    # The stored rendering, its per-recipient markers shown in their fixed form (never a run's random ones).
    assert (folder / "email.html").read_text(encoding="utf-8") == placeholders.published(stored.html)
    assert (folder / "email.txt").read_text(encoding="utf-8") == placeholders.published(stored.text)
    assert (folder / "index.html").read_text(encoding="utf-8") == stored.web_html
    assert archive_links(site) == [f"https://test.example.org/newsletter/{WEEK}/"]
    record = json.loads((folder / "issue.json").read_text(encoding="utf-8"))
    assert record["published"] is True and [s["url"] for s in record["stories"]] == list(stored.story_urls)


def test_an_edit_after_sending_never_changes_the_archive_copy(
    make_site: SiteFactory, watching_relay: WatchingRelay
) -> None:
    site = sending_site(make_site, watching_relay.port, count=1)
    with syndicate.Site.open(site) as opened:
        send_newsletter(opened, now=AFTER_DUE)
    sent_html = (site / "public" / "newsletter" / WEEK / "email.html").read_bytes()
    article = site / "content" / "festival-opens.md"
    article.write_text(article.read_text().replace("Festival Opens With", "Festival Opens (Edited) With"))
    code, out = cli("newsletter", "build", "--site", str(site), "--week", WEEK, "--now", "2026-11-28T12:00")
    assert code == 0, out
    assert (site / "public" / "newsletter" / WEEK / "email.html").read_bytes() == sent_html
    assert "Edited" not in (site / "public" / "newsletter" / "rss.xml").read_text()


def test_force_cannot_publish_an_empty_or_future_issue(make_site: SiteFactory) -> None:
    site = make_site(ARTICLES, site_config(25))
    code, out = cli("newsletter", "build", "--site", str(site), "--week", "2026-W52", "--force", "--now", "2026-11-28")
    assert code == 0, out
    assert (site / "public" / "newsletter" / "2026-W52" / "email.html").is_file()  # the preview is there...
    assert archive_links(site) == []  # ...but not in the archive or its feed
    code, out = cli("newsletter", "build", "--site", str(site), "--week", WEEK, "--now", "2026-11-28")
    assert code == 0 and archive_links(site) == []  # built, not sent: a preview
    with syndicate.Site.open(site) as opened, pytest.raises(NewsletterError, match="has not been sent"):
        publish_issue(opened, "2026-W52", now=AFTER_DUE)


def test_unpublish_takes_an_issue_down_for_good(make_site: SiteFactory, watching_relay: WatchingRelay) -> None:
    site = sending_site(make_site, watching_relay.port, count=2)
    with syndicate.Site.open(site) as opened:
        send_newsletter(opened, now=AFTER_DUE)
    assert archive_links(site) == [f"https://test.example.org/newsletter/{WEEK}/"]
    code, out = cli("newsletter", "unpublish", WEEK, "--site", str(site))
    assert code == 0, out
    assert not (site / "public" / "newsletter" / WEEK).exists()
    assert archive_links(site) == []
    # Neither a rebuild, nor another send run, nor a cycle puts it back.
    code, out = cli("newsletter", "build", "--site", str(site), "--week", WEEK, "--now", "2026-11-28T12:00")
    assert code == 10 and "was unpublished" in out
    with syndicate.Site.open(site) as opened:
        send_newsletter(opened, now=AFTER_DUE)
        opened.run(now=AFTER_DUE)
    assert archive_links(site) == []
    assert not (site / "public" / "newsletter" / WEEK).exists()
    assert watching_relay.count() == 2  # and nobody got it twice
