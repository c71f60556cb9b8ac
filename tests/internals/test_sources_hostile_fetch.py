"""Issue 10, the fetch side: hostile headers (finding 1), one source's failure stays its own.

Every outside server here is a real loopback HTTP server; sites allow
loopback addresses (``allow_private``), which tests/test_sources_ssrf.py
turns off to test the refusal.
"""

from __future__ import annotations

import json
import socketserver
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from conftest import SiteFactory
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Response

import syndicate
from syndicate import Config, Store, load_config
from syndicate._model import Source, SourceHealth
from syndicate._sources import SourceResult, fetch_sources, render_opml
from syndicate._sources import headers as bounded
from syndicate._sources.decider import FetchOutcome, OutcomeKind, Policy, next_health
from syndicate.cli import main

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
FEED_TYPE = "application/rss+xml"


def rss(title: str, *stories: str) -> bytes:
    items = "".join(
        f"<item><title>{story}</title><link>https://{title.lower()}.example.com/{n}</link>"
        f"<guid>{title}-{n}</guid><pubDate>Wed, 18 Nov 2026 10:00:00 GMT</pubDate></item>"
        for n, story in enumerate(stories)
    )
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{title}</title>"
        f"<link>https://{title.lower()}.example.com/</link><description>d</description>{items}</channel></rss>"
    ).encode()


GOOD = rss("Good", "Festival Lineup Announced", "Director Wins Prize")
GOOD_TITLES = ["Director Wins Prize", "Festival Lineup Announced"]
ARTICLE = """\
---
id: urn:uuid:0b6c9a8e-1d1f-4c1e-8a57-5d1c1a0000aa
title: Our Own Story
date: 2026-11-18 09:30
---
Body.
"""


