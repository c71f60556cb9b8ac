"""Loading articles: Markdown, plain text, references and bad input."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from conftest import SiteFactory

import syndicate
from syndicate import Severity
from syndicate._collection import ArticleContext
from syndicate._collection.importer import import_plaintext
from syndicate._collection.plaintext import parse_plaintext

GOOD = """
---
title: "Festival Opens"
date: 2026-10-14 09:30
author: Jane Doe
tags: [festivals, Documentary]
summary: The festival opens.
---
Read [the lineup](/lineup/) and see ![poster](img/poster.jpg).
"""


def test_markdown_article_fields(make_site: SiteFactory) -> None:
    site = make_site({"festival-opens.md": GOOD})
    collection = syndicate.Site.open(site).collection
    article = collection.get("festival-opens")
    assert article is not None
    assert article.title == "Festival Opens"
    assert article.published == datetime(2026, 10, 14, 9, 30, tzinfo=ZoneInfo("Europe/London"))
    assert article.author is not None and article.author.name == "Jane Doe"
    assert [t.slug for t in article.tags] == ["festivals", "documentary"]
    assert article.url == "https://test.example.org/festival-opens/"
    # Relative links and images are made absolute against the article page.
    assert 'href="https://test.example.org/lineup/"' in article.content_html
    assert 'src="https://test.example.org/festival-opens/img/poster.jpg"' in article.content_html
    assert article.id == "tag:test.example.org,2026-10-14:festival-opens"


def test_bad_articles_are_reported_and_the_rest_load(make_site: SiteFactory) -> None:
    site = make_site(
        {
            "good.md": GOOD,
            "no-title.md": "---\ndate: 2026-10-01\n---\nbody\n",
            "bad-date.md": "---\ntitle: X\ndate: next tuesday\n---\nbody\n",
            "bad-yaml.md": "---\ntitle: [unclosed\ndate: 2026-10-01\n---\nbody\n",
            "bad-tags.md": "---\ntitle: Y\ndate: 2026-10-01\ntags: {a: b}\n---\nbody\n",
            "dupe.md": "---\ntitle: Z\ndate: 2026-10-01\nslug: good\n---\nbody\n",
        }
    )
    collection = syndicate.Site.open(site).collection
    errors = {Path(p.path).name: p for p in collection.problems if p.severity is Severity.ERROR}
    assert "missing title" in errors["no-title.md"].message
    assert "unparsable date" in errors["bad-date.md"].message and errors["bad-date.md"].line == 3
    assert "bad YAML" in errors["bad-yaml.md"].message and errors["bad-yaml.md"].line is not None
    assert "'tags' must be a list of strings" in errors["bad-tags.md"].message
    assert "duplicate slug 'good'" in errors["dupe.md"].message
    assert [a.slug for a in collection] == ["good"]


PLAIN = """\
Lakeshore Festival Crowns ‘The Ninth Lamp’

The jury gave its top prize to a Spanish ghost story.

It was a popular choice.

MORE: Festival Opens

Related Stories on Test Reel:

"festival opens"
A Story That Does Not Exist

