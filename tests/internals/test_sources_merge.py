"""Merging: de-duplication across sources, keyword filters, caps, and the OPML list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syndicate import OutsideEntry, Source, SourceError
from syndicate._sources import parse_opml, render_opml
from syndicate._sources.merge import MergeSettings, merge_stream
from syndicate._store import StoredEntry

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TRADE = Source("https://trade.example.com/feed", "Trade", html_url="https://trade.example.com/", weight=2.0)
BLOG = Source("https://blog.example.com/feed", "Blog", html_url="https://blog.example.com/")


def entry(source: Source, id: str, title: str, url: str, hours_ago: float = 0, summary: str = "") -> StoredEntry:
    moment = NOW - timedelta(hours=hours_ago)
    return StoredEntry(
        source.url,
        OutsideEntry(
            id=id,
            title=title,
            url=url,
            source_title=source.title,
            source_url=source.url,
            published=moment,
            first_seen=moment,
            summary_html=summary,
        ),
    )


def test_same_story_from_two_sources_appears_once_from_the_heavier_source() -> None:
    stored = [
        # The blog posted first, under a slightly different title, with its own GUID and link.
        entry(
            BLOG,
            "blog-9",
            "Lumen Pictures buys North American rights to The Salt Road",
            "https://blog.example.com/salt",
            30,
        ),
        entry(
            TRADE,
            "t-1",
            "Lumen Pictures Buys North American Rights to 'The Salt Road'",
            "https://trade.example.com/salt",
            2,
        ),
        entry(TRADE, "t-2", "Exhibitors report strongest October since 2019", "https://trade.example.com/oct", 5),
    ]
    merged = merge_stream(stored, [TRADE, BLOG], MergeSettings())
    assert [e.id for e in merged] == ["t-1", "t-2"]
    assert merged[0].also_at == ("https://blog.example.com/salt",)
    assert merged[0].also_at_sources == ("Blog",)


def test_same_link_with_different_tracking_is_one_story() -> None:
    # Normalising already stripped utm_*; merging folds equal canonical URLs, even with unrelated titles.
    stored = [
        entry(TRADE, "t-1", "Deal done", "https://trade.example.com/deal", 1),
        entry(BLOG, "b-1", "Link: a big deal", "https://trade.example.com/deal", 3),
    ]
    merged = merge_stream(stored, [TRADE, BLOG], MergeSettings())
    assert [e.id for e in merged] == ["t-1"]
    assert merged[0].also_at == ("https://blog.example.com/",)


def test_repost_with_new_guid_in_the_same_feed_is_folded() -> None:
    stored = [
        entry(BLOG, "b-1", "Festival lineup announced today", "https://blog.example.com/lineup", 10),
        entry(BLOG, "b-1-repost", "Festival lineup announced today", "https://blog.example.com/lineup", 1),
    ]
    assert [e.id for e in merge_stream(stored, [BLOG], MergeSettings())] == ["b-1"]


def test_similar_titles_far_apart_in_time_or_too_short_are_different_stories() -> None:
    stored = [
        entry(TRADE, "t-1", "Box office weekend report for the holidays", "https://trade.example.com/a", 1),
        entry(BLOG, "b-1", "Box office weekend report for the holidays", "https://blog.example.com/a", 24 * 8),
        entry(TRADE, "t-2", "Trailer", "https://trade.example.com/trailer", 2),
        entry(BLOG, "b-2", "Trailer", "https://blog.example.com/trailer", 2),
    ]
    assert len(merge_stream(stored, [TRADE, BLOG], MergeSettings())) == 4


def test_keyword_filters_per_source_and_global() -> None:
    picky = Source("https://blog.example.com/feed", "Blog", keywords=("festival",))
    stored = [
        entry(picky, "1", "Festival jury named", "https://blog.example.com/1"),
        entry(picky, "2", "Our office party", "https://blog.example.com/2"),
        entry(TRADE, "3", "Cinema chain results", "https://trade.example.com/3", summary="<p>About film.</p>"),
        entry(TRADE, "4", "Stock market today", "https://trade.example.com/4"),
    ]
    merged = merge_stream(stored, [TRADE, picky], MergeSettings(keywords=("film", "cinema", "festival")))
    assert sorted(e.id for e in merged) == ["1", "3"]


def test_cap_per_source_keeps_the_newest() -> None:
    capped = Source("https://blog.example.com/feed", "Blog", max_items=2)
    stored = [
        entry(capped, str(n), f"Distinct story number {n} here", f"https://blog.example.com/{n}", n) for n in range(5)
    ]
    stored += [
        entry(TRADE, f"t{n}", f"Trade item {n} goes here", f"https://trade.example.com/{n}", n) for n in range(5)
    ]
    merged = merge_stream(stored, [TRADE, capped], MergeSettings(max_per_source=3))
    assert [e.id for e in merged if e.source_url == capped.url] == ["0", "1"]
    assert [e.id for e in merged if e.source_url == TRADE.url] == ["t0", "t1", "t2"]
    assert [e.published for e in merged] == sorted((e.published for e in merged), reverse=True)


def test_entries_of_unlisted_sources_are_left_out() -> None:
    stored = [entry(BLOG, "1", "Anything", "https://blog.example.com/1")]
    assert merge_stream(stored, [TRADE], MergeSettings()) == []


def test_opml_round_trip_keeps_settings() -> None:
    sources = [
        Source(
            "https://a.example/feed",
            "A & Co",
            "https://a.example/",
            "trade press",
            5,
            ("festival", "jury"),
            2.5,
            "Europe/Paris",
        ),
        Source("feeds/local.xml", "Local"),
    ]
    assert parse_opml(render_opml(sources, "t")) == sources


def test_opml_folders_give_a_category_and_bad_values_name_the_outline() -> None:
    data = b"""<?xml version="1.0"?><opml version="2.0"><head/><body>
      <outline text="Festivals"><outline text="F" xmlUrl="https://f.example/rss"/></outline></body></opml>"""
    assert parse_opml(data)[0].category == "Festivals"
    bad = data.replace(b'text="F"', b'text="F" weight="heavy"')
    with pytest.raises(SourceError, match=r"https://f.example/rss.*weight='heavy' is not a number"):
        parse_opml(bad, "feeds/sources.opml")
    with pytest.raises(SourceError, match="not well-formed OPML"):
        parse_opml(b"<opml><body>", "x.opml")


def test_opml_with_entities_does_not_read_files() -> None:
    data = b"""<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
      <opml version="2.0"><head/><body><outline text="&x;" xmlUrl="https://f.example/rss"/></body></opml>"""
    try:
        sources = parse_opml(data)
    except SourceError:
        return
    assert "root:" not in sources[0].title


def test_titles_that_differ_in_their_numbers_are_different_stories() -> None:
    stored = [
        entry(TRADE, "t-1", "Box office: week 3 of The Clockmaker's Fox", "https://trade.example.com/w3", 1),
        entry(BLOG, "b-1", "Box office: week 4 of The Clockmaker's Fox", "https://blog.example.com/w4", 2),
    ]
    assert len(merge_stream(stored, [TRADE, BLOG], MergeSettings())) == 2
