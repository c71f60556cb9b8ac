"""Fetching against real local HTTP servers: every failure mode, and the others still arrive."""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import allowing_loopback_sources
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from syndicate import Config, Source, Store, load_config
from syndicate._sources import fetch_sources, merged_stream, read_opml, render_opml

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FEED_TYPE = "application/rss+xml; charset=utf-8"


def rss(items: list[dict[str, str]], title: str = "Good Feed", encoding: str = "utf-8", prolog: str = "") -> bytes:
    parts = []
    for item in items:
        fields = "".join(f"<{key}>{value}</{key}>" for key, value in item.items())
        parts.append(f"<item>{fields}</item>")
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>{prolog}<rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://good.example.com/</link>{''.join(parts)}</channel></rss>"
    )
    return text.encode(encoding)


def story(n: int, host: str = "good.example.com", day: int = 18) -> dict[str, str]:
    return {
        "title": f"Story {n} about the festival lineup",
        "link": f"https://{host}/story/{n}",
        "guid": f"{host}-{n}",
        "pubDate": f"Wed, {day} Nov 2026 10:{n:02d}:00 GMT",
        "description": f"Summary of story {n}.",
    }


GOOD_FEED = rss([story(n) for n in range(1, 6)])


@pytest.fixture
def http(server: HTTPServer) -> HTTPServer:
    server.clear()
    server.expect_request("/good").respond_with_data(GOOD_FEED, content_type=FEED_TYPE)
    return server


SiteMaker = Callable[..., Config]


@pytest.fixture
def site(tmp_path: Path) -> SiteMaker:
    def make(urls: list[str], extra: str = "") -> Config:
        root = tmp_path / "site"
        (root / "feeds").mkdir(parents=True, exist_ok=True)
        (root / "syndicate.toml").write_text(
            allowing_loopback_sources(
                '[site]\ntitle = "Test Reel"\nurl = "https://test.example.org"\n'
                f"[sources]\ntimeout = 1.0\nmax_per_source = 100\n{extra}\n"
            ),
            encoding="utf-8",
        )
        sources = [Source(url=url, title=url.rsplit("/", 1)[-1]) for url in urls]
        (root / "feeds" / "sources.opml").write_bytes(render_opml(sources, "test"))
        return load_config(root)

    return make


def stored(config: Config, store: Store) -> dict[str, list[str]]:
    """Titles stored per source URL."""
    result: dict[str, list[str]] = {}
    for item in store.outside_entries.in_window(NOW - timedelta(days=3650), NOW + timedelta(days=3650)):
        result.setdefault(item.source, []).append(item.entry.title)
    return result


def assert_good_arrived(config: Config, store: Store, good: str) -> None:
    assert sorted(stored(config, store)[good]) == [f"Story {n} about the festival lineup" for n in range(1, 6)]


def test_conditional_get_second_fetch_gets_304_parses_and_changes_nothing(http: HTTPServer, site: SiteMaker) -> None:
    seen: list[dict[str, str]] = []
    last_modified = "Wed, 18 Nov 2026 10:00:00 GMT"

    def handler(request: Request) -> Response:
        seen.append(dict(request.headers))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(GOOD_FEED, headers={"ETag": '"v1"', "Last-Modified": last_modified}, content_type=FEED_TYPE)

    http.expect_request("/cond").respond_with_handler(handler)
    url = http.url_for("/cond")
    config = site([url])
    with Store(config.database_path) as store:
        first = fetch_sources(config, store, now=NOW)
        assert first.results[0].status == "fetched" and first.results[0].new_entries == 5
        entries_before = store.outside_entries.in_window(NOW - timedelta(days=30), NOW)
        health_before = store.source_health.get(url)
        second = fetch_sources(config, store, now=NOW + timedelta(hours=1))
        result = second.results[0]
        assert result.status == "not-modified"
        assert result.entries == 0 and result.new_entries == 0 and result.problems == []
        assert store.outside_entries.in_window(NOW - timedelta(days=30), NOW) == entries_before
        health_after = store.source_health.get(url)
        assert (health_after.etag, health_after.last_modified) == (health_before.etag, health_before.last_modified)
        assert health_after.failures == 0
    assert seen[1]["If-None-Match"] == '"v1"'
    assert seen[1]["If-Modified-Since"] == last_modified
    assert seen[0]["User-Agent"].startswith("syndicate/") and "https://test.example.org" in seen[0]["User-Agent"]
    assert "gzip" in seen[0]["Accept-Encoding"]


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [("gzip", gzip.compress(GOOD_FEED)), ("deflate", zlib.compress(GOOD_FEED)), ("deflate", _raw_deflate(GOOD_FEED))],
    ids=["gzip", "deflate", "raw deflate"],
)
def test_compressed_responses_are_decoded(http: HTTPServer, site: SiteMaker, encoding: str, body: bytes) -> None:
    http.expect_request("/z").respond_with_data(body, content_type=FEED_TYPE, headers={"Content-Encoding": encoding})
    config = site([http.url_for("/z")])
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        assert report.results[0].new_entries == 5


