"""End to end: outside servers -> fetch -> build -> film-news feeds, and the CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from conftest import DEMO_NOW
from pytest_httpserver import HTTPServer

import syndicate
from syndicate import Source, Store, load_config
from syndicate._sources import fetch_sources, merged_stream, read_opml, render_opml
from syndicate.cli import main

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

ARTICLE = """\
---
title: Our Own Festival Story
date: 2026-11-19 09:00
author: Jane Doe
tags: [festivals]
---
Our own reporting from the festival.
"""

NASTY_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Trade</title><link>https://trade.example.com/</link>
<item><title>Lumen Pictures Buys North American Rights to 'The Salt Road'</title>
<link>https://trade.example.com/news/salt-road?utm_source=rss&amp;utm_medium=feed</link>
<guid isPermaLink="false">trade-1</guid><pubDate>Thu, 19 Nov 2026 15:00:00 GMT</pubDate>
<description><![CDATA[<p onclick="steal()">A <strong>bidding war</strong>.<script>alert('x')</script>
<a href="javascript:alert(1)">click</a> <a href="/deals?utm_campaign=z">deals</a>
<img src="https://trade.example.com/open.gif?u=1" width="1" height="1">
<img src="/still.jpg" onerror="alert(2)" alt="Still"></p>]]></description></item>
</channel></rss>"""

