"""Unsubscribing: signed tokens, the WSGI app over real HTTP (RFC 8058 one-click), and the CLI."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import SiteFactory
from smtp_relay import ARTICLES, WEEK, Relay, relay, site_config, write_subscribers

import syndicate
from syndicate import SecretMissingError, SubscriberStatus, import_subscribers, send_newsletter
from syndicate._newsletter.unsubscribe import InvalidTokenError, TokenSigner, load_secret, unsubscribe_app
from syndicate.cli import main

__all__ = ["relay"]

SECRET = "unsubscribe-secret-0123456789"
AFTER_DUE = datetime(2026, 11, 27, 8, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site_and_server(make_site: SiteFactory, relay: Relay) -> Iterator[tuple[Path, syndicate.Site, str]]:
    site_dir = make_site(ARTICLES, config=site_config(relay.port))
    write_subscribers(site_dir / "list.csv", 5)
    site = syndicate.Site.open(site_dir)
    import_subscribers(site.store.subscribers, site_dir / "list.csv")
    server: WSGIServer = make_server("127.0.0.1", 0, unsubscribe_app(site), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site_dir, site, f"http://127.0.0.1:{server.server_port}/unsubscribe"
    finally:
        server.shutdown()
        server.server_close()
        site.close()


def request(url: str, body: bytes | None = None, content_type: str = "") -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:  # it holds the response's socket; closing it is ours
            return exc.code, exc.read().decode()


def link_of(message_to: str, relay: Relay) -> str:
    received = next(r for r in relay.received if r.rcpt == message_to)
    header = str(received.message()["List-Unsubscribe"])
    return header.split("<", 1)[1].split(">", 1)[0]


def test_one_click_unsubscribe_over_http_and_the_next_issue_skips_them(
    site_and_server: tuple[Path, syndicate.Site, str], relay: Relay
) -> None:
    site_dir, site, base = site_and_server
    assert send_newsletter(site, week=WEEK, now=AFTER_DUE).sent == 5
    link = link_of("reader2@example.net", relay)
    assert link.startswith("https://test.example.org/unsubscribe?token=")
    local = base + "?" + link.split("?", 1)[1]

    # GET shows a confirmation page and changes nothing (mail scanners follow links).
    status, page = request(local)
    assert status == 200 and "reader2@example.net" in page and 'method="post"' in page
    assert site.store.subscribers.find("reader2@example.net").active  # type: ignore[union-attr]

    # The RFC 8058 one-click POST, as a mail client sends it.
    status, page = request(local, b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    assert status == 200 and "no more newsletters" in page
    gone = site.store.subscribers.find("reader2@example.net")
    assert gone and gone.status is SubscriberStatus.UNSUBSCRIBED
    status, page = request(local, b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    assert status == 200  # idempotent

    # The next issue skips them.
    (site_dir / "content" / "next.md").write_text("---\ntitle: Next Week\ndate: 2026-11-24 10:00\n---\nBody.\n")
    site.reload()
    report = send_newsletter(site, week="2026-W48", now=AFTER_DUE + timedelta(days=7))
    assert report.sent == 4
    assert relay.counts()["reader2@example.net"] == 1


def test_tampered_or_forged_tokens_are_refused_and_change_nothing(
    site_and_server: tuple[Path, syndicate.Site, str], relay: Relay
) -> None:
    _, site, base = site_and_server
    table = site.store.subscribers
    victim = table.find("reader1@example.net")
    other = table.find("reader3@example.net")
    assert victim and other
    signer = TokenSigner(SECRET.encode())
    good = signer.token(victim.id, victim.email)
    sig = good.split(".")[1]
    tampered = [
        good[:-1] + ("A" if good[-1] != "A" else "B"),  # one character of the signature changed
        f"{other.id}.{sig}",  # a valid signature moved to another subscriber
        TokenSigner(b"some-other-secret-of-enough-length").token(victim.id, victim.email),  # forged with a wrong key
    ]
    form = b"List-Unsubscribe=One-Click"
    for token in tampered:
        for body in (None, form):
            status, _ = request(f"{base}?token={token}", body, "application/x-www-form-urlencoded")
            assert status == 403, token
    # "²" and "١٢" are digits to str.isdigit() but not to int(): malformed, never a server error.
    for malformed in ("", "nonsense", "12", ".abc", "x.y", "\u00b2.abc", "\u0661\u0662.abc", "9" * 40 + ".abc"):
        status, _ = request(f"{base}?token={quote(malformed)}", form, "application/x-www-form-urlencoded")
        assert status == 400, malformed
    status, _ = request(f"{base}?token={good}", b"something=else", "application/x-www-form-urlencoded")
    assert status == 400  # a POST without the one-click form
    assert all(s.active for s in table.all())


def test_tokens_verify_only_with_the_right_secret_and_address() -> None:
    signer = TokenSigner(b"k" * 32)
    token = signer.token(7, "Jane@Example.com")
    assert signer.token(7, "jane@example.com") == token  # the merge key: letter case does not matter
    with pytest.raises(InvalidTokenError) as malformed:
        signer.subscriber_id("7")
    assert not malformed.value.forged


def test_missing_or_short_secret_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNDICATE_SECRET")
    with pytest.raises(SecretMissingError, match="SYNDICATE_SECRET is not set"):
        load_secret()
    monkeypatch.setenv("SYNDICATE_SECRET", "short")
    with pytest.raises(SecretMissingError, match="too short"):
        load_secret()


def test_cli_unsubscribe_by_token_and_by_address(
    site_and_server: tuple[Path, syndicate.Site, str],
) -> None:
    site_dir, site, _ = site_and_server
    runner = CliRunner()
    victim = site.store.subscribers.find("reader4@example.net")
    assert victim
    token = TokenSigner(SECRET.encode()).token(victim.id, victim.email)
    bad = runner.invoke(main, ["subscribers", "unsubscribe", "--site", str(site_dir), "--token", token + "x"])
    assert bad.exit_code == 1 and "not valid" in bad.output
    assert site.store.subscribers.find("reader4@example.net").active  # type: ignore[union-attr]
    ok = runner.invoke(main, ["subscribers", "unsubscribe", "--site", str(site_dir), "--token", token])
    assert ok.exit_code == 0 and "reader4@example.net: unsubscribed" in ok.output
    by_address = runner.invoke(main, ["subscribers", "unsubscribe", "--site", str(site_dir), "READER0@example.net"])
    assert by_address.exit_code == 0
    statuses = {s.email: s.status for s in site.store.subscribers.all()}
    assert statuses["reader4@example.net"] is SubscriberStatus.UNSUBSCRIBED
    assert statuses["reader0@example.net"] is SubscriberStatus.UNSUBSCRIBED
