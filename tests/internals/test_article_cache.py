"""The parse cache's reads and writes: the same parses back, however many are asked for, shared values once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from syndicate._collection.context import ArticleContext, make_tags
from syndicate._model import Article
from syndicate._store import Store
from syndicate._store.articles import CachedParse, dump_parse, load_parse


def _article(number: int, context: ArticleContext) -> Article:
    return Article(
        id=f"urn:x:{number}",
        slug=f"story-{number}",
        title=f"Story {number}",
        url=f"https://x.example/story-{number}/",
        published=datetime(2026, 10, 1, tzinfo=UTC),
        source_path=f"content/story-{number}.md",
        content_html=f"<p>Body {number}</p>",
        author=context.author("Ann Lee", "A bio"),
        tags=make_tags(["Horror", "Film", f"Tag {number % 3}"]),
        content_hash=f"hash-{number}",
    )


def test_a_parse_pickles_to_the_same_bytes_whether_its_shared_values_were_pickled_before_or_not() -> None:
    context = ArticleContext("https://x.example", "x.example", "UTC")
    first = dump_parse((_article(1, context), []))
    # The tags and author of the first were pickled already: the second's bytes come from what was kept.
    again = [dump_parse((_article(n, context), [])) for n in range(1, 4)]
    assert again[0] == first
    fresh_context = ArticleContext("https://x.example", "x.example", "UTC")
    assert [dump_parse((_article(n, fresh_context), [])) for n in range(1, 4)] == again
    assert [load_parse(payload) for payload in again] == [(_article(n, context), []) for n in range(1, 4)]


def test_an_author_is_one_object_for_its_name_and_bio() -> None:
    context = ArticleContext("https://x.example", "x.example", "UTC")
    assert context.author("Ann Lee", "A bio") is context.author("Ann Lee", "A bio")
    assert context.author("Ann Lee") is not context.author("Ann Lee", "A bio")
    assert context.author("Ann Lee") == ArticleContext("https://x.example", "x.example", "UTC").author("Ann Lee")


def test_get_many_reads_the_same_parses_for_a_few_paths_as_for_most(tmp_path: Path) -> None:
    context = ArticleContext("https://x.example", "x.example", "UTC")
    store = Store(tmp_path / "state.sqlite3")
    try:
        cache = store.article_cache
        parses: dict[str, CachedParse] = {f"content/story-{n}.md": (_article(n, context), []) for n in range(40)}
        cache.put_many((path, f"key-{path}", "1:2", dump_parse(parsed)) for path, parsed in parses.items())
        everything = {path: f"key-{path}" for path in parses}
        assert cache.get_many(everything) == parses  # most rows: one pass over the table
        few = dict(list(everything.items())[:5])
        few["content/story-7.md"] = "another-key"  # a stale key is no match
        few["content/gone.md"] = "key-content/gone.md"  # nor is a path the cache never held
        assert cache.get_many(few) == {path: parses[path] for path in list(everything)[:5]}  # looked up by path
        assert cache.get_many({}) == {}
        index = cache.index()  # as a loader that read it already passes it
        assert cache.get_many(few, index=index) == cache.get_many(few)
        assert cache.get_many(everything, index=index) == parses
        shared: dict[bytes, object] = {}
        read = cache.get_many(few, shared) | cache.get_many(everything, shared)
        authors = {id(article.author) for article, _ in read.values() if article is not None}
        assert len(authors) == 1  # one load, one author object
    finally:
        store.close()