SECOND_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Blog</title><link>https://blog.example.com/</link>
<item><title>Lumen Pictures buys North American rights to The Salt Road</title>
<link>https://blog.example.com/2026/11/salt-road/?utm_source=feedburner</link>
<guid>blog-salt-road</guid><pubDate>Thu, 19 Nov 2026 18:30:00 GMT</pubDate>
<description>The Cannes opener found a buyer.</description></item>
<item><title>Same link, different tracking</title>
<link>https://trade.example.com/news/salt-road?utm_source=blog&amp;fbclid=123</link>
<guid>blog-relink</guid><pubDate>Thu, 19 Nov 2026 19:00:00 GMT</pubDate></item>
<item><title>Notes on the Taiwanese new wave</title>
<link>https://blog.example.com/2026/11/taiwan/</link>
<guid>blog-taiwan</guid><pubDate>Wed, 18 Nov 2026 10:00:00 GMT</pubDate></item>
</channel></rss>"""


@pytest.fixture
def news_site(server: HTTPServer, make_site) -> Path:  # type: ignore[no-untyped-def]
    server.clear()
    server.expect_request("/trade").respond_with_data(NASTY_RSS, content_type="application/rss+xml")
    server.expect_request("/blog").respond_with_data(SECOND_RSS, content_type="application/rss+xml")
    server.expect_request("/broken").respond_with_data("nope", status=404)
    root: Path = make_site({"festival-story.md": ARTICLE})
    (root / "feeds").mkdir()
    sources = [
        Source(server.url_for("/trade"), "Trade", "https://trade.example.com/", weight=2),
        Source(server.url_for("/blog"), "Blog", "https://blog.example.com/"),
        Source(server.url_for("/broken"), "Broken"),
    ]
    (root / "feeds" / "sources.opml").write_bytes(render_opml(sources, "t"))
    return root


def _fetch_and_build(root: Path) -> Path:
    config = load_config(root)
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        assert [r.source.title for r in report.failed] == ["Broken"]
    with syndicate.Site.open(root) as site:
        site.build(now=NOW + timedelta(hours=12))
    return root / "public" / "around-the-web"


def test_merged_feeds_are_sanitised_deduplicated_credited_and_valid(news_site: Path, server: HTTPServer) -> None:
    out = _fetch_and_build(news_site)
    rss, atom = (out / "rss.xml").read_bytes(), (out / "atom.xml").read_bytes()
    feed = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    for document in (rss.decode(), atom.decode(), json.dumps(feed)):
        for bad in ("<script", "&lt;script", "onclick", "onerror", "javascript:", "open.gif", "utm_", "fbclid"):
            assert bad not in document, bad
    for name, data in (("rss.xml", rss), ("atom.xml", atom)):
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
        titles = [e.title for e in parsed.entries]
        # Newest first: the two outside stories left after de-dup, and our own article in between.
        assert titles == [
            "Lumen Pictures Buys North American Rights to 'The Salt Road'",
            "Our Own Festival Story",
            "Notes on the Taiwanese new wave",
        ], name
        salt = parsed.entries[0]
        assert salt.link == "https://trade.example.com/news/salt-road"
        assert salt.source.title == "Trade"
        assert 'rel="noopener nofollow"' in salt.summary
        # Relative URLs in a summary resolve against the feed's own address, as feedparser would.
        assert f'src="{server.url_for("/still.jpg")}"' in salt.summary
    atom_salt = feedparser.parse(atom).entries[0]
    related = sorted(link.href for link in atom_salt.links if link.rel == "related")
    # The blog carried the story twice (its own post, and a tracked link to the trade's): credited once.
    assert related == ["https://blog.example.com/2026/11/salt-road/"]
    assert b"<source url=" in rss and b"<source>" in atom
    items = feed["items"]
    assert [i["title"] for i in items] == [
        "Lumen Pictures Buys North American Rights to 'The Salt Road'",
        "Our Own Festival Story",
        "Notes on the Taiwanese new wave",
    ]
    assert items[0]["_source"]["title"] == "Trade" and items[0]["external_url"].startswith("https://trade.")
    rng = SCHEMAS / "atom.rng"
    if rng.exists() and shutil.which("xmllint"):
        check = subprocess.run(
            ["xmllint", "--noout", "--relaxng", str(rng), str(out / "atom.xml")], capture_output=True
        )
        assert check.returncode == 0, check.stderr.decode()


def test_merged_stream_api_gives_the_window_newest_first(news_site: Path) -> None:
    _fetch_and_build(news_site)
    config = load_config(news_site)
    with Store(config.database_path) as store:
        week = merged_stream(config, store, datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC))
        thursday = merged_stream(config, store, datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))
    assert [e.title for e in week] == [
        "Lumen Pictures Buys North American Rights to 'The Salt Road'",
        "Notes on the Taiwanese new wave",
    ]
    assert week[0].also_at_sources == ("Blog",)
    assert [e.title for e in thursday] == ["Lumen Pictures Buys North American Rights to 'The Salt Road'"]


def test_fetch_cli_exit_code_and_json_name_the_failed_source(news_site: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["fetch", "--site", str(news_site), "--json"])
    assert result.exit_code == 4, result.output
    data = json.loads(result.output)
    assert [f["title"] for f in data["failed"]] == ["Broken"]
    assert "HTTP 404" in data["failed"][0]["error"]
    assert data["new_entries"] == 4
    statuses = {s["title"]: s["status"] for s in data["sources"]}
    assert statuses == {"Trade": "fetched", "Blog": "fetched", "Broken": "failed"}
    table = runner.invoke(main, ["fetch", "--site", str(news_site), "--force"])
    assert table.exit_code == 4 and "Outside feeds" in table.output and "not-modified" not in table.output
    listing = runner.invoke(main, ["sources", "list", "--site", str(news_site), "--json"])
    assert listing.exit_code == 0
    health = {s["title"]: s for s in json.loads(listing.output)}
    assert health["Broken"]["consecutive_failures"] == 2 and health["Broken"]["next_attempt"]
    assert health["Trade"]["last_success"] and health["Trade"]["stored_entries"] == 1
    shown = runner.invoke(main, ["sources", "list", "--site", str(news_site)])
    assert shown.exit_code == 0 and "Broken" in shown.output


def test_fetch_cli_exit_code_zero_when_all_is_well(news_site: Path) -> None:
    opml = news_site / "feeds" / "sources.opml"
    sources = [s for s in read_opml(opml) if s.title != "Broken"]
    opml.write_bytes(render_opml(sources, "t"))
    result = CliRunner().invoke(main, ["fetch", "--site", str(news_site), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["failed"] == []


def test_sources_add_import_export(make_site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root: Path = make_site({})
    runner = CliRunner()
    added = runner.invoke(
        main,
        ["sources", "add", "https://a.example/feed", "--site", str(root), "--title", "A", "--weight", "2",
         "--keywords", "festival, jury", "--max-items", "4", "--category", "trade press"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    again = runner.invoke(main, ["sources", "add", "https://a.example/feed", "--site", str(root)])
    assert again.exit_code == 2 and "already listed" in again.output
    reader_export = tmp_path / "reader.opml"
    reader_export.write_text(
        '<?xml version="1.0"?><opml version="1.0"><head><title>My reader</title></head><body>'
        '<outline text="Film"><outline text="B" type="rss" xmlUrl="https://b.example/rss" htmlUrl="https://b.example/"/>'
        '<outline text="A again" xmlUrl="https://a.example/feed"/></outline></body></opml>',
        encoding="utf-8",
    )
    imported = runner.invoke(main, ["sources", "import", str(reader_export), "--site", str(root), "--json"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output) == {"added": ["https://b.example/rss"], "already_listed": 1}
    exported = runner.invoke(main, ["sources", "export", "--site", str(root)])
    assert exported.exit_code == 0
    listed = syndicate._sources.parse_opml(exported.output.encode())
    assert [(s.url, s.title, s.category, s.weight, s.max_items, s.keywords) for s in listed] == [
        ("https://a.example/feed", "A", "trade press", 2.0, 4, ("festival", "jury")),
        ("https://b.example/rss", "B", "Film", 1.0, None, ()),
    ]
    assert "Examples:" in runner.invoke(main, ["sources", "add", "--help"]).output


def test_demo_site_fetches_offline_and_builds_film_news(demo_site: Path) -> None:
    result = CliRunner().invoke(main, ["fetch", "--site", str(demo_site), "--json"])
    data = json.loads(result.output)
    # The demo's deliberately broken source fails; the other four arrive.
    assert result.exit_code == 4
    assert [f["title"] for f in data["failed"]] == ["Projection Booth"]
    assert "HTML page" in data["failed"][0]["error"]
    assert {s["title"] for s in data["sources"] if s["status"] == "fetched"} == {
        "Screen Trade Daily", "The Critics' Circle", "Festival Wire", "Cinephile Notes",
    }  # fmt: skip
    with syndicate.Site.open(demo_site) as site:
        site.build(now=DEMO_NOW)
    out = demo_site / "public" / "film-news"
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert parsed.bozo == 0
        titles = [e.title for e in parsed.entries]
        assert sum("Salt Road" in t and "Lumen" in t for t in titles) == 1
        assert not any("office party" in t for t in titles)
        sourced = [e for e in parsed.entries if "source" in e]
        assert len(sourced) >= 10
    text = (out / "rss.xml").read_text(encoding="utf-8")
    assert "utm_" not in text and "pixel." not in text and "feedburner" not in text and "onerror" not in text


@pytest.mark.client
@pytest.mark.skipif(shutil.which("newsboat") is None, reason="newsboat is not installed")
def test_newsboat_reads_the_merged_feed(news_site: Path, server: HTTPServer, tmp_path: Path) -> None:
    out = _fetch_and_build(news_site)
    server.expect_request("/film-news/atom.xml").respond_with_data(
        (out / "atom.xml").read_bytes(), content_type="application/atom+xml"
    )
    (tmp_path / "urls").write_text(server.url_for("/film-news/atom.xml") + "\n")
    home = tmp_path / "home"
    home.mkdir()
    subprocess.run(
        ["newsboat", "-x", "reload", "-u", str(tmp_path / "urls"), "-c", str(tmp_path / "cache.db")],
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        timeout=60,
    )
    with sqlite3.connect(tmp_path / "cache.db") as db:
        rows = db.execute("SELECT title, url FROM rss_item ORDER BY pubDate DESC").fetchall()
    assert [title for title, _ in rows] == [
        "Lumen Pictures Buys North American Rights to 'The Salt Road'",
        "Our Own Festival Story",
        "Notes on the Taiwanese new wave",
    ]
    assert rows[0][1] == "https://trade.example.com/news/salt-road"


def test_a_broken_opml_file_does_not_stop_the_build(make_site) -> None:  # type: ignore[no-untyped-def]
    root: Path = make_site({"festival-story.md": ARTICLE})
    (root / "feeds").mkdir()
    (root / "feeds" / "sources.opml").write_text("<opml><body><outline", encoding="utf-8")
    with syndicate.Site.open(root) as site:
        result = site.build(now=NOW + timedelta(days=1))
    assert any("sources.opml" in p.path and "not well-formed OPML" in p.message for p in result.problems)
    parsed = feedparser.parse((root / "public" / "around-the-web" / "rss.xml").read_bytes())
    assert [e.title for e in parsed.entries] == ["Our Own Festival Story"]
