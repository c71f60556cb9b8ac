"""An article's RSS item and Atom entry made directly (syndicate._feeds.entry_elements) are feedgen's, byte for byte."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate import Article, Author, Tag
from syndicate._feeds.entry_elements import article_elements
from syndicate._feeds.scrub import xml_safe_copy
from syndicate._feeds.spec import FeedItems, FeedMeta
from syndicate._feeds.xmlfeeds import clean_feedgen_entries, document_roots, fragments
from syndicate._model import Image

# Markup, quotes, ampersands, non-ASCII, and empty strings where a field may be empty.
_text = st.lists(
    st.one_of(st.characters(exclude_categories=("Cs", "Cc")), st.sampled_from(["<", "&", '"', "]]>", " ", "é"])),
    max_size=8,
).map("".join)
_url = st.builds(lambda tail: "https://x.example/" + tail, _text)
_moment = st.builds(
    lambda hours, offset: datetime(2026, 10, 1, tzinfo=timezone(timedelta(minutes=offset))) + timedelta(hours=hours),
    st.integers(0, 5000),
    st.sampled_from([0, 60, -300, 330, 345]),
)


@st.composite
def _author(draw: st.DrawFn, number: int) -> Author:
    return Author(
        draw(_text),
        f"author-{number}",
        email=draw(st.none() | st.just("") | st.just(f"a{number}@x.example")),
        url=draw(st.none() | st.just("") | _url),
        show_email=draw(st.booleans()),
    )


@st.composite
def _article(draw: st.DrawFn) -> Article:
    image = draw(
        st.none()
        | st.builds(
            Image,
            _url,
            alt=_text,
            width=st.none() | st.integers(0, 3000),
            height=st.none() | st.integers(0, 3000),
            mime_type=st.sampled_from(["image/jpeg", "image/png", ""]),
        )
    )
    return Article(
        id="urn:x:" + draw(_text),
        slug="story",
        title="T" + draw(_text),
        url=draw(st.just("") | _url),
        published=draw(_moment),
        source_path="content/story.md",
        content_html=draw(st.just("") | _text.map(lambda text: f"<p>{text}</p>")),
        summary=draw(_text),
        updated=draw(st.none() | _moment),
        author=draw(st.none() | _author(0)),
        coauthors=tuple(draw(_author(n)) for n in range(1, draw(st.integers(1, 3)))),
        tags=tuple(Tag(draw(_text), f"tag-{n}") for n in range(draw(st.integers(0, 3)))),
        image=image,
    )


def _meta(full_content: bool) -> FeedMeta:
    return FeedMeta("", "Site", "d", "https://x.example/", "https://x.example", "en", 60, full_content=full_content)


def _serialised(pair: tuple[etree._Element, etree._Element], meta: FeedMeta) -> tuple[bytes, bytes]:
    # As the feeds hold them: cut from documents like the real ones.
    return fragments(*pair, *document_roots(meta, FeedItems()))


@settings(max_examples=300, deadline=None)
@given(_article(), st.booleans(), st.lists(_url, max_size=2))
def test_the_direct_elements_are_feedgens(article: Article, full_content: bool, related: list[str]) -> None:
    meta = _meta(full_content)
    clean = xml_safe_copy(article)
    direct = article_elements(clean, meta, tuple(related))
    built = clean_feedgen_entries(clean, meta, tuple(related))
    assert _serialised(direct, meta) == _serialised(built, meta)


@pytest.mark.parametrize(
    "change",
    [{"title": ""}, {"id": ""}, {"published": datetime(2026, 10, 1)}, {"updated": datetime(2026, 10, 1)}],
    ids=["no title", "no id", "naive published", "naive updated"],
)
def test_what_feedgen_refuses_it_refuses_in_its_own_words(change: dict[str, object]) -> None:
    article = Article("urn:x:1", "one", "One", "https://x.example/one/", datetime(2026, 10, 1, tzinfo=UTC), "one.md")
    odd = replace(article, **change)  # type: ignore[arg-type]
    with pytest.raises(ValueError) as expected:
        clean_feedgen_entries(odd, _meta(True), ())
    with pytest.raises(ValueError) as got:
        article_elements(odd, _meta(True), ())
    assert got.value.args == expected.value.args