def _slow(request: Request) -> Response:
    time.sleep(2.0)
    return Response(GOOD_FEED, content_type=FEED_TYPE)


def _endless(request: Request) -> Response:
    def body() -> Iterator[bytes]:
        yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
        while True:
            yield b"<item><title>again</title></item>" * 1000

    return Response(body(), content_type=FEED_TYPE)


def _redirect(target: str, status: int = 302) -> Callable[[Request], Response]:
    return lambda request: Response(status=status, headers={"Location": target})


BOMB = gzip.compress(b"\0" * 30_000_000, compresslevel=9)
LATIN1_FEED = rss([{**story(1), "title": "Café society"}], encoding="iso-8859-1")
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + b"".join(
        b'<!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>Laughs</title><item><title>a &lol9; b</title>'
    b"<link>https://evil.example.com/1</link><guid>evil-1</guid></item></channel></rss>"
)
XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
    b'<rss version="2.0"><channel><title>XXE</title><item><title>leak &xxe; here</title>'
    b"<link>https://evil.example.com/2</link><description>&xxe;</description></item></channel></rss>"
)


def _respond(data: bytes, content_type: str = FEED_TYPE, status: int = 200, **headers: str) -> Callable[..., Response]:
    return lambda request: Response(data, status=status, content_type=content_type, headers=headers)