Based in Chicago, Jane Doe covers documentaries and festivals. Her work has appeared in many places.
"""


def test_plaintext_parts() -> None:
    story = parse_plaintext(PLAIN)
    assert story.title == "Lakeshore Festival Crowns ‘The Ninth Lamp’"
    assert story.paragraphs == (
        "The jury gave its top prize to a Spanish ghost story.",
        "It was a popular choice.",
        "MORE: Festival Opens",
    )
    assert story.more == ("Festival Opens",)
    assert story.related == ('"festival opens"', "A Story That Does Not Exist")
    assert story.author_name == "Jane Doe"
    assert story.author_bio.startswith("Based in Chicago, Jane Doe covers")


def test_plaintext_references_resolve_by_title(make_site: SiteFactory) -> None:
    site = make_site({"festival-opens.md": GOOD, "ninth-lamp.txt": PLAIN})
    collection = syndicate.Site.open(site).collection
    article = collection.get("ninth-lamp")
    assert article is not None and article.author is not None
    assert article.author.name == "Jane Doe"
    refs = collection.editor_picks(article)
    assert [r.article.slug if r.article else None for r in refs] == ["festival-opens", None]
    assert 'href="https://test.example.org/festival-opens/"' in article.content_html
    messages = [p.message for p in collection.problems if p.path.endswith("ninth-lamp.txt")]
    assert any("A Story That Does Not Exist" in m for m in messages)
    assert any("no date" in m for m in messages)


BROKEN = {
    "no-title.md": ("---\ndate: 2026-10-01\nauthor: X\n---\nbody\n", "missing title", 2),
    "bad-date.md": ("---\ntitle: X\ndate: next tuesday\n---\nbody\n", "unparsable date 'next tuesday'", 3),
    "bad-yaml.md": ("---\ntitle: X\ndate: 2026-10-01\ntags: [a, b\nauthor: Y\n---\nbody\n", "bad YAML", 5),
    "bad-tag-type.md": ("---\ntitle: T\ndate: 2026-10-01\ntags: [film, {a: b}]\n---\nb\n", "'tags' must be a list", 4),
    "bad-tag-map.md": ("---\ntitle: T\ndate: 2026-10-01\ntags: {a: b}\n---\nb\n", "'tags' must be a list", 4),
    "no-front-matter.md": ("Just text\n", "no front matter", 1),
    "empty.txt": ("", "empty file", 1),
    "blank.txt": ("\n\n   \n", "empty file", 1),
}


def _write_broken(site: Path) -> None:
    for name, (text, _, _) in BROKEN.items():
        (site / "content" / name).write_text(text, encoding="utf-8")
    (site / "content" / "latin1.md").write_bytes(
        "---\ntitle: Café\ndate: 2026-10-01\n---\nline\nCafé crème\n".encode("latin-1")
    )
    (site / "content" / "dupe.md").write_text("---\ntitle: Z\ndate: 2026-10-02\nslug: good\n---\nbody\n")


def test_every_kind_of_bad_input_names_file_and_line_and_the_rest_loads(make_site: SiteFactory) -> None:
    site = make_site({"good.md": GOOD.replace("title:", "slug: good\ntitle:")})
    _write_broken(site)
    collection = syndicate.Site.open(site).collection
    errors = {Path(p.path).name: p for p in collection.problems if p.severity is Severity.ERROR}
    for name, (_, message, line) in BROKEN.items():
        assert message in errors[name].message, name
        assert errors[name].line == line, (name, errors[name])
        assert str(errors[name]).startswith(f"content/{name}:{line}: error: ")
    assert "not UTF-8" in errors["latin1.md"].message and errors["latin1.md"].line == 2
    assert "duplicate slug 'good'" in errors["dupe.md"].message
    assert "content/good.md has it already" in errors["dupe.md"].message
    assert set(errors) == {*BROKEN, "latin1.md", "dupe.md"}
    assert [a.slug for a in collection] == ["good"]


def test_unknown_front_matter_keys_warn_with_their_line(make_site: SiteFactory) -> None:
    site = make_site({"a.md": "---\ntitle: A\ndate: 2026-10-01\nsubtitle: x\n---\nbody\n"})
    collection = syndicate.Site.open(site).collection
    [warning] = [p for p in collection.problems if "unknown front-matter key" in p.message]
    assert warning.severity is Severity.WARNING and warning.line == 4 and "'subtitle'" in warning.message
    assert collection.get("a") is not None


def test_markdown_renders_and_sanitises(make_site: SiteFactory) -> None:
    body = GOOD + '\n<script>alert(1)</script>\n\n<p onclick="x()">Hi <a href="rel/">there</a></p>\n'
    collection = syndicate.Site.open(make_site({"festival-opens.md": body})).collection
    article = collection.get("festival-opens")
    assert article is not None
    assert "<script" not in article.content_html and "onclick" not in article.content_html
    assert '<p>Hi <a href="rel/">there</a></p>' in article.content_html  # raw HTML is not rewritten
    assert article.image is not None and article.image.url == "https://test.example.org/festival-opens/img/poster.jpg"
    assert article.summary == "The festival opens."


PLAIN_IMPORT = """\
Lakeshore Festival Crowns ‘The Ninth Lamp’

The jury gave its top prize to a Spanish ghost story.
It was a popular choice.

MORE: “Festival opens”

1. The director thanked the *crew* & the city.

Related Stories on Test Reel:

Festival Opens
A Story That Does Not Exist

