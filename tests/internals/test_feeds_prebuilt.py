"""Feeds spliced from pieces made ahead (see syndicate._feeds.prebuilt) are the bytes of feeds built whole."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate import Article, Author, Tag
from syndicate._feeds import prebuild_entries
from syndicate._feeds.jsonfeed import json_feed
from syndicate._feeds.prebuilt import bodies_not_needed
from syndicate._feeds.spec import FeedItems, FeedMeta
from syndicate._feeds.xmlfeeds import rss_and_atom
from syndicate._model import Image

# Hostile text: markup, quotes, ampersands, XML-forbidden controls, lone surrogates, the gap marker itself.
_piece = st.one_of(
    st.characters(),
    st.sampled_from(["<", ">", "&", '"', "'", "\x00", "\x0b", "\ud800", "\n", "\r", "\t", "]]>", "</link>"]),
    st.just("urn:syndicate:related-links-go-here"),
)
_text = st.lists(_piece, max_size=12).map("".join)
_url = st.builds(lambda tail: "https://x.example/" + tail, _text)


@st.composite
def _articles(draw: st.DrawFn) -> tuple[Article, ...]:
    count = draw(st.integers(1, 4))
    made = []
    for number in range(count):
        author = Author(
            "A" + draw(_text), f"author-{number}", url=draw(st.none() | _url), avatar=draw(st.none() | _url)
        )
        image = draw(st.none() | st.builds(Image, _url, alt=_text, width=st.none() | st.integers(1, 3000)))
        made.append(
            Article(
                id=f"urn:x:{number}" + draw(_text),
                slug=f"story-{number}",
                title="T" + draw(_text),  # feedgen requires a title, as the loader does
                url=draw(_url),
                published=datetime(2026, 10, 1, tzinfo=UTC) + timedelta(hours=draw(st.integers(0, 5))),
                source_path=f"content/story-{number}.md",
                content_html="<p>" + draw(_text) + "</p>",
                summary=draw(_text),
                updated=draw(st.none() | st.just(datetime(2026, 10, 9, tzinfo=UTC))),
                author=author,
                tags=tuple(Tag(draw(_text), f"tag-{n}") for n in range(draw(st.integers(0, 3)))),
                image=image,
                content_hash=f"hash-{number}",
            )
        )
    return tuple(made)


@settings(max_examples=150, deadline=None)
@given(
    _articles(),
    st.lists(st.lists(_url, max_size=3), min_size=4, max_size=4),
    st.booleans(),
    st.sampled_from([None, "feed.xsl"]),
    st.lists(_url, max_size=2),
)
def test_spliced_feeds_are_the_feeds_built_whole(
    articles: tuple[Article, ...],
    links: list[list[str]],
    full_content: bool,
    stylesheet: str | None,
    hubs: list[str],
) -> None:
    meta = FeedMeta(
        "tags/x/", "Site <&>", "d", "https://x.example/", "https://x.example", "en", 60, stylesheet, None, full_content
    )
    meta = replace(meta, hubs=tuple(hubs))
    related = {a.slug: tuple(chosen) for a, chosen in zip(articles, links, strict=False) if chosen}
    whole = FeedItems(articles=articles, related_links=related)
    # Made for the site's own feed (another folder, title, no hubs), as the build makes them.
    site_meta = FeedMeta(
        "", "Site", "d", "https://x.example/", "https://x.example", "en", 60, full_content=full_content
    )
    prebuilt = prebuild_entries(articles, site_meta)
    assert prebuilt.keys() == {a.slug for a in articles}
    spliced = FeedItems(articles=articles, related_links=related, prebuilt=prebuilt)
    assert rss_and_atom(meta, spliced) == rss_and_atom(meta, whole)
    assert json_feed(meta, spliced) == json_feed(meta, whole)
    # The articles these pieces serve stay stubs in the build: nothing but the pieces may be read of them.
    by_key = {(a.source_path, a.content_hash): made for a in articles if (made := prebuilt.get(a.slug))}
    assert bodies_not_needed([(meta, articles)], by_key) == by_key.keys()
    stubs = tuple(replace(a, content_html="", text="", summary="", image=None) for a in articles)
    from_stubs = FeedItems(articles=stubs, related_links=related, prebuilt=prebuilt)
    assert rss_and_atom(meta, from_stubs) == rss_and_atom(meta, whole)
    assert json_feed(meta, from_stubs) == json_feed(meta, whole)


def test_pieces_made_for_other_feeds_are_not_used() -> None:
    article = Article("urn:x:1", "one", "One", "https://x.example/one/", datetime(2026, 10, 1, tzinfo=UTC), "one.md")
    meta = FeedMeta("", "Site", "d", "https://x.example/", "https://x.example", "en", 60)
    other_site = FeedMeta("", "Site", "d", "https://y.example/", "https://y.example", "en", 60)
    summaries_only = FeedMeta("", "Site", "d", "https://x.example/", "https://x.example", "en", 60, full_content=False)
    whole = FeedItems(articles=(article,))
    for made_for in (other_site, summaries_only):
        spliced = FeedItems(articles=(article,), prebuilt=prebuild_entries([article], made_for))
        assert rss_and_atom(meta, spliced) == rss_and_atom(meta, whole)
        assert json_feed(meta, spliced) == json_feed(meta, whole)
    # An id the identity ledger changed after the pieces were made: not used either.
    renamed = FeedItems(articles=(article,), prebuilt=prebuild_entries([replace(article, id="urn:x:0")], meta))
    assert rss_and_atom(meta, renamed) == rss_and_atom(meta, whole)


def test_an_article_stays_a_stub_only_where_every_feed_holding_it_takes_its_pieces() -> None:
    one, two = (
        Article(f"urn:x:{n}", f"s{n}", "T", f"https://x.example/s{n}/", datetime(2026, 10, 1, tzinfo=UTC), f"s{n}.md")
        for n in (1, 2)
    )
    meta = FeedMeta("", "Site", "d", "https://x.example/", "https://x.example", "en", 60)
    tag = replace(meta, folder="tags/x/", title="Tag x")
    made = prebuild_entries([one, two], meta)
    pieces = {(a.source_path, a.content_hash): made[a.slug] for a in (one, two)}
    assert bodies_not_needed([(meta, (one, two)), (tag, (two,))], pieces) == pieces.keys()
    # A feed of another site, one with summaries only, an id changed since, or no pieces at all: needed whole.
    other_site = replace(tag, base_url="https://y.example/")
    summaries = replace(tag, full_content=False)
    for feeds in ([(other_site, (two,))], [(summaries, (two,))], [(meta, (replace(two, id="urn:x:0"),))]):
        assert bodies_not_needed([(meta, (one, two)), *feeds], pieces) == {(one.source_path, one.content_hash)}
    assert bodies_not_needed([(meta, (one, two))], {}) == set()
