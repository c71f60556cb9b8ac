"""Loading articles: Markdown, plain text, references and bad input."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import SiteFactory

import syndicate
from syndicate.collection.plaintext import parse_plaintext
from syndicate.model import Severity

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
    assert "duplicate slug 'good'" in errors["good.md"].message or "duplicate slug" in errors["dupe.md"].message
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
