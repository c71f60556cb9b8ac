"""Rebuilds: stable GUIDs, no rewrite without change, and every cache invalidated when its inputs change."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from conftest import ARTICLE_WITH_ID, SiteFactory, spy_on_first_arguments
from pytest_httpserver import HTTPServer

import syndicate
from syndicate import BuildResult, Source, Store, fetch_sources, load_config
from syndicate._collection import loader
from syndicate._sources.opml import render_opml

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("America/Chicago"))

WITH_ID = ARTICLE_WITH_ID

WITHOUT_ID = """\
---
title: Archive Finds a Print
date: 2026-10-15 10:00
author: Omar Haddad
tags: [restoration]
---
A print was found.
"""


def _build(site: Path, now: datetime = NOW) -> BuildResult:
    with syndicate.Site.open(site) as opened:
        return opened.build(now=now)


def _guids(site: Path, name: str = "rss.xml") -> dict[str, str]:
    parsed = feedparser.parse((site / "public" / name).read_bytes())
    return {e.title: e.id for e in parsed.entries}


def _mtimes(site: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (site / "public").rglob("*") if p.is_file()}


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the loader parses (cache misses), in order."""
    return spy_on_first_arguments(monkeypatch, loader, "parse_article_bytes")  # type: ignore[return-value]


def test_editing_the_title_of_an_article_with_id_keeps_its_guid(make_site: SiteFactory) -> None:
    site = make_site({"festival-opens.md": WITH_ID})
    _build(site)
    before = _guids(site)
    path = site / "content" / "festival-opens.md"
    path.write_text(WITH_ID.replace("title: Festival Opens", "title: Festival Opens With a Ghost Story"))
    _build(site)
    after = _guids(site)
    assert list(before.values()) == list(after.values()) == ["urn:uuid:0b6c9a8e-1d1f-4c1e-8a57-5d1c1a000001"]
    assert list(after) == ["Festival Opens With a Ghost Story"]
    assert _guids(site, "atom.xml") == after


def test_renaming_the_slug_of_an_article_with_id_keeps_its_guid(make_site: SiteFactory) -> None:
    site = make_site({"festival-opens.md": WITH_ID})
    _build(site)
    before = _guids(site)
    old = site / "content" / "festival-opens.md"
    old.rename(site / "content" / "lakeshore-festival-opens.md")
    _build(site)
    assert _guids(site) == before
    parsed = feedparser.parse((site / "public" / "rss.xml").read_bytes())
    assert parsed.entries[0].link == "https://test.example.org/lakeshore-festival-opens/"
    # Renaming through the front matter's slug key is the same.
    new = site / "content" / "lakeshore-festival-opens.md"
    new.write_text(new.read_text().replace("title:", "slug: festival-opening\ntitle:"))
    _build(site)
    assert _guids(site) == before


def test_without_id_the_guid_is_a_tag_uri_and_check_warns(make_site: SiteFactory) -> None:
    site = make_site({"archive.md": WITHOUT_ID})
    _build(site)
    assert _guids(site) == {"Archive Finds a Print": "tag:test.example.org,2026-10-15:archive"}
    # Editing the title keeps it too (it is derived from domain, date and slug, not the title).
    path = site / "content" / "archive.md"
    path.write_text(WITHOUT_ID.replace("Archive Finds a Print", "Archive Finds a Lost Print"))
    _build(site)
    assert _guids(site) == {"Archive Finds a Lost Print": "tag:test.example.org,2026-10-15:archive"}
    with syndicate.Site.open(site) as opened:
        warnings = [p.message for p in opened.collection.problems]
    assert any("no 'id' in front matter" in m and "tag:test.example.org,2026-10-15:archive" in m for m in warnings)


def test_no_change_rebuild_writes_no_file_and_keeps_mtimes(make_site: SiteFactory, parses: list[str]) -> None:
    site = make_site({"festival-opens.md": WITH_ID, "archive.md": WITHOUT_ID})
    first = _build(site)
    assert (
        len(first.written) == 3 * 6 + 4
    )  # site, 2 tags, 2 authors, around-the-web; feed.xsl, feed.css, related.json, feeds/index.html
    # Each file is read twice at most: its front matter for all, its body when it is published.
    assert sorted(set(parses)) == ["content/archive.md", "content/festival-opens.md"]
    mtimes = _mtimes(site)
    parses.clear()
    second = _build(site)
    assert second.written == [] and second.up_to_date
    assert second.published == 2 and second.feed_sets == 6
    assert parses == []
    assert _mtimes(site) == mtimes


