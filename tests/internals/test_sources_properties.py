"""Property-based tests of every reader of outside data (issue 10): parse, normalise, OPML, written feeds.

Arbitrary bytes and text, including characters XML cannot carry (controls,
lone surrogates, U+FFFE), markup, entity references and absurd lengths, give
either a result or the module's own clear error, never another exception; and
every feed written from what normalising lets through reads back in
feedparser without a complaint (bozo 0).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import quoteattr

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import syndicate
from syndicate import OutsideEntry, Source, SourceError, render_feed_set
from syndicate._feeds.merged import merged_feed_set
from syndicate._sources import parse_opml, render_opml
from syndicate._sources.normalize import normalize_feed
from syndicate._sources.parse import ParsedFeed, RawEntry, parse_feed
from syndicate._store import StoredEntry
from syndicate._textguard import has_forbidden

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SOURCE = Source("https://wire.example.com/feed", "Wire", "https://wire.example.com/")
EXAMPLES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Everything Unicode has, surrogates and controls included, plus the hostile pieces worth trying often.
_ANY_CHARACTER = st.characters(codec=None, categories=None)
_PIECES = st.sampled_from(
    [
        "&#1;", "&#27;", "&#xD800;", "&#xFFFE;", "&#0;", "&#x110000;", "&amp;", "&lt;b&gt;", "\x01", "\x1b", "\x0c",
        "\ud800", "\udfff", "\ufffe", "\uffff", "\x00", "<script>alert(1)</script>", "<b>", "</p>", "<![CDATA[",
        "]]>", "javascript:alert(1)", "https://", "http://[::1", "%%SYN_EMAIL%%", "\u202e", " ", "\n", "é", "😀",
    ]
)  # fmt: skip
HOSTILE_TEXT = st.lists(st.one_of(_PIECES, st.text(_ANY_CHARACTER, max_size=12)), max_size=8).map("".join)
LONG_TEXT = st.builds(lambda piece, times: piece * times, HOSTILE_TEXT, st.sampled_from([1, 50, 1_200]))
URLISH = st.one_of(
    HOSTILE_TEXT,
    st.builds(lambda path: f"https://wire.example.com/{path}", HOSTILE_TEXT),
    st.builds(lambda n: "https://wire.example.com/" + "a" * n, st.sampled_from([10, 2_100])),
    st.sampled_from(["", "/relative", "javascript:alert(1)", "data:text/html,x", "http://[::1", "https://ok.example/"]),
)
DATE_PARTS = st.one_of(
    st.none(),
    st.lists(st.integers(-(10**12), 10**12), max_size=9).map(tuple),
    st.tuples(
        st.integers(1, 9999), st.integers(1, 12), st.integers(1, 31), st.integers(0, 23), st.integers(0, 59),
        st.integers(0, 61), st.integers(0, 6), st.integers(1, 366), st.integers(-1, 1),
    ),
)  # fmt: skip


def raw_entries() -> st.SearchStrategy[RawEntry]:
    return st.builds(
        RawEntry,
        guid=st.one_of(HOSTILE_TEXT, URLISH, LONG_TEXT),
        title=st.one_of(HOSTILE_TEXT, LONG_TEXT),
        title_is_html=st.booleans(),
        link=URLISH,
        base=URLISH,
        summary=st.one_of(HOSTILE_TEXT, LONG_TEXT),
        content=HOSTILE_TEXT,
        date_text=HOSTILE_TEXT,
        date_utc=DATE_PARTS,
        author=st.one_of(HOSTILE_TEXT, LONG_TEXT),
        images=st.lists(URLISH, max_size=2).map(tuple),
    )


def parsed_feeds() -> st.SearchStrategy[ParsedFeed]:
    return st.builds(
        ParsedFeed,
        url=URLISH,
        version=st.sampled_from(["rss20", "atom10", ""]),
        title=HOSTILE_TEXT,
        link=URLISH,
        self_url=URLISH,
        entries=st.lists(raw_entries(), max_size=4).map(tuple),
    )


# -- the parser ---------------------------------------------------------------------


def _rss(title: str, summary: str, author: str, link: str) -> bytes:
    """An RSS document with the given texts placed raw (not escaped): the feed may be malformed."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://wire.example.com/</link><item><title>{title}</title><link>{link}</link>"
        f"<author>{author}</author><description>{summary}</description><guid>g-1</guid></item></channel></rss>"
    ).encode("utf-8", "surrogatepass")


@EXAMPLES
@given(st.binary(max_size=2_000))
def test_parser_on_arbitrary_bytes_gives_a_feed_or_a_source_error(body: bytes) -> None:
    try:
        feed = parse_feed(body, {}, "https://wire.example.com/feed")
    except SourceError as exc:
        assert "https://wire.example.com/feed" in str(exc)
        return
    assert isinstance(feed, ParsedFeed)


@EXAMPLES
@given(HOSTILE_TEXT, st.one_of(HOSTILE_TEXT, LONG_TEXT), st.one_of(HOSTILE_TEXT, LONG_TEXT), URLISH)
def test_parser_on_feeds_with_hostile_fields_gives_entries_or_a_source_error(
    title: str, summary: str, author: str, link: str
) -> None:
    try:
        feed = parse_feed(_rss(title, summary, author, link), {}, "https://wire.example.com/feed")
    except SourceError:
        return
    # Whatever feedparser made of it, normalising gives clean entries or reports a skip.
    normal = normalize_feed(feed, SOURCE, NOW)
    _assert_clean(normal.entries)


# -- the normaliser ----------------------------------------------------------------


