"""A site that sends with VERP (and optionally DKIM) to a real aiosmtpd relay that records each MAIL FROM."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import SiteFactory
from smtp_relay import ARTICLES, WEEK, Relay, serving, site_config, write_subscribers

import syndicate
from syndicate import import_subscribers, send_newsletter

SECRET = "test-secret-0123456789abcdef"
DUE = datetime(2026, 11, 27, 7, 0, tzinfo=ZoneInfo("Europe/London"))
AFTER_DUE = DUE + timedelta(hours=1)
VERP_CONFIG = 'verp_address = "bounces@test.example.org"'


@dataclass
class EnvelopeRelay(Relay):
    """The test relay, also keeping each message's envelope sender (MAIL FROM) by recipient."""

    return_paths: dict[str, str] = field(default_factory=dict)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.return_paths[rcpt] = envelope.mail_from
        return str(await super().handle_DATA(server, session, envelope))


@pytest.fixture
def envelope_relay() -> Iterator[EnvelopeRelay]:
    handler = EnvelopeRelay()
    with serving(handler):
        yield handler


def verp_site(
    make_site: SiteFactory, relay: Relay, count: int, *, newsletter: str = VERP_CONFIG, tail: str = ""
) -> Path:
    """A site with ``count`` subscribers reader0..N@example.net, VERP on; ``tail`` is appended to its config."""
    site = make_site(ARTICLES, config=site_config(relay.port, extra=newsletter) + tail)
    write_subscribers(site / "list.csv", count)
    with syndicate.Site.open(site) as opened:
        import_subscribers(opened.store.subscribers, site / "list.csv")
    return site


def send_issue(site: Path) -> None:
    with syndicate.Site.open(site) as opened:
        report = send_newsletter(opened, week=WEEK, now=AFTER_DUE)
    assert not report.error and report.sent > 0, report


def statuses(site: Path) -> dict[str, str]:
    with syndicate.Site.open(site) as opened:
        return {s.email: s.status.value for s in opened.store.subscribers.all()}