class RawServer:
    """A threaded stdlib server answering each path with exactly the bytes given.

    For what pytest-httpserver (werkzeug) will not send: a ``Location``
    werkzeug cannot parse, a single ``Date`` of our choosing.
    """

    def __init__(self) -> None:
        self.answers: dict[str, bytes] = {}
        answers = self.answers

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                request_line = self.rfile.readline().decode("latin-1")
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                path = request_line.split(" ")[1] if " " in request_line else "/"
                self.wfile.write(answers.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url_for(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)
        return f"http://{host}:{port}{path}"

    def answer(self, path: str, head: str, body: bytes = b"") -> None:
        lines = head.strip().replace("\n", "\r\n")
        self.answers[path] = f"{lines}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body


@pytest.fixture
def raw() -> Iterator[RawServer]:
    server = RawServer()
    server._thread.start()
    yield server
    server._server.shutdown()
    server._server.server_close()


@pytest.fixture
def http(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    httpserver.expect_request("/good").respond_with_data(GOOD, content_type=FEED_TYPE)
    yield httpserver


def hostile_site(make_site: SiteFactory, urls: list[str], sources_config: str = "") -> Path:
    """A site listing ``urls`` as its outside sources (loopback allowed, as in every test site)."""
    config = (
        '[site]\ntitle = "Hostile Reel"\nurl = "https://hostile.example.org"\n'
        f"[sources]\ntimeout = 2.0\n{sources_config}\n"
    )
    root: Path = make_site({"own.md": ARTICLE}, config=config)
    (root / "feeds").mkdir(exist_ok=True)
    sources = [Source(url=url, title=url.rsplit("/", 1)[-1]) for url in urls]
    (root / "feeds" / "sources.opml").write_bytes(render_opml(sources, "hostile"))
    return root


def fetch(root: Path, now: datetime = NOW) -> syndicate.FetchReport:
    config = load_config(root)
    with Store(config.database_path) as store:
        return fetch_sources(config, store, now=now)


def stored_titles(config: Config, url: str) -> list[str]:
    with Store(config.database_path) as store:
        window = store.outside_entries.in_window(NOW - 30 * WEEK, NOW + WEEK)
        return sorted(item.entry.title for item in window if item.source == url)


def by_title(report: syndicate.FetchReport) -> dict[str, SourceResult]:
    return {r.source.title: r for r in report.results}


# --- finding 1: numbers and dates from the network ---------------------------------------

HOSTILE_RETRY_AFTER = [
    "99999999999999999999",  # the report: OverflowError, every run lost
    "9" * 5000,  # more digits than int() converts
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Fri, 31 Dec 9999 23:59:59 -1200",  # beyond datetime.max once in UTC
    "Mon, 01 Jan 0001 00:00:00 +1400",
    "Fri, 99 Dec 2020 99:99:99 GMT",  # absurd fields
    "-5",
    "1.5e300",
    "0.5",
    "soon",
    "",
]


@pytest.mark.parametrize("value", HOSTILE_RETRY_AFTER)
def test_hostile_retry_after_is_that_sources_failure_with_a_bounded_retry(
    http: HTTPServer, make_site: SiteFactory, value: str
) -> None:
    http.expect_request("/throttled").respond_with_response(Response("busy", 503, headers={"Retry-After": value}))
    root = hostile_site(make_site, [http.url_for("/throttled"), http.url_for("/good")])
    report = fetch(root)
    results = by_title(report)
    throttled = results["throttled"]
    assert throttled.failed and throttled.health is not None
    assert throttled.health.failures == 1 and "503" in throttled.health.last_error
    assert throttled.health.next_attempt is not None
    assert NOW <= throttled.health.next_attempt <= NOW + WEEK
    assert results["good"].status == "fetched" and results["good"].entries == 2
    assert stored_titles(load_config(root), http.url_for("/good")) == [
        "Director Wins Prize",
        "Festival Lineup Announced",
    ]
    with Store(load_config(root).database_path) as store:
        assert store.source_health.get(throttled.source.url) == throttled.health


def test_retry_after_wait_is_capped_by_max_wait_days(http: HTTPServer, make_site: SiteFactory) -> None:
    http.expect_request("/throttled").respond_with_response(Response("busy", 429, headers={"Retry-After": "864000"}))
    root = hostile_site(make_site, [http.url_for("/throttled")], "max_wait_days = 2")
    health = by_title(fetch(root))["throttled"].health
    assert health is not None and health.next_attempt == NOW + timedelta(days=2)


def test_retry_after_date_is_measured_from_the_servers_own_clock(raw: RawServer, make_site: SiteFactory) -> None:
    # The server's clock is a year behind ours; it asks for one hour.
    raw.answer(
        "/throttled",
        "HTTP/1.1 503 Busy\nRetry-After: Wed, 20 Nov 2025 13:00:00 GMT\nDate: Wed, 20 Nov 2025 12:00:00 GMT",
    )
    root = hostile_site(make_site, [raw.url_for("/throttled")])
    health = by_title(fetch(root))["throttled"].health
    assert health is not None and health.next_attempt == NOW + timedelta(hours=1)


def test_build_fetch_builds_the_feeds_despite_a_hostile_retry_after(http: HTTPServer, make_site: SiteFactory) -> None:
    http.expect_request("/throttled").respond_with_response(
        Response("busy", 503, headers={"Retry-After": "99999999999999999999"})
    )
    root = hostile_site(make_site, [http.url_for("/throttled"), http.url_for("/good")])
    result = CliRunner().invoke(main, ["build", "--fetch", "--site", str(root), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["url"] for s in data["fetch"]["failed"]] == [http.url_for("/throttled")]
    film_news = feedparser.parse((root / "public" / "around-the-web" / "rss.xml").read_bytes())
    assert film_news.bozo == 0
    titles = {e.title for e in film_news.entries}
    assert {"Festival Lineup Announced", "Director Wins Prize", "Our Own Story"} <= titles
    assert (root / "public" / "rss.xml").is_file()


def test_an_etag_that_cannot_be_sent_back_is_not_stored(http: HTTPServer, make_site: SiteFactory) -> None:
    """A non-ASCII ETag, echoed in If-None-Match, failed every later request of the source for ever."""
    etag = '"caf\u00e9-' + "x" * 10 + '"'
    http.expect_request("/odd").respond_with_response(
        Response(GOOD, 200, headers={"ETag": etag}, content_type=FEED_TYPE)
    )
    root = hostile_site(make_site, [http.url_for("/odd")])
    first = by_title(fetch(root))["odd"]
    assert first.status == "fetched" and first.health is not None and first.health.etag == ""
    second = by_title(fetch(root, NOW + timedelta(hours=1)))["odd"]
    assert second.status == "fetched", second.outcome


def test_a_huge_etag_and_a_garbage_last_modified_are_not_stored(http: HTTPServer, make_site: SiteFactory) -> None:
    headers = {"ETag": '"' + "e" * 100_000 + '"', "Last-Modified": "yesterday-ish"}
    http.expect_request("/odd").respond_with_response(Response(GOOD, 200, headers=headers, content_type=FEED_TYPE))
    root = hostile_site(make_site, [http.url_for("/odd")])
    health = by_title(fetch(root))["odd"].health
    assert health is not None and health.etag == "" and health.last_modified == ""


def test_a_next_attempt_no_clock_can_show_reads_as_due(http: HTTPServer, make_site: SiteFactory) -> None:
    """A state row from an older version (or a hand edit) with an absurd time must not fail every run."""
    root = hostile_site(make_site, [http.url_for("/good")])
    fetch(root)
    config = load_config(root)
    with sqlite3.connect(config.database_path) as db:
        db.execute("UPDATE source_health SET next_attempt = 1e20, last_attempt = -1e20")
    result = by_title(fetch(root, NOW + timedelta(hours=1)))["good"]
    assert result.status in ("fetched", "not-modified")


def test_absurd_configured_waits_do_not_overflow(http: HTTPServer, make_site: SiteFactory) -> None:
    http.expect_request("/down").respond_with_data("down", status=500)
    root = hostile_site(
        make_site, [http.url_for("/down")], "backoff_minutes = 1e200\nbackoff_max_hours = 1e300\nmax_wait_days = 1e300"
    )
    health = by_title(fetch(root))["down"].health
    assert health is not None and health.next_attempt is not None
    assert health.next_attempt - NOW <= timedelta(days=3650)


# --- the header parsers: arbitrary text in, a bounded value or None out ---------------------

header_text = st.one_of(
    st.text(),
    st.text(alphabet="0123456789.-+e ", max_size=40),
    st.from_regex(
        r"[A-Z][a-z]{2}, [0-9]{1,3} [A-Z][a-z]{2} [0-9]{1,5} [0-9]{1,2}:[0-9]{2}:[0-9]{2} [A-Z+-][A-Z0-9]{2,4}"
    ),
    st.just("Cache-Control: max-age=" + "9" * 400),
)
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 1, 1), timezones=st.just(UTC))


@given(value=st.none() | header_text, server_date=st.none() | header_text, now=moments)
def test_retry_after_is_bounded_or_none(value: str | None, server_date: str | None, now: datetime) -> None:
    delay = bounded.retry_after(value, now, server_date, WEEK)
    assert delay is None or timedelta(0) <= delay <= WEEK


@given(value=st.none() | header_text)
def test_every_header_parser_gives_a_bounded_value_or_none(value: str | None) -> None:
    moment = bounded.http_date(value)
    assert moment is None or (moment.tzinfo is not None and 1970 <= moment.year <= 9000)
    seconds = bounded.delay_seconds(value, WEEK)
    assert seconds is None or timedelta(0) <= seconds <= WEEK
    age = bounded.max_age(value, WEEK)
    assert age is None or timedelta(0) <= age <= WEEK
    length = bounded.content_length(value)
    assert length is None or 0 <= length <= bounded.MAX_CONTENT_LENGTH
    etag = bounded.etag_validator(value)
    assert len(etag) <= bounded.MAX_ETAG and etag.isascii()
    etag.encode("ascii")
    modified = bounded.last_modified_validator(value)
    assert modified == "" or bounded.http_date(modified) is not None
    modified.encode("ascii")


def test_header_parsers_read_what_servers_really_send() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert bounded.retry_after("120", now) == timedelta(seconds=120)
    assert bounded.retry_after("Fri, 20 Nov 2026 12:30:00 GMT", now) == timedelta(minutes=30)
    assert bounded.retry_after("Fri, 20 Nov 2026 11:30:00 GMT", now) == timedelta(0)  # in the past: now
    assert bounded.retry_after("99999999999999999999", now, ceiling=WEEK) == WEEK
    assert bounded.retry_after("-1", now) is None
    assert bounded.content_length("1234") == 1234
    assert bounded.content_length("\u00b2") is None  # "²".isdigit() is True; int() of it raises
    assert bounded.content_length("9" * 5000) == bounded.MAX_CONTENT_LENGTH
    assert bounded.max_age("public, max-age=600", WEEK) == timedelta(minutes=10)
    assert bounded.http_date("Sun, 06 Nov 1994 08:49:37 GMT") == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert bounded.etag_validator('W/"abc"') == 'W/"abc"'
    assert bounded.last_modified_validator("Sun, 06 Nov 1994 08:49:37 GMT") == "Sun, 06 Nov 1994 08:49:37 GMT"


@given(
    failures=st.integers(min_value=0, max_value=10**6),
    retry=st.none() | st.timedeltas(min_value=timedelta(days=-(10**6)), max_value=timedelta(days=10**6)),
    kind=st.sampled_from([OutcomeKind.FAILED, OutcomeKind.THROTTLED]),
    error=st.text(),
)
def test_the_decider_never_waits_longer_than_max_wait(
    failures: int, retry: timedelta | None, kind: OutcomeKind, error: str
) -> None:
    policy = Policy(backoff=timedelta(days=3000), backoff_max=timedelta(days=3000), max_wait=WEEK)
    health = SourceHealth("https://feeds.example.com/rss", failures=failures)
    after = next_health(health, FetchOutcome(kind, 503, error, retry_after=retry), NOW, policy)
    assert after.next_attempt is not None and NOW <= after.next_attempt <= NOW + WEEK
    assert after.last_error.isprintable() and len(after.last_error) <= 500
    after.last_error.encode("utf-8")


# --- per-source isolation --------------------------------------------------------------------


def test_a_redirect_to_an_unparsable_location_fails_only_its_source(
    raw: RawServer, http: HTTPServer, make_site: SiteFactory
) -> None:
    """A Location no URL parser accepts is that source's failure, named as such (no traceback, exit 4)."""
    raw.answer("/odd", "HTTP/1.1 302 Found\nLocation: http://[::1")
    root = hostile_site(make_site, [raw.url_for("/odd"), http.url_for("/good")])
    result = CliRunner().invoke(main, ["fetch", "--site", str(root), "--json"])
    assert result.exit_code == 4, result.output
    assert not isinstance(result.exception, ValueError)
    data = json.loads(result.output)
    statuses = {s["title"]: s["status"] for s in data["sources"]}
    assert statuses == {"odd": "failed", "good": "fetched"}
    assert [f["url"] for f in data["failed"]] == [raw.url_for("/odd")]
    config = load_config(root)
    with Store(config.database_path) as store:
        health = store.source_health.get(raw.url_for("/odd"))
    assert health.failures == 1 and "location" in health.last_error.lower() and health.next_attempt is not None


def test_storing_one_sources_entries_failing_monkeypatched_fails_only_that_source(
    http: HTTPServer, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No real data is known to break the store, so ONE store method is made to raise for one source."""
    from syndicate._store.entries import OutsideEntries

    http.expect_request("/cursed").respond_with_data(rss("Cursed", "A Story"), content_type=FEED_TYPE)
    cursed = http.url_for("/cursed")
    original = OutsideEntries.add_many

    def add_many(self: OutsideEntries, stored):  # type: ignore[no-untyped-def]
        stored = list(stored)
        if any(item.source == cursed for item in stored):
            raise sqlite3.IntegrityError("simulated\nacross two lines")
        return original(self, stored)

    monkeypatch.setattr(OutsideEntries, "add_many", add_many)
    root = hostile_site(make_site, [cursed, http.url_for("/good")])
    report = fetch(root)
    results = by_title(report)
    assert results["cursed"].failed and results["good"].status == "fetched"
    assert [r.source.url for r in report.failed] == [cursed]
    health = results["cursed"].health
    assert health is not None and health.failures == 1 and health.next_attempt == NOW + timedelta(minutes=30)
    assert "storing entries" in health.last_error and "\n" not in health.last_error
    assert stored_titles(load_config(root), http.url_for("/good")) == [
        "Director Wins Prize",
        "Festival Lineup Announced",
    ]
    assert stored_titles(load_config(root), cursed) == []


def test_normalising_one_source_raising_monkeypatched_fails_only_that_source(
    http: HTTPServer, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate._sources import normalize

    http.expect_request("/cursed").respond_with_data(rss("Cursed", "A Story"), content_type=FEED_TYPE)
    cursed = http.url_for("/cursed")
    original = normalize.normalize_feed  # update.read_feed imports it from there on each call

    def normalize_feed(parsed, source, *args):  # type: ignore[no-untyped-def]
        if source.url == cursed:
            raise KeyError("a normaliser bug")
        return original(parsed, source, *args)

    monkeypatch.setattr(normalize, "normalize_feed", normalize_feed)
    root = hostile_site(make_site, [cursed, http.url_for("/good")])
    results = by_title(fetch(root))
    assert results["cursed"].failed and results["good"].status == "fetched"
    health = results["cursed"].health
    assert health is not None and "KeyError" in health.last_error and health.next_attempt is not None


def test_an_exception_inside_the_fetcher_monkeypatched_fails_only_that_source(
    http: HTTPServer, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate._sources.retrieve import Fetcher

    http.expect_request("/cursed").respond_with_data(rss("Cursed", "A Story"), content_type=FEED_TYPE)
    cursed = http.url_for("/cursed")
    original = Fetcher._exchange

    async def exchange(self, client, request, url, headers):  # type: ignore[no-untyped-def]
        if url == cursed:
            raise RuntimeError("something nobody foresaw")
        return await original(self, client, request, url, headers)

    monkeypatch.setattr(Fetcher, "_exchange", exchange)
    root = hostile_site(make_site, [cursed, http.url_for("/good")])
    result = CliRunner().invoke(main, ["fetch", "--site", str(root), "--json"])
    assert result.exit_code == 4, result.output
    data = json.loads(result.output)
    assert [f["url"] for f in data["failed"]] == [cursed]
    assert "RuntimeError" in data["failed"][0]["error"]
    assert {s["title"]: s["status"] for s in data["sources"]}["good"] == "fetched"