# (name, path -> handler, expected status, error fragment, problem fragment, stored titles check)
CASES: list[tuple[str, dict[str, Callable[[Request], Response]], str, str]] = [
    ("timeout", {"/bad": _slow}, "failed", "timed out"),
    ("404", {"/bad": _respond(b"nope", "text/plain", 404)}, "failed", "HTTP 404"),
    ("500", {"/bad": _respond(b"oops", "text/plain", 500)}, "failed", "HTTP 500"),
    ("410", {"/bad": _respond(b"", "text/plain", 410)}, "gone", "410"),
    ("429", {"/bad": _respond(b"", "text/plain", 429, **{"Retry-After": "120"})}, "throttled", "retry after 120 s"),
    (
        "503",
        {"/bad": _respond(b"", "text/plain", 503, **{"Retry-After": "Fri, 20 Nov 2099 12:00:00 GMT"})},
        "throttled",
        "HTTP 503",
    ),
    ("redirect loop", {"/bad": _redirect("/loop-b"), "/loop-b": _redirect("/bad")}, "failed", "redirect loop"),
    (
        "too many redirects",
        {"/bad": _redirect("/r1"), **{f"/r{i}": _redirect(f"/r{i + 1}") for i in range(1, 8)}},
        "failed",
        "more than 5 redirects",
    ),
    ("oversize body", {"/bad": _respond(b"x" * 300_000)}, "failed", "larger than 0.2 MB"),
    ("endless body", {"/bad": _endless}, "failed", "larger than 0.2 MB"),
    (
        "gzip bomb",
        {"/bad": _respond(BOMB, FEED_TYPE, 200, **{"Content-Encoding": "gzip"})},
        "failed",
        "larger than 0.2 MB once decoded",
    ),
    (
        "HTML instead of feed",
        {"/bad": _respond(b"<!DOCTYPE html><html><head><title>Hi</title></head><body>x</body></html>", "text/html")},
        "failed",
        "HTML page, not a feed",
    ),
    (
        "malformed without entries",
        {"/bad": _respond(b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</ti')},
        "failed",
        "malformed feed with no usable entries",
    ),
]


@pytest.mark.parametrize(("name", "routes", "status", "error"), CASES, ids=[c[0] for c in CASES])
def test_failure_mode_is_reported_and_the_other_sources_arrive(
    http: HTTPServer,
    site: SiteMaker,
    name: str,
    routes: dict[str, Callable[[Request], Response]],
    status: str,
    error: str,
) -> None:
    for path, handler in routes.items():
        http.expect_request(path).respond_with_handler(handler)
    good, bad = http.url_for("/good"), http.url_for("/bad")
    config = site([good, bad], extra="max_bytes = 200000")
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        results = {r.source.url: r for r in report.results}
        assert results[good].status == "fetched"
        assert results[bad].status == status
        assert results[bad].failed
        outcome = results[bad].outcome
        assert outcome is not None and error in outcome.error
        assert [r.source.url for r in report.failed] == [bad]
        assert_good_arrived(config, store, good)
        assert bad not in stored(config, store)
        health = store.source_health.get(bad)
        assert health.failures == 1 and health.last_error
        if status == "gone":
            assert health.disabled and health.next_attempt is None
        elif name == "429":
            assert health.next_attempt == NOW + timedelta(seconds=120)
        elif name == "503":
            # A Retry-After beyond a week is capped at a week.
            assert health.next_attempt == NOW + timedelta(days=7)
        else:
            assert health.next_attempt == NOW + timedelta(minutes=30)


def test_backoff_doubles_and_success_resets_it(http: HTTPServer, site: SiteMaker) -> None:
    calls: list[int] = []

    def flaky(request: Request) -> Response:
        calls.append(1)
        return Response("down", status=500) if len(calls) < 3 else Response(GOOD_FEED, content_type=FEED_TYPE)

    http.expect_request("/flaky").respond_with_handler(flaky)
    url = http.url_for("/flaky")
    config = site([url])
    with Store(config.database_path) as store:
        fetch_sources(config, store, now=NOW)
        assert store.source_health.get(url).next_attempt == NOW + timedelta(minutes=30)
        skipped = fetch_sources(config, store, now=NOW + timedelta(minutes=10))
        assert skipped.results[0].status == "waiting" and len(calls) == 1
        fetch_sources(config, store, now=NOW + timedelta(minutes=31))
        health = store.source_health.get(url)
        assert health.failures == 2 and health.next_attempt == NOW + timedelta(minutes=31 + 60)
        fetch_sources(config, store, now=NOW + timedelta(hours=3))
        health = store.source_health.get(url)
        assert (health.failures, health.next_attempt, health.last_error) == (0, None, "")
        assert health.last_success == NOW + timedelta(hours=3)


def test_gone_source_is_not_fetched_again(http: HTTPServer, site: SiteMaker) -> None:
    http.expect_request("/gone").respond_with_data("", status=410)
    url = http.url_for("/gone")
    config = site([url])
    with Store(config.database_path) as store:
        fetch_sources(config, store, now=NOW)
        again = fetch_sources(config, store, now=NOW + timedelta(days=30), force=True)
    assert again.results[0].status == "disabled"
    # Counted by path: the module's server is shared, and the timeout case's slow handler
    # (2 s, past the client's 1 s) logs its request late, possibly during this test.
    assert [request.path for request, _ in http.log if request.path == "/gone"] == ["/gone"]


def test_permanent_redirect_updates_the_listed_url_after_three_runs(http: HTTPServer, site: SiteMaker) -> None:
    http.expect_request("/old").respond_with_handler(_redirect(http.url_for("/good"), 301))
    old = http.url_for("/old")
    config = site([old])
    with Store(config.database_path) as store:
        for run in range(1, 4):
            report = fetch_sources(config, store, now=NOW + timedelta(hours=run))
            assert report.results[0].status == "fetched"
            if run < 3:
                assert store.source_health.get(old).moved_runs == run
                assert report.moved == []
        assert report.moved == [(old, http.url_for("/good"))]
        assert [s.url for s in read_opml(config.path("feeds/sources.opml"))] == [http.url_for("/good")]
        assert_good_arrived(config, store, http.url_for("/good"))
        assert store.source_health.get(http.url_for("/good")).last_success is not None


def test_temporary_redirect_does_not_move_the_source(http: HTTPServer, site: SiteMaker) -> None:
    http.expect_request("/tmp").respond_with_handler(_redirect("/good", 302))
    url = http.url_for("/tmp")
    config = site([url])
    with Store(config.database_path) as store:
        for run in range(4):
            fetch_sources(config, store, now=NOW + timedelta(hours=run))
        assert store.source_health.get(url).moved_to == ""
    assert [s.url for s in read_opml(config.path("feeds/sources.opml"))] == [url]


# Feeds that parse, with a documented outcome: (name, body, content type, check of stored titles, problem)
def _titles(config: Config, store: Store, url: str) -> list[str]:
    return sorted(stored(config, store).get(url, []))


def test_wrong_charset_keeps_entries_and_reports_it(http: HTTPServer, site: SiteMaker) -> None:
    # Latin-1 bytes served as UTF-8: feedparser falls back and says so.
    http.expect_request("/bad").respond_with_data(LATIN1_FEED, content_type="application/rss+xml; charset=utf-8")
    good, bad = http.url_for("/good"), http.url_for("/bad")
    config = site([good, bad])
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        result = next(r for r in report.results if r.source.url == bad)
        assert result.status == "fetched"
        assert any("malformed" in p or "encoding" in p.lower() for p in result.problems), result.problems
        assert _titles(config, store, bad) == ["Café society"]
        assert_good_arrived(config, store, good)


def test_missing_charset_uses_the_xml_declaration(http: HTTPServer, site: SiteMaker) -> None:
    http.expect_request("/bad").respond_with_data(LATIN1_FEED, content_type="application/rss+xml")
    good, bad = http.url_for("/good"), http.url_for("/bad")
    config = site([bad, good])
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        assert report.results[0].problems == []
        assert _titles(config, store, bad) == ["Café society"]
        assert_good_arrived(config, store, good)


def test_malformed_xml_with_entries_keeps_them_and_reports_it(http: HTTPServer, site: SiteMaker) -> None:
    body = rss([story(1, "bad.example.com"), story(2, "bad.example.com")]).replace(b"</channel></rss>", b"<item>")
    body = body.replace(b"Story 1 about", b"Story 1 & about")  # a bare ampersand
    http.expect_request("/bad").respond_with_data(body, content_type=FEED_TYPE)
    good, bad = http.url_for("/good"), http.url_for("/bad")
    config = site([good, bad])
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        result = next(r for r in report.results if r.source.url == bad)
        assert result.status == "fetched" and not result.failed
        assert any(p.startswith("malformed feed") for p in result.problems)
        assert len(_titles(config, store, bad)) == 2
        assert_good_arrived(config, store, good)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE], ids=["entity expansion", "external entity"])
