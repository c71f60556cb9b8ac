"""Normalising and sanitising outside entries, and parsing them safely."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syndicate import Source, SourceError
from syndicate._sources.normalize import canonical_url, normalize_feed, plain_text, sanitize_summary
from syndicate._sources.parse import parse_feed

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NASTY = (
    '<p onclick="steal()" style="color:red">Read <a href="javascript:alert(1)">this</a> and '
    '<a href="/story?utm_source=x&amp;id=7#top" onmouseover="x()">that</a>.'
    '<script>alert("x")</script><style>p{display:none}</style>'
    '<img src="https://t.example.com/open.gif" width="1" height="1" alt="">'
    '<img src="https://feeds.feedburner.com/~r/x/~4/abc">'
    '<img src="/poster.jpg" onerror="alert(2)" alt="Poster">'
    '<iframe src="https://evil.example.com/"></iframe><a href="data:text/html,hi">data</a></p>'
)


def test_sanitize_removes_scripts_handlers_bad_urls_and_pixels() -> None:
    clean = sanitize_summary(NASTY, "https://news.example.com/feed/")
    for bad in ("<script", "alert", "onclick", "onerror", "onmouseover", "style", "javascript:", "data:", "iframe",
                "open.gif", "feedburner", "display:none"):  # fmt: skip
        assert bad not in clean, bad
    assert '<a href="https://news.example.com/story?id=7" rel="noopener nofollow">that</a>' in clean
    assert '<img src="https://news.example.com/poster.jpg" alt="Poster">' in clean


def test_full_text_in_a_summary_is_cut_to_a_snippet() -> None:
    long = "<p>" + "word " * 1000 + "</p>"
    clean = sanitize_summary(long, "")
    assert clean.startswith("<p>word") and clean.endswith("\u2026</p>")
    assert len(clean) < 400


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://Ex.COM:443/a/b?utm_source=rss&utm_medium=feed&id=3#frag", "", "https://ex.com/a/b?id=3"),
        ("/s/1?fbclid=abc&gclid=d&page=2", "https://ex.com/feed/", "https://ex.com/s/1?page=2"),
        ("s/1", "https://ex.com/feed/", "https://ex.com/feed/s/1"),
        ("http://ex.com:8080", "", "http://ex.com:8080/"),
        ("javascript:alert(1)", "https://ex.com/", None),
        ("/relative", "", None),
        ("mailto:a@b.c", "", None),
    ],
)
def test_canonical_url(url: str, base: str, expected: str | None) -> None:
    assert canonical_url(url, base) == expected


def test_plain_text_titles() -> None:
    assert plain_text("<em>The Salt Road</em> review &amp; more <script>x</script>") == "The Salt Road review & more"


def _feed(items: str, header: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{header}<rss version="2.0"><channel><title>T</title>'
        f"<link>https://news.example.com/</link>{items}</channel></rss>"
    ).encode()


def test_naive_dates_are_read_in_the_sources_timezone() -> None:
    body = (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b'<channel rdf:about="https://x.example/"><title>X</title><link>https://x.example/</link></channel>'
        b'<item rdf:about="https://x.example/1"><title>One</title><link>https://x.example/1</link>'
        b"<dc:date>2026-11-02T10:00:00</dc:date></item>"
        b'<item rdf:about="https://x.example/2"><title>Two</title><link>https://x.example/2</link>'
        b"<dc:date>2026-11-02T10:00:00Z</dc:date></item></rdf:RDF>"
    )
    parsed = parse_feed(body, {}, "https://x.example/rss")
    paris = normalize_feed(parsed, Source("https://x.example/rss", "X", timezone="Europe/Paris"), NOW)
    dates = {e.title: e.published for e, _ in paris.entries}
    assert dates["One"] == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # 10:00 in Paris
    assert dates["Two"] == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # had a zone: unchanged
    utc = normalize_feed(parsed, Source("https://x.example/rss", "X"), NOW)
    assert {e.title: e.published for e, _ in utc.entries}["One"] == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_identity_guid_then_link_then_content_hash() -> None:
    items = (
        "<item><title>A</title><link>https://n.example.com/a?utm_source=x</link><guid>g-1</guid></item>"
        "<item><title>B</title><link>https://n.example.com/b?utm_source=x</link></item>"
        "<item><title>C</title><description>only text</description></item>"
    )
    parsed = parse_feed(_feed(items), {}, "https://n.example.com/feed")
    result = normalize_feed(parsed, Source("https://n.example.com/feed", "N", html_url="https://n.example.com/"), NOW)
    ids = [e.id for e, _ in result.entries]
    assert ids[0] == "g-1"
    assert ids[1] == "https://n.example.com/b"
    assert ids[2].startswith("urn:syndicate:sha256:")
    # The link-less item points at the source's site, so it can still be credited and followed.
    assert result.entries[2][0].url == "https://news.example.com/"


def test_image_author_and_source_credit() -> None:
    items = (
        '<item xmlns:media="http://search.yahoo.com/mrss/"><title>A</title><link>/a</link>'
        "<author>x@y.z (Ann Lee)</author>"
        '<media:thumbnail url="/img/a.png"/></item>'
    )
    parsed = parse_feed(_feed(items), {"content-type": "application/rss+xml"}, "https://news.example.com/feed")
    [(entry, dated)] = normalize_feed(parsed, Source("https://news.example.com/feed", "News", weight=2), NOW).entries
    assert entry.url == "https://news.example.com/a"
    assert entry.image is not None and entry.image.url == "https://news.example.com/img/a.png"
    assert entry.image.mime_type == "image/png"
    assert "Ann Lee" in entry.author
    assert (entry.source_title, entry.source_url, entry.source_weight) == ("News", "https://news.example.com/feed", 2)
    assert not dated and entry.published == NOW


def test_html_page_is_an_error_not_an_empty_feed() -> None:
    with pytest.raises(SourceError, match="HTML page, not a feed"):
        parse_feed(b"<html><body><p>Hello</p></body></html>", {"content-type": "text/html"}, "https://x.example/")


def test_plain_text_is_not_a_feed() -> None:
    with pytest.raises(SourceError, match="not a feed"):
        parse_feed(b"just some words", {"content-type": "text/plain"}, "https://x.example/")


def test_empty_but_valid_feed_is_fine() -> None:
    assert parse_feed(_feed(""), {}, "https://x.example/").entries == ()
