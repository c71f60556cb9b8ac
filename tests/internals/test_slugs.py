"""Slugs (issue 10, finding 10): capped, never empty, never shared by two different names, never reordered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import feedparser
from click.testing import CliRunner
from conftest import SiteFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate._slugs import MAX_SLUG, article_slug, slugify
from syndicate.cli import main

HEAD = "---\nid: urn:uuid:00000000-0000-4000-8000-0000000000{n:02d}\ndate: 2026-10-{day:02d} 09:30\n"


def test_ordinary_names_keep_their_published_slugs() -> None:
    assert slugify("Almodóvar & Co.") == "almodovar-and-co"
    assert slugify("Q&A: A Composer on Scoring Silence") == "q-and-a-a-composer-on-scoring-silence"
    assert slugify("Silent Film") == "silent-film"
    assert slugify("box-office") == "box-office"
    assert slugify("Tomás Ferreira") == "tomas-ferreira"
    assert slugify("Don't Look Now") == "dont-look-now"


def test_non_latin_names_are_transliterated() -> None:
    assert slugify("東京") == "dongjing"
    assert slugify("Москва") == "moskva"
    assert slugify("Straße") == "strasse"
    assert slugify("🎬") == "clapper"


def test_symbols_that_carry_meaning_get_a_stable_hash() -> None:
    assert slugify("C++") != slugify("C#") != slugify("C")
    assert slugify("C++").startswith("c-") and slugify("C++") == slugify("c++")
    assert slugify("!!!") != "untitled" and slugify("!!!") != slugify("???")
    assert slugify("") != "untitled"


def test_a_long_name_is_cut_with_a_hash() -> None:
    long = "word " * 80
    slug = slugify(long)
    assert len(slug) <= MAX_SLUG
    assert slug != slugify(long + "more")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
def test_any_text_gives_a_short_ascii_slug(text: str) -> None:
    slug = slugify(text)
    assert 0 < len(slug) <= MAX_SLUG
    assert slug.isascii() and slug == slug.lower() and "/" not in slug and not slug.startswith(".")
    assert slugify(text) == slug


HOSTILE_TAGS = ["C++", "C#", "!!!", "🎬", "東京", "x" * 400, "Festivals"]


def _site(make_site: SiteFactory, name: str, order: list[int]) -> Path:
    articles = {}
    authors = ["José Ruiz", "Jose Ruiz"]
    for position, index in enumerate(order):
        tag = HOSTILE_TAGS[index]
        author = authors[index % 2]
        articles[f"a{position}-{index}.md"] = (
            HEAD.format(n=index, day=index + 1)
            + f'title: Story {index}\nauthor: "{author}"\ntags: ["{tag}"]\n---\nB.\n'
        )
    return make_site(articles, name=name)


def _built_folders(site: Path) -> tuple[set[str], dict[str, Any]]:
    result = CliRunner().invoke(main, ["build", "--site", str(site), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    report = json.loads(result.stdout)
    public = site / "public"
    folders = {f"{kind}/{p.name}" for kind in ("tags", "authors") for p in (public / kind).iterdir()}
    for kind in folders:
        assert not feedparser.parse((public / kind / "atom.xml").read_bytes()).bozo
    return folders, report


def test_hostile_tags_and_authors_get_distinct_folders_in_any_order(make_site: SiteFactory) -> None:
    forward, report = _built_folders(_site(make_site, "forward", list(range(len(HOSTILE_TAGS)))))
    backward, _ = _built_folders(_site(make_site, "backward", list(reversed(range(len(HOSTILE_TAGS))))))
    assert forward == backward
    tags = {f for f in forward if f.startswith("tags/")}
    assert len(tags) == len(HOSTILE_TAGS)
    assert "tags/untitled" not in tags and "tags/festivals" in tags and "tags/dongjing" in tags
    assert "authors/jose-ruiz" in forward and len([f for f in forward if f.startswith("authors/jose-ruiz")]) == 2
    warnings = [p["message"] for p in report["problems"] if "same slug" in p["message"]]
    assert len(warnings) == 1 and "José Ruiz" in warnings[0]
    # The plain-ASCII spelling keeps the plain slug, whatever the file order.
    for name in ("forward", "backward"):
        feed = Path(str(report["out_dir"])).parent.parent / name / "public" / "authors" / "jose-ruiz" / "atom.xml"
        assert feedparser.parse(feed.read_bytes()).feed.title.endswith("Jose Ruiz")


def test_filter_by_name_finds_the_right_one_of_two_names_sharing_a_slug(make_site: SiteFactory) -> None:
    import syndicate

    site = make_site(
        {
            "a.md": HEAD.format(n=1, day=1) + 'title: A\nauthor: "José Ruiz"\ntags: ["C++"]\n---\nB.\n',
            "b.md": HEAD.format(n=2, day=2) + 'title: B\nauthor: "Jose Ruiz"\ntags: ["C#"]\n---\nB.\n',
        }
    )
    with syndicate.Site.open(site) as opened:
        collection = opened.collection
        assert [a.title for a in collection.filter(author="José Ruiz", include_unpublished=True)] == ["A"]
        assert [a.title for a in collection.filter(author="Jose Ruiz", include_unpublished=True)] == ["B"]
        assert [a.title for a in collection.filter(author="jose-ruiz", include_unpublished=True)] == ["B"]
        assert [a.title for a in collection.filter(tag="C#", include_unpublished=True)] == ["B"]


def test_article_slugs_keep_their_published_urls_but_are_never_empty_or_too_long() -> None:
    assert article_slug("c++-guide") == "c-guide"  # a published URL: no hash added
    assert article_slug("Straße") == "strae"
    assert article_slug("festival-opens") == "festival-opens"
    assert article_slug("東京") == "dongjing"  # was 'untitled'
    assert article_slug("!!!") != "untitled" and article_slug("!!!") != article_slug("???")
    assert len(article_slug("a" * 400)) <= MAX_SLUG


def test_a_400_character_slug_or_tag_builds(make_site: SiteFactory) -> None:
    site = make_site(
        {"long.md": HEAD.format(n=3, day=3) + f"title: Long\nslug: {'s' * 400}\ntags: [{'t' * 400}]\n---\nB.\n"}
    )
    result = CliRunner().invoke(main, ["build", "--site", str(site), "--json"])
    assert result.exit_code == 0, result.output
    [tag] = list((site / "public" / "tags").iterdir())
    assert len(tag.name) <= MAX_SLUG and feedparser.parse((tag / "atom.xml").read_bytes()).entries


NAMES = st.sampled_from(["José Ruiz", "Jose Ruiz", "JOSE RUIZ", "C++", "C#", "c", "!!!", "???", "東京", "Box Office"])


@settings(max_examples=60, deadline=None)
@given(st.lists(NAMES, min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_distinct_names_do_not_depend_on_order_and_never_share_a_slug(names: list[str], rng: object) -> None:
    from datetime import UTC, datetime

    from syndicate import Article, Tag
    from syndicate._collection.names import distinct_names
    from syndicate._slugs import name_key

    def articles(order: list[str]) -> list[Article]:
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        return [
            Article(f"id{i}", f"s{i}", "T", "u", moment, f"content/{i}.md", tags=(Tag(name, slugify(name)),))
            for i, name in enumerate(order)
        ]

    shuffled = list(names)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    first = {t.name: t.slug for a in distinct_names(articles(names))[0] for t in a.tags}
    second = {t.name: t.slug for a in distinct_names(articles(shuffled))[0] for t in a.tags}
    assert first == second
    by_slug: dict[str, set[str]] = {}
    for name, slug in first.items():
        by_slug.setdefault(slug, set()).add(name_key(name) or name)
    assert all(len(keys) == 1 for keys in by_slug.values()), by_slug