def test_entity_attacks_do_not_expand_or_read_files(http: HTTPServer, site: SiteMaker, body: bytes) -> None:
    http.expect_request("/bad").respond_with_data(body, content_type=FEED_TYPE)
    good, bad = http.url_for("/good"), http.url_for("/bad")
    config = site([good, bad])
    started = time.perf_counter()
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        result = next(r for r in report.results if r.source.url == bad)
        assert any("entity" in p for p in result.problems), result.problems
        for item in store.outside_entries.in_window(NOW - timedelta(days=3650), NOW + timedelta(days=1)):
            text = item.entry.title + item.entry.summary_html
            assert "lollol" not in text
            assert "root:" not in text
            assert len(text) < 500
        assert_good_arrived(config, store, good)
    assert time.perf_counter() - started < 10


def test_feed_without_dates_uses_first_seen_and_keeps_it(http: HTTPServer, site: SiteMaker) -> None:
    items = [{k: v for k, v in story(n, "nodate.example.com").items() if k != "pubDate"} for n in (1, 2)]
    versions = [rss(items), rss([*items, {k: v for k, v in story(3, "nodate.example.com").items() if k != "pubDate"}])]
    http.expect_request("/bad").respond_with_handler(lambda request: Response(versions.pop(0), content_type=FEED_TYPE))
    good, bad = http.url_for("/good"), http.url_for("/bad")
    config = site([bad, good])
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        assert any("no date" in p for p in report.results[0].problems)
        assert_good_arrived(config, store, good)
        later = NOW + timedelta(hours=5)
        fetch_sources(config, store, now=later)
        entries = {
            e.entry.title: e for e in store.outside_entries.in_window(NOW - timedelta(days=1), later + timedelta(1))
        }
    assert entries["Story 1 about the festival lineup"].entry.published == NOW
    assert entries["Story 1 about the festival lineup"].entry.first_seen == NOW
    assert not entries["Story 1 about the festival lineup"].dated
    assert entries["Story 3 about the festival lineup"].entry.published == later


def test_future_dates_are_clamped_to_now(http: HTTPServer, site: SiteMaker) -> None:
    http.expect_request("/bad").respond_with_data(
        rss([{**story(1, "future.example.com"), "pubDate": "Fri, 01 Jan 2100 00:00:00 GMT"}]), content_type=FEED_TYPE
    )
    good, bad = http.url_for("/good"), http.url_for("/bad")
    config = site([bad, good])
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        assert any("future" in p for p in report.results[0].problems)
        assert_good_arrived(config, store, good)
        [entry] = [e for e in merged_stream(config, store, NOW - timedelta(days=1), NOW + timedelta(seconds=1))
                   if e.source_url == bad]  # fmt: skip
    assert entry.published == NOW