def test_touching_a_file_without_changing_it_rewrites_nothing(make_site: SiteFactory, parses: list[str]) -> None:
    site = make_site({"festival-opens.md": WITH_ID, "archive.md": WITHOUT_ID})
    _build(site)
    mtimes = _mtimes(site)
    parses.clear()
    path = site / "content" / "archive.md"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    result = _build(site)
    assert parses == []  # same bytes, same hash: the cached parse is used
    assert result.written == [] and not result.up_to_date
    assert _mtimes(site) == mtimes


def test_editing_an_article_reparses_it_alone_and_rewrites_only_its_feeds(
    make_site: SiteFactory, parses: list[str]
) -> None:
    site = make_site({"festival-opens.md": WITH_ID, "archive.md": WITHOUT_ID})
    _build(site)
    mtimes = _mtimes(site)
    parses.clear()
    path = site / "content" / "archive.md"
    path.write_text(WITHOUT_ID.replace("A print was found.", "A nitrate print was found."))
    result = _build(site)
    assert set(parses) == {"content/archive.md"}
    public = site / "public"
    written = {p.relative_to(public).parent.as_posix() for p in result.written}
    assert written == {".", "tags/restoration", "authors/omar-haddad", "around-the-web"}
    # The other two sets are not even rendered (their fingerprints match, bodies loaded or not).
    assert result.skipped_sets == 2
    assert "A nitrate print was found." in (public / "rss.xml").read_text()
    untouched = public / "tags" / "festivals" / "rss.xml"
    assert untouched.stat().st_mtime_ns == mtimes[untouched]


def test_config_change_invalidates_parse_cache_and_outputs(make_site: SiteFactory, parses: list[str]) -> None:
    site = make_site({"festival-opens.md": WITH_ID})
    _build(site)
    parses.clear()
    config = site / "syndicate.toml"
    # A feed setting: nothing to re-parse, but every feed is rendered again.
    config.write_text(config.read_text() + "\n[feeds]\nttl = 15\n")
    result = _build(site)
    assert parses == []
    assert not result.up_to_date and result.skipped_sets == 0
    assert "<ttl>15</ttl>" in (site / "public" / "rss.xml").read_text()
    # A setting that shapes parsed articles (the site URL): every article is parsed again.
    config.write_text(config.read_text().replace("https://test.example.org", "https://films.example.net"))
    _build(site)
    assert set(parses) == {"content/festival-opens.md"}
    assert "https://films.example.net/festival-opens/" in (site / "public" / "atom.xml").read_text()


def test_template_change_invalidates_output_fingerprints(make_site: SiteFactory, parses: list[str]) -> None:
    site = make_site({"festival-opens.md": WITH_ID})
    (site / "templates").mkdir()
    template = site / "templates" / "issue.mjml.j2"
    template.write_text("<mjml></mjml>")
    _build(site)
    assert _build(site).up_to_date
    parses.clear()
    template.write_text("<mjml><mj-body></mj-body></mjml>")
    result = _build(site)
    assert not result.up_to_date
    assert result.skipped_sets == 0  # every feed set rendered again
    assert parses == []  # templates do not shape parsed articles
    assert _build(site).up_to_date


def test_deleted_or_edited_output_is_restored(make_site: SiteFactory) -> None:
    site = make_site({"festival-opens.md": WITH_ID})
    _build(site)
    rss = site / "public" / "rss.xml"
    original = rss.read_bytes()
    rss.unlink()
    (site / "public" / "tags" / "festivals" / "atom.xml").write_text("broken")
    result = _build(site)
    assert rss.read_bytes() == original
    assert {p.name for p in result.written} == {"rss.xml", "atom.xml"}
    assert (site / "public" / "tags" / "festivals" / "atom.xml").read_text().startswith("<?xml")