def _assert_clean(entries: tuple[tuple[OutsideEntry, bool], ...]) -> None:
    for entry, _dated in entries:
        for text in (entry.id, entry.title, entry.url, entry.summary_html, entry.author, entry.source_title):
            assert not has_forbidden(text), repr(text)
        assert entry.title and len(entry.title) <= 1_000
        assert len(entry.author) <= 200
        assert entry.url.startswith(("http://", "https://")) and len(entry.url) <= 2_048
        assert len(entry.id) <= 2_048
        assert len(entry.summary_html) <= 100_000
        assert entry.published.tzinfo is not None and entry.published <= NOW
        if entry.image is not None:
            assert not has_forbidden(entry.image.url) and len(entry.image.url) <= 2_048


@EXAMPLES
@given(parsed_feeds(), st.sampled_from(["UTC", "Europe/Paris", "Pacific/Kiritimati"]), st.integers(1, 6))
def test_normaliser_on_arbitrary_fields_gives_valid_entries_or_reported_skips(
    feed: ParsedFeed, zone: str, cap: int
) -> None:
    source = Source(SOURCE.url, SOURCE.title, SOURCE.html_url, timezone=zone)
    normal = normalize_feed(feed, source, NOW, max_entries=cap)
    _assert_clean(normal.entries)
    assert len(normal.entries) <= min(cap, len(feed.entries))
    if len(normal.entries) < min(cap, len(feed.entries)):
        assert any("skipped" in p or "GUID" in p for p in normal.problems), normal.problems
    for problem in normal.problems:
        assert not has_forbidden(problem)


# -- the OPML reader ----------------------------------------------------------------


@EXAMPLES
@given(st.binary(max_size=1_000))
def test_opml_reader_on_arbitrary_bytes_gives_sources_or_a_clear_error(data: bytes) -> None:
    try:
        sources = parse_opml(data, "feeds/sources.opml")
    except SourceError as exc:
        assert "feeds/sources.opml" in str(exc)
        return
    assert all(isinstance(source, Source) and source.url for source in sources)


def _opml(attributes: dict[str, str]) -> bytes:
    outline = " ".join(f"{name}={quoteattr(value)}" for name, value in attributes.items())
    document = (
        f'<?xml version="1.0" encoding="utf-8"?><opml version="2.0"><head/><body><outline {outline}/></body></opml>'
    )
    return document.encode("utf-8", "surrogatepass")


@EXAMPLES
@given(
    st.fixed_dictionaries(
        {"xmlUrl": st.one_of(URLISH, LONG_TEXT)},
        optional={
            "title": st.one_of(HOSTILE_TEXT, LONG_TEXT),
            "htmlUrl": URLISH,
            "category": HOSTILE_TEXT,
            "maxItems": st.one_of(HOSTILE_TEXT, st.integers(-5, 10**30).map(str)),
            "weight": st.one_of(HOSTILE_TEXT, st.sampled_from(["nan", "inf", "-1", "1e400", "0.5", "1" * 5000])),
            "keywords": st.one_of(HOSTILE_TEXT, LONG_TEXT),
            "timezone": st.one_of(HOSTILE_TEXT, st.sampled_from(["Europe/Paris", "../../etc/passwd", "UTC"])),
        },
    )
)
def test_opml_reader_on_hostile_attributes_gives_sources_or_an_error_naming_the_outline(
    attributes: dict[str, str],
) -> None:
    try:
        sources = parse_opml(_opml(attributes), "feeds/sources.opml")
    except SourceError as exc:
        assert "feeds/sources.opml" in str(exc)
        return
    for source in sources:
        for text in (source.url, source.title, source.html_url, source.category, *source.keywords):
            assert not has_forbidden(text)
        assert len(source.title) <= 1_000 and len(source.category) <= 200
        assert source.max_items is None or source.max_items > 0
        assert len(source.keywords) <= 100
    # What we read, we can write and read back the same.
    assert parse_opml(render_opml(sources, "t"), "round trip") == sources


# -- written feeds ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[syndicate.Site]:
    root: Path = tmp_path_factory.mktemp("properties") / "site"
    (root / "content").mkdir(parents=True)
    (root / "feeds").mkdir()
    (root / "syndicate.toml").write_text(
        textwrap.dedent(
            """\
            [site]
            title = "Test Reel"
            url = "https://test.example.org"
            timezone = "Europe/London"
            """
        ),
        encoding="utf-8",
    )
    (root / "feeds" / "sources.opml").write_bytes(render_opml([SOURCE], "t"))
    with syndicate.Site.open(root) as opened:
        yield opened


@EXAMPLES
@given(st.lists(raw_entries(), min_size=1, max_size=3))
def test_every_feed_written_from_normalised_entries_reads_back_cleanly(
    site: syndicate.Site, raws: list[RawEntry]
) -> None:
    feed = ParsedFeed(
        url=SOURCE.url, version="rss20", title="Wire", link="https://wire.example.com/", entries=tuple(raws)
    )
    normal = normalize_feed(feed, SOURCE, NOW - timedelta(hours=1))
    store = site.store
    store.outside_entries.prune(NOW + timedelta(days=365 * 100))  # start from an empty stream
    store.outside_entries.add_many(StoredEntry(SOURCE.url, entry, dated) for entry, dated in normal.entries)
    feed_set = merged_feed_set(site.config, site.collection, store, NOW)
    documents = render_feed_set(feed_set)
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse(documents[name])
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
        assert len(parsed.entries) == len(feed_set.items.outside)
    items = json.loads(documents["feed.json"])["items"]
    assert len(items) == len(feed_set.items.outside)
