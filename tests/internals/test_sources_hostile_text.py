"""Hostile outside text: control characters and absurd lengths never stop a build or bloat a feed.

Issue 10, findings 2 (outside side) and 12: an outside feed served by a real
loopback server carries characters XML cannot carry (``&#1;``, ``&#27;``, a raw
``\\x01``, a lone surrogate, U+FFFE) or fields millions of characters long.
They are cleaned and capped at normalisation, with a note in the source's
report; entries stored before that rule existed are cleaned when read.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from conftest import SiteFactory
from pytest_httpserver import HTTPServer

import syndicate
from syndicate import OutsideEntry, Source, load_config
from syndicate._sources import fetch_sources, merged_stream, render_opml
from syndicate._store import Store, StoredEntry
from syndicate._textguard import has_forbidden
from syndicate.cli import main

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FETCH_TIME = NOW - timedelta(hours=1)
TITLE_LIMIT = 1_000  # the documented caps (docs/explanation/outside-feeds.md)
URL_LIMIT = 2_048
SOURCE_URL = "https://wire.example.com/feed"

CONTROL_RSS = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<rss version="2.0"><channel><title>Wire&#27;</title><link>https://wire.example.com/</link>\n'
    b"<item><title>Festival&#1; jury named \x01today&#27;</title>"
    b"<link>https://wire.example.com/jury&#1;</link><guid>wire-1&#1;</guid>"
    b"<author>desk@wire.example.com (Ann&#1; Lee\x01)</author>"
    b"<category>news&#1;</category>"
    b"<pubDate>Thu, 19 Nov 2026 10:00:00 GMT</pubDate>"
    b"<description>A &lt;b&gt;bold&#1;&lt;/b&gt; jury&#xFFFE; with &#xD800;surrogates\x0b and tabs.</description>"
    b"</item>\n"
    b"<item><title>Second story survives intact</title><link>https://wire.example.com/second</link>"
    b"<guid>wire-2</guid><pubDate>Thu, 19 Nov 2026 09:00:00 GMT</pubDate></item>\n"
    b"</channel></rss>"
)


def _huge_rss() -> bytes:
    title = ("Blockbuster " * 420_000)[:5_000_000]
    summary = "<p>" + ("word " * 40_000) + "</p>"
    long_link = "https://wire.example.com/" + "a" * (URL_LIMIT + 10)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Huge</title>'
        "<link>https://huge.example.com/</link>"
        f'<item><title>{title}</title><link>https://huge.example.com/big</link><guid isPermaLink="false">big-1</guid>'
        f"<author>{'Z' * 50_000}</author>"
        f"<description><![CDATA[{summary}]]></description>"
        "<pubDate>Thu, 19 Nov 2026 10:00:00 GMT</pubDate></item>"
        f"<item><title>A story behind a very long link</title><link>{long_link}</link>"
        '<guid isPermaLink="false">long-link</guid>'
        "<pubDate>Thu, 19 Nov 2026 09:00:00 GMT</pubDate></item>"
        "</channel></rss>"
    ).encode()


def _site_with(make_site, sources: list[Source], config_extra: str = "") -> Path:  # type: ignore[no-untyped-def]
    config = '[site]\ntitle = "Test Reel"\nurl = "https://test.example.org"\ntimezone = "Europe/London"\n'
    root: Path = make_site({}, config=config + config_extra)
    (root / "feeds").mkdir()
    (root / "feeds" / "sources.opml").write_bytes(render_opml(sources, "t"))
    return root


def _written_feeds(root: Path) -> dict[str, bytes]:
    out = root / "public" / "around-the-web"
    return {name: (out / name).read_bytes() for name in ("rss.xml", "atom.xml", "feed.json")}


def _assert_feeds_clean(feeds: dict[str, bytes]) -> None:
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse(feeds[name])
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
    document = json.loads(feeds["feed.json"])
    assert not has_forbidden(json.dumps(document, ensure_ascii=False))


def test_control_characters_in_an_outside_feed_are_removed_and_reported(
    server: HTTPServer,
    make_site: SiteFactory,
) -> None:
    server.clear()
    server.expect_request("/wire").respond_with_data(CONTROL_RSS, content_type="application/rss+xml")
    root = _site_with(make_site, [Source(server.url_for("/wire"), "Wire")])
    config = load_config(root)
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=FETCH_TIME)
        assert not report.failed
        problems = " ".join(report.results[0].problems)
        assert "characters XML cannot carry" in problems
        stream = merged_stream(config, store, NOW - timedelta(days=5), NOW)
    assert [e.title for e in stream] == ["Festival jury named today", "Second story survives intact"]
    first = stream[0]
    for text in (first.title, first.summary_html, first.author, first.url, first.id):
        assert not has_forbidden(text), repr(text)
    assert first.author == "desk@wire.example.com (Ann Lee)"
    with syndicate.Site.open(root) as site:
        site.build(now=NOW)
    feeds = _written_feeds(root)
    _assert_feeds_clean(feeds)
    titles = [e.title for e in feedparser.parse(feeds["rss.xml"]).entries]
    assert titles == ["Festival jury named today", "Second story survives intact"]


def test_build_fetch_cli_survives_control_characters(server: HTTPServer, make_site) -> None:  # type: ignore[no-untyped-def]
    server.clear()
    undated = CONTROL_RSS.replace(b"<pubDate>Thu, 19 Nov 2026 10:00:00 GMT</pubDate>", b"")
    server.expect_request("/wire").respond_with_data(undated, content_type="application/rss+xml")
    root = _site_with(make_site, [Source(server.url_for("/wire"), "Wire")])
    result = CliRunner().invoke(main, ["build", "--site", str(root), "--fetch", "--json"])
    assert result.exit_code == 0, result.output
    feeds = _written_feeds(root)
    _assert_feeds_clean(feeds)
    assert "Festival jury named today" in [e.title for e in feedparser.parse(feeds["atom.xml"]).entries]


def test_entries_stored_before_the_fix_do_not_stop_the_build(make_site) -> None:  # type: ignore[no-untyped-def]
    source = Source("https://old.example.com/feed", "Old")
    root = _site_with(make_site, [source])
    config = load_config(root)
    moment = NOW - timedelta(hours=3)
    dirty = OutsideEntry(
        id="old-1\x01",
        title="Stored\x01 before\x1b the\ufffe fix",  # SQLite cannot hold a lone surrogate at all
        url="https://old.example.com/story\x01",
        source_title="Old\x0c",
        source_url="https://old.example.com/feed",
        published=moment,
        first_seen=moment,
        summary_html="<p>Body\x01 with\x1b controls\ufffe</p>",
        author="Ann\x01 Lee",
    )
    huge = OutsideEntry(
        id="old-2",
        title="Huge " * 1_000_000,
        url="https://old.example.com/huge",
        source_title="Old",
        source_url="https://old.example.com/feed",
        published=moment - timedelta(hours=1),
        first_seen=moment,
        summary_html="<p>" + "text " * 100_000 + "</p>",
    )
    with Store(config.database_path) as store:
        store.outside_entries.add_many([StoredEntry(source.url, dirty), StoredEntry(source.url, huge)])
    with syndicate.Site.open(root) as site:
        site.build(now=NOW)
    feeds = _written_feeds(root)
    _assert_feeds_clean(feeds)
    entries = feedparser.parse(feeds["rss.xml"]).entries
    assert entries[0].title == "Stored before the fix"
    assert entries[0].link == "https://old.example.com/story"
    assert len(entries[1].title) <= TITLE_LIMIT
    assert sum(len(data) for data in feeds.values()) < 100_000


def test_absurd_lengths_are_capped_and_feeds_stay_small(server: HTTPServer, make_site) -> None:  # type: ignore[no-untyped-def]
    server.clear()
    server.expect_request("/huge").respond_with_data(_huge_rss(), content_type="application/rss+xml")
    root = _site_with(make_site, [Source(server.url_for("/huge"), "Huge")])
    config = load_config(root)
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=FETCH_TIME)
        assert not report.failed, report.results[0].outcome
        problems = " | ".join(report.results[0].problems)
        stream = merged_stream(config, store, NOW - timedelta(days=5), NOW)
    assert f"1 titles were longer than {TITLE_LIMIT} characters; cut" in problems
    assert "1 author names were longer than" in problems
    assert f"1 links were longer than {URL_LIMIT} characters; dropped" in problems
    assert [e.id for e in stream] == ["big-1", "long-link"], [(e.id, e.title[:40]) for e in stream]
    big = stream[0]
    assert len(big.title) <= TITLE_LIMIT and big.title.startswith("Blockbuster Blockbuster")
    assert len(big.author) <= 200
    assert len(big.summary_html) < 1_000  # the 200 KB summary became a snippet
    # The entry whose link was too long falls back to the feed's site, never a cut URL.
    assert all(len(e.url) <= URL_LIMIT for e in stream)
    with syndicate.Site.open(root) as site:
        site.build(now=NOW)
    feeds = _written_feeds(root)
    _assert_feeds_clean(feeds)
    for name, data in feeds.items():
        assert len(data) < 50_000, (name, len(data))


def _many_rss(count: int) -> bytes:
    items = "".join(
        f"<item><title>Story number {n} of the flood</title><link>https://flood.example.com/{n}</link>"
        f"<guid>flood-{n}</guid><pubDate>{(NOW - timedelta(minutes=count - n)).strftime('%a, %d %b %Y %H:%M:%S GMT')}"
        "</pubDate></item>"
        for n in range(count)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Flood</title>'
        f"<link>https://flood.example.com/</link>{items}</channel></rss>"
    ).encode()


@pytest.mark.parametrize("cap", [50])
def test_entries_per_fetch_are_capped_keeping_the_newest(server: HTTPServer, make_site, cap: int) -> None:  # type: ignore[no-untyped-def]
    server.clear()
    server.expect_request("/flood").respond_with_data(_many_rss(300), content_type="application/rss+xml")
    extra = f"\n[sources]\nmax_entries_per_fetch = {cap}\n"
    root = _site_with(make_site, [Source(server.url_for("/flood"), "Flood")], extra)
    config = load_config(root)
    assert config.sources.max_entries_per_fetch == cap
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        result = report.results[0]
        assert result.entries == cap and result.new_entries == cap
        assert any(f"only the newest {cap} were kept" in p for p in result.problems)
        stored = store.outside_entries.in_window(NOW - timedelta(days=5), NOW + timedelta(seconds=1))
    assert sorted(int(s.entry.id.split("-")[1]) for s in stored) == list(range(300 - cap, 300))


def test_default_cap_on_entries_per_fetch_is_a_thousand() -> None:
    from syndicate._config import SourcesConfig

    assert SourcesConfig().max_entries_per_fetch == 1000


def test_storing_an_entry_with_a_lone_surrogate_does_not_lose_the_batch(tmp_path: Path) -> None:
    # SQLite cannot encode a lone surrogate: one such field used to fail the whole run's insert.
    moment = NOW - timedelta(hours=1)
    good = OutsideEntry("good", "A good story", "https://wire.example.com/good", "Wire", SOURCE_URL, moment, moment)
    bad = dataclasses.replace(good, id="bad\ud800", title="Bad\ud800 story", url="https://wire.example.com/bad")
    with Store(tmp_path / "state.db") as store:
        assert store.outside_entries.add_many([StoredEntry(SOURCE_URL, good), StoredEntry(SOURCE_URL, bad)]) == {
            SOURCE_URL: 2
        }
        titles = [s.entry.title for s in store.outside_entries.in_window(NOW - timedelta(days=1), NOW)]
    assert sorted(titles) == ["A good story", "Bad story"]


def test_a_five_million_character_title_keeps_the_newsletter_small(server: HTTPServer, make_site) -> None:  # type: ignore[no-untyped-def]
    from newsletter_samples import AFTER_WEEK, WEEK, newsletter_site

    from syndicate import build_issue

    huge = _huge_rss().replace(b"19 Nov 2026", b"12 Nov 2026")  # inside the newsletter's week
    server.clear()
    server.expect_request("/huge").respond_with_data(huge, content_type="application/rss+xml")
    root = newsletter_site(make_site)
    (root / "feeds").mkdir()
    (root / "feeds" / "sources.opml").write_bytes(render_opml([Source(server.url_for("/huge"), "Huge")], "t"))
    config = load_config(root)
    with Store(config.database_path) as store:
        assert not fetch_sources(config, store, now=datetime(2026, 11, 13, 9, 0, tzinfo=UTC)).failed
    with syndicate.Site.open(root) as site:
        built = build_issue(site, WEEK, now=AFTER_WEEK)
    assert built is not None
    assert [e.id for e in built.issue.around_the_web][:1] == ["big-1"]
    folder = root / "public" / "newsletter" / WEEK
    for name in ("email.html", "email.txt", "message.eml", "index.html"):
        size = (folder / name).stat().st_size
        assert size < 300_000, (name, size)