def test_a_scheduled_article_appears_when_its_time_comes(make_site: SiteFactory) -> None:
    later = WITHOUT_ID.replace("2026-10-15 10:00", "2026-12-01 08:00")
    site = make_site({"festival-opens.md": WITH_ID, "archive.md": later})
    first = _build(site, NOW)
    assert first.published == 1
    assert _build(site, NOW + timedelta(days=1)).up_to_date  # still before it is due
    due = _build(site, datetime(2026, 12, 1, 8, 0, tzinfo=ZoneInfo("Europe/London")))
    assert not due.up_to_date and due.published == 2
    assert "Archive Finds a Print" in _guids(site)


def test_removing_an_article_drops_it(make_site: SiteFactory, parses: list[str]) -> None:
    site = make_site({"festival-opens.md": WITH_ID, "archive.md": WITHOUT_ID})
    _build(site)
    (site / "public" / "tags" / "restoration" / "notes.txt").write_text("not ours")
    (site / "content" / "archive.md").unlink()
    result = _build(site)
    assert result.published == 1
    assert list(_guids(site)) == ["Festival Opens"]
    # The feeds of the tag and author that no longer have a story are removed, nothing else.
    public = site / "public"
    assert sorted(p.name for p in (public / "tags" / "restoration").iterdir()) == ["notes.txt"]
    assert not (public / "authors" / "omar-haddad").exists()
    assert {p.parent.name for p in result.removed} == {"restoration", "omar-haddad"}
    assert (public / "tags" / "festivals" / "rss.xml").is_file()


def test_build_renders_only_the_bodies_it_publishes(make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    from syndicate._collection import markdown
    from syndicate._collection.render import RenderedBody, render_markdown

    rendered: list[str] = []
    original = render_markdown

    def counting(source: str, page_url: str) -> RenderedBody:
        rendered.append(page_url)
        return original(source, page_url)

    monkeypatch.setattr(markdown, "render_markdown", counting)
    config = "[site]\ntitle = 'T'\nurl = 'https://t.example.org'\n[feeds]\nlimit = 1\ntag_feeds = false\n"
    config += "author_feeds = false\n[merged]\nenabled = false\n"
    older = WITH_ID.replace("2026-10-14", "2026-09-01").replace("000001", "000009")
    site = make_site({"festival-opens.md": WITH_ID, "archive.md": WITHOUT_ID, "old.md": older}, config=config)
    result = _build(site)
    assert rendered == ["https://t.example.org/archive/"]  # the newest, the only item
    assert result.articles == 3
    # The Python API still gets every article whole, from the same cache.
    with syndicate.Site.open(site) as opened:
        old = opened.collection.get("old")
    assert old is not None and old.content_html == "<p>The festival opened.</p>\n" and old.summary


def test_fetching_outside_stories_refreshes_the_merged_feeds_with_no_article_changed(
    make_site: SiteFactory, httpserver: HTTPServer
) -> None:
    """The manifest covers the outside stream too: new outside stories rebuild the merged feeds."""
    httpserver.expect_request("/trade").respond_with_data(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Trade</title><link>https://trade.example.com/</link>"
        "<description>d</description><item><title>Studio Buys a Festival Hit</title>"
        "<link>https://trade.example.com/hit</link><guid>hit-1</guid>"
        "<pubDate>Wed, 25 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>",
        content_type="application/rss+xml",
    )
    site = make_site({"festival-opens.md": WITH_ID})
    (site / "feeds").mkdir()
    (site / "feeds" / "sources.opml").write_bytes(render_opml([Source(httpserver.url_for("/trade"), "Trade")], "t"))
    _build(site)
    film_news = site / "public" / "around-the-web" / "rss.xml"
    assert [e.title for e in feedparser.parse(film_news.read_bytes()).entries] == ["Festival Opens"]
    assert _build(site).up_to_date
    config = load_config(site)
    with Store(config.database_path) as store:
        fetch_sources(config, store, now=NOW - timedelta(hours=1))
    result = _build(site)
    assert not result.up_to_date
    assert film_news in result.written
    titles = [e.title for e in feedparser.parse(film_news.read_bytes()).entries]
    assert titles == ["Studio Buys a Festival Hit", "Festival Opens"]
    assert _build(site).up_to_date
