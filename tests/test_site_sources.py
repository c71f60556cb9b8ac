"""The outside-feed verbs of the facade: site.sources.*, site.fetch() and site.build(fetch=True).

Through the public API only (``syndicate.Site.open``), with a real HTTP server
on loopback standing in for the outside feeds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from conftest import SiteFactory
from pytest_httpserver import HTTPServer

import syndicate
from syndicate.cli import main

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

ARTICLE = """\
---
title: Our Own Festival Story
date: 2026-11-19 09:00
author: Jane Doe
---
Our own reporting from the festival.
"""

WIRE_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title><link>https://wire.example.com/</link>
<item><title>Torino winners announced</title><link>https://wire.example.com/torino</link>
<guid>wire-torino</guid><pubDate>Thu, 19 Nov 2026 15:00:00 GMT</pubDate></item>
</channel></rss>"""

READER_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>My reader</title></head><body>
<outline text="Film"><outline text="Wire" xmlUrl="https://wire.example.com/feed" type="rss"/>
<outline text="Blog" xmlUrl="https://blog.example.com/feed" type="rss"/></outline>
</body></opml>"""


@pytest.fixture
def site(make_site: SiteFactory) -> syndicate.Site:
    return syndicate.Site.open(make_site({"festival-story.md": ARTICLE}))


def test_add_lists_a_source_in_the_opml_file_and_health_shows_it(site: syndicate.Site) -> None:
    change = site.sources.add(
        "https://variety.example/feed", title="Variety", weight=2, max_items=5, keywords=[" festival ", "", "premiere"]
    )
    assert change.as_json() == {
        "action": "added",
        "url": "https://variety.example/feed",
        "title": "Variety",
        "opml": str(site.sources.opml),
    }
    assert site.sources.opml.is_file()
    [listed] = site.sources.all()
    assert (listed.title, listed.weight, listed.max_items, listed.keywords) == (
        "Variety",
        2.0,
        5,
        ("festival", "premiere"),
    )
    [status] = site.sources.health().sources
    assert status.source == listed
    assert status.stored_entries == 0 and status.health.failures == 0
    assert status.as_json()["consecutive_failures"] == 0
    assert site.sources.health().as_json()["opml"] == str(site.sources.opml)


def test_adding_a_listed_url_again_is_refused_naming_the_url(site: syndicate.Site) -> None:
    site.sources.add("https://variety.example/feed")
    before = site.sources.opml.read_bytes()
    with pytest.raises(syndicate.DuplicateSourceError, match=r"https://variety\.example/feed") as caught:
        site.sources.add("https://variety.example/feed", title="Again")
    assert isinstance(caught.value, syndicate.SyndicateError)
    assert site.sources.opml.read_bytes() == before


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("  ", {}),
        ("https://x.example/feed", {"weight": 0}),
        ("https://x.example/feed", {"weight": float("nan")}),
        ("https://x.example/feed", {"max_items": 0}),
        ("https://x.example/feed", {"keywords": ["k" * 101]}),
    ],
)
def test_bad_values_raise_a_source_list_error_not_a_value_error(
    site: syndicate.Site, url: str, options: dict[str, object]
) -> None:
    with pytest.raises(syndicate.SourceListError) as caught:
        site.sources.add(url, **options)  # type: ignore[arg-type]
    assert caught.value.url  # names the URL (or says it is empty)
    assert site.sources.all() == []


def test_remove_takes_a_source_off_and_an_unknown_url_is_refused(site: syndicate.Site) -> None:
    site.sources.add("https://a.example/feed", title="A")
    site.sources.add("https://b.example/feed", title="B")
    change = site.sources.remove("https://a.example/feed")
    assert (change.action, change.source.title) == ("removed", "A")
    assert [s.url for s in site.sources.all()] == ["https://b.example/feed"]
    with pytest.raises(syndicate.UnknownSourceError, match=r"https://a\.example/feed"):
        site.sources.remove("https://a.example/feed")


def test_import_opml_adds_what_is_not_listed_from_a_path_or_bytes(site: syndicate.Site, tmp_path: Path) -> None:
    site.sources.add("https://wire.example.com/feed", title="Wire (ours)")
    export = tmp_path / "reader.opml"
    export.write_bytes(READER_EXPORT)
    imported = site.sources.import_opml(export)
    assert imported.as_json() == {"added": ["https://blog.example.com/feed"], "already_listed": 1}
    assert imported.added[0].category == "Film"
    again = site.sources.import_opml(READER_EXPORT)
    assert again.as_json() == {"added": [], "already_listed": 2}
    assert [s.title for s in site.sources.all()] == ["Wire (ours)", "Blog"]


def test_import_of_a_missing_or_broken_file_names_it(site: syndicate.Site, tmp_path: Path) -> None:
    with pytest.raises(syndicate.SourceListError, match=r"missing\.opml"):
        site.sources.import_opml(tmp_path / "missing.opml")
    broken = tmp_path / "broken.opml"
    broken.write_bytes(b"<html/>")
    with pytest.raises(syndicate.SourceError, match=r"broken\.opml"):
        site.sources.import_opml(broken)


def test_export_opml_round_trips_and_can_write_a_file(site: syndicate.Site, tmp_path: Path) -> None:
    site.sources.add("https://a.example/feed", title="A", category="trade press", weight=1.5)
    data = site.sources.export_opml(to=tmp_path / "out.opml")
    assert (tmp_path / "out.opml").read_bytes() == data
    other = syndicate.Site.open(site.root)
    other.sources.remove("https://a.example/feed")
    other.sources.import_opml(data)
    assert other.sources.all() == site.sources.all()


def test_fetch_stores_stories_from_a_real_server_and_reports_as_json(
    site: syndicate.Site, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/wire").respond_with_data(WIRE_RSS, content_type="application/rss+xml")
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    site.sources.add(httpserver.url_for("/wire"), title="Wire")
    site.sources.add(httpserver.url_for("/gone"), title="Gone")
    seen: list[tuple[str, int, int]] = []
    report = site.fetch(now=NOW, progress=lambda result, done, total: seen.append((result.source.title, done, total)))
    assert sorted(title for title, _, _ in seen) == ["Gone", "Wire"]
    assert [(done, total) for _, done, total in seen] == [(1, 2), (2, 2)]
    assert report.new_entries == 1
    assert [r.source.title for r in report.failed] == ["Gone"]
    shape = report.as_json()
    assert set(shape) == {"sources", "failed", "new_entries", "pruned", "moved", "seconds"}
    [gone] = shape["failed"]
    assert (gone["url"], gone["title"]) == (httpserver.url_for("/gone"), "Gone")
    assert "404" in gone["error"]
    json.dumps(shape)
    statuses = {s.source.title: s for s in site.sources.health().sources}
    assert statuses["Wire"].stored_entries == 1
    assert statuses["Gone"].health.failures == 1


def test_build_with_fetch_merges_the_outside_stories_into_the_merged_feed(
    site: syndicate.Site, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/wire").respond_with_data(WIRE_RSS, content_type="application/rss+xml")
    site.sources.add(httpserver.url_for("/wire"), title="Wire")
    result = site.build(fetch=True)
    assert result.fetch is not None and result.fetch.new_entries == 1
    assert result.failed_sources == []
    assert result.as_json()["fetch"] == {"new_entries": 1, "failed": []}
    merged = feedparser.parse((site.root / "public" / "around-the-web" / "rss.xml").read_bytes())
    assert {e.title for e in merged.entries} == {"Torino winners announced", "Our Own Festival Story"}
    assert site.build().as_json()["fetch"] is None


def test_the_merged_section_names_the_feed_and_the_old_spelling_still_works(make_site: SiteFactory) -> None:
    config = """\
        [site]
        title = "Test Reel"
        url = "https://test.example.org"

        [merged]
        folder = "wire/"
        title = "Test Reel: the wire"
        description = "Everything"
        limit = 1
        """
    site = syndicate.Site.open(make_site({"festival-story.md": ARTICLE}, config))
    site.build(now=NOW)
    channel = feedparser.parse((site.root / "public" / "wire" / "rss.xml").read_bytes()).feed
    assert (channel.title, channel.description) == ("Test Reel: the wire", "Everything")
    assert [listing.title for listing in site.feed_listings(NOW) if listing.kind == "merged"] == ["Test Reel: the wire"]

    old = """\
        [site]
        title = "Test Reel"
        url = "https://test.example.org"

        [sources]
        film_news = false
        """
    root = make_site({"festival-story.md": ARTICLE}, old, name="old")
    old_site = syndicate.Site.open(root)
    assert old_site.config.merged.enabled is False
    result = old_site.build(now=NOW)
    assert not (root / "public" / "around-the-web").exists()
    [warning] = [p for p in result.problems if "deprecated" in p.message]
    assert warning.severity is syndicate.Severity.WARNING and "[merged] enabled" in warning.message
    # The lower-level build_site says so too, once, also when nothing changed since the last build.
    for _ in range(2):
        again = syndicate.build_site(old_site.config, now=NOW)
        assert [p.message for p in again.problems if "deprecated" in p.message] == [warning.message]
    checked = CliRunner().invoke(main, ["check", "--site", str(root), "--json"])
    assert any("[sources] film_news is deprecated" in p["message"] for p in json.loads(checked.output)["problems"])


def test_a_merged_folder_outside_the_output_is_a_config_error(make_site: SiteFactory) -> None:
    config = '[site]\ntitle = "T"\nurl = "https://t.example.org"\n[merged]\nfolder = "../elsewhere"\n'
    with pytest.raises(syndicate.ConfigError, match=r"merged\.folder"):
        syndicate.Site.open(make_site({}, config))


def test_cli_sources_add_remove_import_export(site: syndicate.Site, tmp_path: Path) -> None:
    runner = CliRunner()
    where = ["--site", str(site.root)]
    added = runner.invoke(main, ["sources", "add", "https://a.example/feed", "--title", "A", *where])
    assert added.exit_code == 0 and f"added A (https://a.example/feed) to {site.sources.opml}" in added.output
    again = runner.invoke(main, ["sources", "add", "https://a.example/feed", *where])
    assert again.exit_code == 2 and "is already listed in" in again.output
    export = tmp_path / "reader.opml"
    export.write_bytes(READER_EXPORT)
    imported = runner.invoke(main, ["sources", "import", str(export), "--json", *where])
    assert json.loads(imported.output) == {
        "added": ["https://wire.example.com/feed", "https://blog.example.com/feed"],
        "already_listed": 0,
    }
    removed = runner.invoke(main, ["sources", "remove", "https://a.example/feed", "--json", *where])
    assert json.loads(removed.output)["action"] == "removed"
    unknown = runner.invoke(main, ["sources", "remove", "https://a.example/feed", *where])
    assert unknown.exit_code == 2 and "not listed" in unknown.output
    out = tmp_path / "out.opml"
    assert runner.invoke(main, ["sources", "export", "-o", str(out), *where]).exit_code == 0
    assert [s.url for s in syndicate.Site.open(site.root).sources.all()] == [
        "https://wire.example.com/feed",
        "https://blog.example.com/feed",
    ]
    listed = runner.invoke(main, ["sources", "list", "--json", *where])
    assert [s["url"] for s in json.loads(listed.output)] == [
        "https://wire.example.com/feed",
        "https://blog.example.com/feed",
    ]