Based in Chicago, Jane Doe covers documentaries and festivals. Her work has appeared in many places.
"""


def test_plaintext_article_loaded_directly(make_site: SiteFactory) -> None:
    site = make_site({"festival-opens.md": GOOD, "ninth-lamp.txt": PLAIN_IMPORT})
    collection = syndicate.Site.open(site).collection
    article = collection.get("ninth-lamp")
    assert article is not None and article.author is not None
    assert article.title == "Lakeshore Festival Crowns ‘The Ninth Lamp’"
    assert article.text.splitlines() == [
        "The jury gave its top prize to a Spanish ghost story. It was a popular choice.",
        "1. The director thanked the *crew* & the city.",
    ]
    assert article.more == ("“Festival opens”",)
    assert article.related == ("Festival Opens", "A Story That Does Not Exist")
    assert article.author.name == "Jane Doe"
    assert article.author.bio.startswith("Based in Chicago, Jane Doe covers documentaries")
    assert '<a href="https://test.example.org/festival-opens/">“Festival opens”</a>' in article.content_html
    assert article.published.tzinfo is not None


def test_import_writes_markdown_that_loads_back_the_same(make_site: SiteFactory, tmp_path: Path) -> None:
    site = make_site({"festival-opens.md": GOOD})
    desk = tmp_path / "desk"
    desk.mkdir()
    source = desk / "ninth-lamp.txt"
    source.write_text(PLAIN_IMPORT, encoding="utf-8")
    with syndicate.Site.open(site) as opened:
        direct_site = make_site({"festival-opens.md": GOOD, "ninth-lamp.txt": PLAIN_IMPORT}, name="direct")
        direct = syndicate.Site.open(direct_site).collection.get("ninth-lamp")
        when = datetime(2026, 11, 20, 8, 0, tzinfo=ZoneInfo("Europe/London"))
        [result] = import_plaintext(
            [source],
            opened.config.content_dir,
            ArticleContext.from_config(opened.config),
            opened.collection,
            date=when,
            slug="ninth-lamp",
        )
    assert result.written == site / "content" / "ninth-lamp.md"
    assert [p.message for p in result.problems if "no --date" in p.message] == []
    text = result.written.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["id"] == "tag:test.example.org,2026-11-20:ninth-lamp"
    assert front["date"] == "2026-11-20T08:00+00:00"
    assert front["related"] == ["festival-opens", "A Story That Does Not Exist"]
    assert front["more"] == ["festival-opens"]
    loaded = syndicate.Site.open(site).collection
    article = loaded.get("ninth-lamp")
    assert article is not None and direct is not None and article.author is not None
    assert article.id == front["id"] and article.has_permanent_id
    assert article.title == direct.title
    assert article.published == when
    assert article.author.name == "Jane Doe" and article.author.bio == direct.author.bio  # type: ignore[union-attr]
    # The same paragraphs (the Markdown keeps MORE: pointers inline, as links), nothing became a list.
    prose = [line for line in article.text.splitlines() if not line.startswith("MORE:")]
    assert prose == direct.text.splitlines()
    assert article.more == ("festival-opens",)
    assert "<ol" not in article.content_html and "<em>" not in article.content_html
    assert '<a href="https://test.example.org/festival-opens/">“Festival opens”</a>' in article.content_html
    assert [r.article.slug if r.article else r.text for r in loaded.editor_picks(article)] == [
        "festival-opens",
        "A Story That Does Not Exist",
    ]


def test_import_without_date_uses_mtime_and_warns(make_site: SiteFactory, tmp_path: Path) -> None:
    site = make_site({})
    source = tmp_path / "story.txt"
    source.write_text("A Headline\n\nA paragraph.\n", encoding="utf-8")
    os.utime(source, (1_790_000_000, 1_790_000_000))
    with syndicate.Site.open(site) as opened:
        [result] = import_plaintext(
            [source], opened.config.content_dir, ArticleContext.from_config(opened.config), None
        )
    expected = datetime.fromtimestamp(1_790_000_000, ZoneInfo("Europe/London"))
    assert any("no --date given; using the file's modification time" in p.message for p in result.problems)
    assert any("no author bio" in p.message for p in result.problems)
    article = syndicate.Site.open(site).collection.get("a-headline")  # the slug comes from the headline
    assert article is not None and article.published == expected.replace(second=0)


def test_import_reports_unreadable_files_and_converts_the_rest(make_site: SiteFactory, tmp_path: Path) -> None:
    site = make_site({})
    good = tmp_path / "good.txt"
    good.write_text("Good Headline\n\nBody.\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Café\n\nCrème.\n".encode("latin-1"))
    with syndicate.Site.open(site) as opened:
        results = import_plaintext(
            [empty, latin, good],
            opened.config.content_dir,
            ArticleContext.from_config(opened.config),
            None,
            date=datetime(2026, 11, 1, tzinfo=ZoneInfo("UTC")),
        )
    assert [r.written is not None for r in results] == [False, False, True]
    assert "empty file" in results[0].problems[0].message
    assert "cannot read" in results[1].problems[0].message and str(latin) == results[1].problems[0].path


def test_public_api_is_documented_and_typed() -> None:
    import inspect

    for name in syndicate.__all__:
        if name == "__version__":
            continue
        value = getattr(syndicate, name)
        assert inspect.getdoc(value), f"syndicate.{name} has no docstring"
        if inspect.isfunction(value):
            hints = inspect.get_annotations(value)
            assert "return" in hints, f"syndicate.{name} has no return type"
    assert (Path(syndicate.__file__).parent / "py.typed").is_file()
