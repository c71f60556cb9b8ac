"""Outside JSON Feeds (1.0 and 1.1) merge with RSS and Atom sources under the same guarantees."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from test_sources_feeds import ARTICLE, NASTY_RSS, SECOND_RSS

import syndicate
from syndicate import Source, SourceError, Store, load_config
from syndicate._sources import fetch_sources, merged_stream, render_opml
from syndicate._sources.jsonfeed import looks_like_json_feed, parse_json_feed
from syndicate._sources.parse import parse_feed

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
V1, V11 = "https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1"


def _feed(version: str, slug: str, items: list[Any], **extra: Any) -> dict[str, Any]:
    home = f"https://{slug}.example.net/"
    return {"version": version, "title": f"{slug.title()} Weekly", "home_page_url": home, "items": items, **extra}


# Twenty publishers' feeds as they are found in the wild: each a different habit.
JSON_FEEDS: dict[str, tuple[dict[str, Any], str]] = {
    "micro-blog": (
        _feed(V1, "micro", [{"id": "1", "url": "https://micro.example.net/1", "content_text": "A festival note."}]),
        "application/json",
    ),
    "numeric-ids": (
        _feed(
            V11,
            "numbers",
            [
                {
                    "id": 42,
                    "url": "https://numbers.example.net/42",
                    "title": "Numbered Story",
                    "content_html": "<p>x</p>",
                }
            ],
        ),
        "application/feed+json",
    ),
    "author-1-0": (
        _feed(
            V1,
            "critics",
            [
                {
                    "id": "c1",
                    "url": "https://critics.example.net/review",
                    "title": "A Review Of The Ninth Lamp",
                    "content_html": "<p>Good.</p>",
                    "author": {"name": "Ana Ortiz", "url": "https://critics.example.net/ana"},
                    "date_published": "2026-11-18T09:00:00Z",
                }
            ],
        ),
        "application/json",
    ),
    "authors-1-1": (
        _feed(
            V11,
            "duo",
            [
                {
                    "id": "d1",
                    "url": "https://duo.example.net/piece",
                    "title": "Two Critics On One Film",
                    "content_html": "<p>Both agree.</p>",
                    "authors": [{"name": "Kim Lee"}, {"name": "Sam Roe"}],
                    "date_published": "2026-11-18T10:00:00+02:00",
                }
            ],
        ),
        "application/feed+json",
    ),
    "feed-level-author": (
        _feed(
            V11,
            "solo",
            [{"id": "s1", "url": "https://solo.example.net/a", "title": "Solo Post", "content_text": "Words."}],
            authors=[{"name": "Pat Solo"}],
        ),
        "application/feed+json",
    ),
    "hostile-html": (
        _feed(
            V11,
            "hostile",
            [
                {
                    "id": "h1",
                    "url": "https://hostile.example.net/story?utm_source=json&fbclid=9",
                    "title": "Hostile Markup Story",
                    "content_html": '<p onclick="steal()">Hi<script>alert(1)</script>'
                    '<a href="javascript:alert(2)">x</a><img src="https://hostile.example.net/px.gif" '
                    'width="1" height="1"></p>',
                    "date_published": "2026-11-19T08:00:00Z",
                }
            ],
        ),
        "application/feed+json",
    ),
    "duplicate-of-rss": (
        # The same story the trade's RSS carries, under its tracked link: merged as one, credited once.
        _feed(
            V11,
            "echo",
            [
                {
                    "id": "echo-salt",
                    "url": "https://trade.example.com/news/salt-road?utm_medium=json",
                    "title": "Lumen Pictures Buys North American Rights to The Salt Road",
                    "content_text": "An echo of the trade story.",
                    "date_published": "2026-11-19T16:00:00Z",
                }
            ],
        ),
        "application/feed+json",
    ),
    "external-url-only": (
        _feed(
            V1,
            "linkblog",
            [
                {
                    "id": "l1",
                    "external_url": "https://elsewhere.example.org/interview",
                    "title": "Linked: An Interview",
                    "content_text": "Worth reading.",
                }
            ],
        ),
        "application/json",
    ),
    "summary-only": (
        _feed(
            V11,
            "briefs",
            [{"id": "b1", "url": "https://briefs.example.net/1", "title": "Brief", "summary": "In short."}],
        ),
        "application/feed+json",
    ),
    "relative-links": (
        _feed(
            V11,
            "relative",
            [
                {
                    "id": "r1",
                    "url": "/posts/relative-story",
                    "title": "A Story With A Relative Link",
                    "content_html": '<p><a href="/more">more</a></p>',
                }
            ],
        ),
        "application/feed+json",
    ),
    "image-and-attachments": (
        _feed(
            V11,
            "stills",
            [
                {
                    "id": "i1",
                    "url": "https://stills.example.net/gallery",
                    "title": "Stills From The Restoration",
                    "content_html": "<p>Look.</p>",
                    "image": "https://stills.example.net/still.jpg",
                    "attachments": [{"url": "https://stills.example.net/a.png", "mime_type": "image/png"}],
                }
            ],
        ),
        "application/feed+json",
    ),
    "naive-dates": (
        _feed(
            V1,
            "naive",
            [
                {
                    "id": "n1",
                    "url": "https://naive.example.net/n1",
                    "title": "A Story Dated Without A Zone",
                    "content_text": "When?",
                    "date_published": "2026-11-17T14:00:00",
                }
            ],
        ),
        "application/json",
    ),
    "modified-only": (
        _feed(
            V11,
            "modified",
            [
                {
                    "id": "m1",
                    "url": "https://modified.example.net/m1",
                    "title": "Only A Modified Date",
                    "content_text": "Edited.",
                    "date_modified": "2026-11-16T09:30:00-05:00",
                }
            ],
        ),
        "application/feed+json",
    ),
    "bad-dates": (
        _feed(
            V11,
            "baddates",
            [
                {
                    "id": "x1",
                    "url": "https://baddates.example.net/1",
                    "title": "Year Nine Thousand",
                    "content_text": "?",
                    "date_published": "9999-12-31T23:59:59-14:00",
                },
                {
                    "id": "x2",
                    "url": "https://baddates.example.net/2",
                    "title": "Not A Date",
                    "content_text": "?",
                    "date_published": "yesterday-ish",
                },
            ],
        ),
        "application/feed+json",
    ),
    "wrong-types": (
        _feed(
            V11,
            "types",
            [
                "not an object",
                {"id": {"nested": True}, "url": 7, "title": ["a"], "content_html": "<p>Kept for its text.</p>"},
                {
                    "id": "t3",
                    "title": "A Good Item Among Bad Ones",
                    "url": "https://types.example.net/3",
                    "content_text": "fine",
                    "tags": "not-a-list",
                    "authors": "nobody",
                },
                {},
            ],
        ),
        "application/feed+json",
    ),
    "bom-prefixed": (
        _feed(
            V11,
            "bom",
            [
                {
                    "id": "bom1",
                    "url": "https://bom.example.net/1",
                    "title": "Behind A BOM",
                    "content_text": "Byte order mark first.",
                }
            ],
        ),
        "application/feed+json; charset=utf-8",
    ),
    "served-as-text": (
        # Served with a generic type: recognised by its version field.
        _feed(
            V11,
            "plain",
            [
                {
                    "id": "p1",
                    "url": "https://plain.example.net/1",
                    "title": "Served As Text Plain",
                    "content_text": "Still a JSON Feed.",
                }
            ],
        ),
        "text/plain",
    ),
    "extensions": (
        _feed(
            V11,
            "ext",
            [
                {
                    "id": "e1",
                    "url": "https://ext.example.net/1",
                    "title": "With Extensions",
                    "content_text": "x",
                    "_blue_shed": {
                        "about": "https://blueshed-podcasts.com/json-feed-extension-docs",
                        "explicit": False,
                    },
                }
            ],
            _custom={"about": "https://ext.example.net/about"},
            language="en-GB",
            icon="https://ext.example.net/icon.png",
        ),
        "application/feed+json",
    ),
    "control-characters": (
        _feed(
            V11,
            "ctrl",
            [
                {
                    "id": "ctl1",
                    "url": "https://ctrl.example.net/1",
                    "title": "Control \u0001Characters\u001b In A Title",
                    "content_text": "Tab\there\u000b.",
                }
            ],
        ),
        "application/feed+json",
    ),
    "empty-items": (_feed(V11, "quiet", []), "application/feed+json"),
}


def _body(name: str) -> bytes:
    document, _ = JSON_FEEDS[name]
    data = json.dumps(document).encode()
    return b"\xef\xbb\xbf" + data if name == "bom-prefixed" else data


def test_there_are_twenty_json_feeds() -> None:
    assert len(JSON_FEEDS) == 20


@pytest.mark.parametrize("name", sorted(JSON_FEEDS))
def test_every_json_feed_is_recognised_and_parsed(name: str) -> None:
    _, content_type = JSON_FEEDS[name]
    body = _body(name)
    assert looks_like_json_feed(body, content_type)
    parsed = parse_feed(body, {"Content-Type": content_type}, f"https://feeds.example.net/{name}")
    assert parsed.version.startswith("json1")
    document = JSON_FEEDS[name][0]
    usable = [i for i in document["items"] if isinstance(i, dict) and i]
    assert len(parsed.entries) == len(usable)


def test_authors_ids_and_dates_are_read() -> None:
    duo = parse_json_feed(_body("authors-1-1"), "u").entries[0]
    assert duo.author == "Kim Lee, Sam Roe"
    assert duo.date_utc is not None and duo.date_utc[:5] == (2026, 11, 18, 8, 0)
    assert parse_json_feed(_body("numeric-ids"), "u").entries[0].guid == "42"
    assert parse_json_feed(_body("feed-level-author"), "u").entries[0].author == "Pat Solo"
    assert parse_json_feed(_body("author-1-0"), "u").entries[0].author == "Ana Ortiz"
    bad = parse_json_feed(_body("bad-dates"), "u").entries
    assert [e.date_utc for e in bad][1] is None


@pytest.fixture
def mixed_site(server: HTTPServer, make_site) -> Path:  # type: ignore[no-untyped-def]
    server.clear()
    server.expect_request("/trade").respond_with_data(NASTY_RSS, content_type="application/rss+xml")
    server.expect_request("/blog").respond_with_data(SECOND_RSS, content_type="application/rss+xml")
    sources = [
        Source(server.url_for("/trade"), "Trade", "https://trade.example.com/", weight=2),
        Source(server.url_for("/blog"), "Blog", "https://blog.example.com/"),
    ]
    for name in sorted(JSON_FEEDS):
        server.expect_request(f"/json/{name}").respond_with_data(_body(name), content_type=JSON_FEEDS[name][1])
        sources.append(Source(server.url_for(f"/json/{name}"), name.replace("-", " ").title()))
    root: Path = make_site({"festival-story.md": ARTICLE})
    (root / "feeds").mkdir()
    (root / "feeds" / "sources.opml").write_bytes(render_opml(sources, "t"))
    return root


def test_json_feeds_merge_with_rss_and_atom_into_one_clean_stream(mixed_site: Path) -> None:
    config = load_config(mixed_site)
    with Store(config.database_path) as store:
        report = fetch_sources(config, store, now=NOW)
        assert report.failed == [], [(r.source.url, r.outcome) for r in report.failed]
        stream = merged_stream(config, store, NOW - timedelta(days=30), NOW + timedelta(days=1))
    with syndicate.Site.open(mixed_site) as site:
        site.build(now=NOW + timedelta(hours=1))
    titles = [e.title for e in stream]
    assert "Two Critics On One Film" in titles and "Served As Text Plain" in titles
    assert "Control Characters In A Title" in titles
    # One story carried by the trade's RSS and a JSON Feed: kept once, the other copy credited.
    salt = [e for e in stream if "Salt Road" in e.title]
    assert len(salt) == 1 and salt[0].source_title == "Trade"
    relative = next(e for e in stream if e.title == "A Story With A Relative Link")
    assert relative.url == "https://relative.example.net/posts/relative-story"
    out = mixed_site / "public" / "around-the-web"
    rss, atom, feed = (out / "rss.xml").read_bytes(), (out / "atom.xml").read_bytes(), (out / "feed.json").read_text()
    for document in (rss.decode(), atom.decode(), feed):
        for bad in ("<script", "onclick", "javascript:", "px.gif", "utm_", "fbclid", "\u0001", "\\u0001"):
            assert bad not in document, bad
    for data in (rss, atom):
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert {"Two Critics On One Film", "Stills From The Restoration"} <= {e.title for e in parsed.entries}


def test_not_a_json_feed_is_a_source_error() -> None:
    for body in (b"{}", b'{"version": "https://jsonfeed.org/version/1.1"}', b"[1, 2]", b'{"version": 1, "items": []}'):
        with pytest.raises(SourceError):
            parse_json_feed(body, "https://x.example/feed.json")
    with pytest.raises(SourceError, match="invalid JSON"):
        parse_json_feed(b'{"version": "https://jsonfeed.org/version/1", "items": [', "u")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
_item_keys = st.sampled_from(
    [
        "id",
        "url",
        "external_url",
        "title",
        "content_html",
        "content_text",
        "summary",
        "image",
        "banner_image",
        "date_published",
        "date_modified",
        "author",
        "authors",
        "tags",
        "attachments",
    ]
)
_items = st.dictionaries(_item_keys, _json_values | st.text(max_size=60), max_size=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_items | _json_values, max_size=6), extra=st.dictionaries(st.text(max_size=10), _json_values))
def test_any_json_feed_shaped_document_gives_entries_or_a_source_error(items: list[Any], extra: dict[str, Any]) -> None:
    document = {**extra, "version": V11, "items": items}
    try:
        parsed = parse_json_feed(json.dumps(document).encode(), "https://x.example/feed.json")
    except SourceError:
        return
    for entry in parsed.entries:
        assert isinstance(entry.title, str) and isinstance(entry.guid, str)
        if entry.date_utc is not None:
            assert 1 <= entry.date_utc[0] <= 9999


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_a_feed_or_a_source_error(body: bytes) -> None:
    with contextlib.suppress(SourceError):
        parse_json_feed(b'{"version": "https://jsonfeed.org/version/1.1", ' + body, "u")
