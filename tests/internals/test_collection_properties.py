"""Property tests (issue 10): any text or bytes as an article file gives an Article or a problem, never an exception.

And whatever comes out, the feeds written from it parse with feedparser
(bozo 0), the Atom feed validates against RFC 4287's RELAX NG schema and the
JSON Feed against its JSON Schema (the same schemas test_feeds_output uses).
Examples are kept few so the suite stays fast.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import jsonschema
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate import Article, Problem
from syndicate._collection import ArticleContext
from syndicate._collection.loader import parse_article_bytes
from syndicate._collection.markdown import load_markdown
from syndicate._collection.plaintext import load_plaintext
from syndicate._feeds.jsonfeed import json_feed
from syndicate._feeds.spec import FeedItems, FeedMeta
from syndicate._feeds.xmlfeeds import rss_and_atom

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
ATOM_SCHEMA = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
JSON_SCHEMA = jsonschema.Draft202012Validator(
    json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8")),
    format_checker=jsonschema.FormatChecker(),
)
CONTEXT = ArticleContext("https://x.example/news", "x.example", "America/Chicago")
META = FeedMeta("", "Property Site", "Every article", "https://x.example/news/", "https://x.example/news", "en", 60)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text as it arrives: any character, with the troublesome ones (XML-forbidden, lone surrogates,
# YAML and Markdown syntax) far more likely than chance would make them.
HOSTILE = st.sampled_from(
    [
        *("\x00", "\x01", "\x0b", "\x0c", "\x1b", "\ud800", "\udfff", "\ufffe", "\uffff", "\r", "\n", "---\n", "...\n"),
        *(": ", "*a", "&a ", "[", "{", '"', "'", "#", "<", "&#1;", "&#xD800;", "<script>", "\\x01", "é", "東"),
    ]
)
TEXT = st.lists(st.one_of(st.characters(), HOSTILE), max_size=80).map("".join)
# Dates anywhere in the calendar, in any zone (before 1900 many zones had offsets with seconds).
DATE = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.one_of(st.none(), st.timezones())
    ),
    st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(1990, 1, 1)),
)
LEAF = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**6), max_value=10**6), st.floats(), TEXT, DATE)
VALUE = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=3))
KEYS = st.sampled_from(["title", "date", "slug", "author", "author_bio", "tags", "summary", "image", "image_alt"])
KEYS = st.one_of(KEYS, st.sampled_from(["updated", "related", "draft", "id", "featured", "more"]), TEXT)


def _feeds_are_valid(articles: list[Article]) -> None:
    items = FeedItems(articles=tuple(articles))
    rss, atom = rss_and_atom(META, items)
    for raw in (rss, atom):
        parsed = feedparser.parse(raw)
        assert not parsed.bozo, parsed.get("bozo_exception")
    assert ATOM_SCHEMA.validate(etree.fromstring(atom)), ATOM_SCHEMA.error_log
    document = json.loads(json_feed(META, items))
    errors = list(JSON_SCHEMA.iter_errors(document))
    assert not errors, errors[0].message


def _article_or_problem(result: tuple[Article | None, list[Problem]]) -> list[Article]:
    article, problems = result
    assert article is not None or problems
    assert all(p.path and p.message for p in problems)
    return [article] if article is not None else []


@SETTINGS
@given(TEXT, TEXT)
def test_any_markdown_text_gives_an_article_or_a_problem_and_valid_feeds(front: str, body: str) -> None:
    articles = _article_or_problem(load_markdown(f"---\n{front}\n---\n{body}", "content/any.md", CONTEXT))
    articles += _article_or_problem(load_markdown(front + body, "content/raw.md", CONTEXT))
    _feeds_are_valid(articles)


@SETTINGS
@given(st.dictionaries(KEYS, VALUE, max_size=8), DATE, TEXT)
def test_any_front_matter_gives_an_article_or_a_problem_and_valid_feeds(
    meta: dict[str, object], when: object, body: str
) -> None:
    meta.setdefault("title", "A Title")
    meta.setdefault("date", when)
    try:
        front = yaml.safe_dump(meta, allow_unicode=True)
    except (yaml.YAMLError, UnicodeEncodeError):
        front = repr(meta)
    articles = _article_or_problem(load_markdown(f"---\n{front}---\n{body}", "content/meta.md", CONTEXT))
    _feeds_are_valid(articles)


@SETTINGS
@given(TEXT)
def test_any_plain_text_gives_an_article_or_a_problem_and_valid_feeds(text: str) -> None:
    moment = datetime(2026, 10, 14, 9, 30, tzinfo=UTC)
    articles = _article_or_problem(load_plaintext(text, "content/desk.txt", CONTEXT, moment, date_is_guess=True))
    _feeds_are_valid(articles)


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from(["content/a.md", "content/a.txt"]))
def test_any_bytes_as_a_file_give_an_article_or_a_problem(raw: bytes, path: str) -> None:
    for data in (raw, b"---\ntitle: T\ndate: 2026-10-14\n---\n" + raw):
        _feeds_are_valid(_article_or_problem(parse_article_bytes(path, data, CONTEXT, 1.8e9)))