def test_duplicate_guids_keep_the_first_copy(http: HTTPServer, site: SiteMaker) -> None:
    first = story(1, "dup.example.com")
    second = {**story(2, "dup.example.com"), "guid": first["guid"]}
    http.expect_request("/bad").respond_with_data(rss([first, second]), content_type=FEED_TYPE)
    good, bad = http.url_for("/good"), http.url_for("/bad")
    config = site([good, bad])
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        result = next(r for r in report.results if r.source.url == bad)
        assert any("GUID" in p for p in result.problems)
        assert _titles(config, store, bad) == ["Story 1 about the festival lineup"]
        assert_good_arrived(config, store, good)


def test_items_without_guid_are_identified_by_their_link(http: HTTPServer, site: SiteMaker) -> None:
    items = [{k: v for k, v in story(n, "noguid.example.com").items() if k != "guid"} for n in (1, 2)]
    items[0]["link"] += "?utm_source=rss"
    http.expect_request("/bad").respond_with_data(rss(items), content_type=FEED_TYPE)
    bad = http.url_for("/bad")
    config = site([bad])
    with Store(config.database_path) as store:
        fetch_sources(config, store, now=NOW)
        fetch_sources(config, store, now=NOW + timedelta(hours=2), force=True)
        ids = sorted(e.entry.id for e in store.outside_entries.in_window(NOW - timedelta(days=9), NOW))
    assert ids == ["https://noguid.example.com/story/1", "https://noguid.example.com/story/2"]


def test_retention_prunes_old_entries(http: HTTPServer, site: SiteMaker) -> None:
    config = site([http.url_for("/good")], extra="retention_days = 30")
    with Store(config.database_path) as store:
        fetch_sources(config, store, now=NOW)
        report = fetch_sources(config, store, now=NOW + timedelta(days=40), force=True)
        assert report.pruned == 5
        assert stored(config, store) == {}


def test_local_file_sources_are_read_from_disk_with_mtime_validation(tmp_path: Path, site: SiteMaker) -> None:
    config = site(["feeds/local.xml"])
    (config.root / "feeds" / "local.xml").write_bytes(GOOD_FEED)
    with Store(config.database_path) as store:
        first = fetch_sources(config, store, now=NOW)
        second = fetch_sources(config, store, now=NOW + timedelta(minutes=1))
    assert first.results[0].new_entries == 5
    assert second.results[0].status == "not-modified"


def test_last_modified_only_server(http: HTTPServer, site: SiteMaker) -> None:
    stamp = format_datetime(NOW - timedelta(days=1), usegmt=True)

    def handler(request: Request) -> Response:
        if request.headers.get("If-Modified-Since") == stamp:
            return Response(status=304)
        return Response(GOOD_FEED, headers={"Last-Modified": stamp}, content_type=FEED_TYPE)

    http.expect_request("/lm").respond_with_handler(handler)
    config = site([http.url_for("/lm")])
    with Store(config.database_path) as store:
        fetch_sources(config, store, now=NOW)
        assert fetch_sources(config, store, now=NOW).results[0].status == "not-modified"


def test_a_big_run_parses_in_worker_processes_and_everything_arrives(http: HTTPServer, site: SiteMaker) -> None:
    from syndicate._sources.update import PROCESS_POOL_THRESHOLD

    count = PROCESS_POOL_THRESHOLD + 2
    for n in range(count):
        body = rss([story(i, f"outlet{n}.example.com") for i in range(1, 4)], title=f"Outlet {n}")
        http.expect_request(f"/feed/{n}").respond_with_data(body, content_type=FEED_TYPE)
    http.expect_request("/feed/broken").respond_with_data("<html><body>moved</body></html>", content_type="text/html")
    urls = [http.url_for(f"/feed/{n}") for n in range(count)] + [http.url_for("/feed/broken")]
    config = site(urls)
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        assert [r.source.url for r in report.failed] == [http.url_for("/feed/broken")]
        assert report.new_entries == count * 3
        assert all(len(titles) == 3 for titles in stored(config, store).values())


def test_local_paths_outside_the_site_folder_are_refused(site: SiteMaker) -> None:
    config = site(["../../../../etc/passwd", "/etc/hostname"])
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
    assert all(r.failed and "outside the site folder" in r.outcome.error for r in report.results if r.outcome)
    assert len(report.failed) == 2


def test_a_move_onto_another_listed_source_leaves_both_alone(http: HTTPServer, site: SiteMaker) -> None:
    http.expect_request("/old").respond_with_handler(_redirect(http.url_for("/good"), 308))
    old, good = http.url_for("/old"), http.url_for("/good")
    config = site([old, good])
    with Store(config.database_path) as store:
        for run in range(4):
            report = fetch_sources(config, store, now=NOW + timedelta(hours=run))
            assert report.moved == []
        assert store.source_health.get(good).last_success is not None
    assert [s.url for s in read_opml(config.path("feeds/sources.opml"))] == [old, good]
