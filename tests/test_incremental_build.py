"""An incremental build gives, byte for byte, what a cold build of the same state gives.

Each test builds a site at state A, changes it to state B (an edit, an added
or deleted article, a retag, an author renamed, a config change), builds
again in place (incrementally: the state database remembers A), and compares
every output file with a cold build of B in another folder with fresh state.
The collection is large enough that an edit recomputes only some related
picks, and varied enough (a wide vocabulary) that term lists are short.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import syndicate

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("UTC"))
ARTICLES = 400
CONFIG = """\
[site]
title = "Incremental Reel"
url = "https://incremental.example.org"
timezone = "UTC"
description = "A site rebuilt one change at a time"

[feeds]
limit = 20
"""

Change = Callable[[Path], None]


def _words(rng: random.Random, vocabulary: list[str], count: int) -> list[str]:
    # Zipf-like: a few words are common, most are rare, as in real copy.
    return [vocabulary[min(int(rng.paretovariate(1.1)) - 1, len(vocabulary) - 1)] for _ in range(count)]


def _article(number: int, rng: random.Random, vocabulary: list[str]) -> str:
    rng.shuffle(vocabulary[50:])
    title = " ".join(_words(rng, vocabulary, 6)).capitalize() + f" {number}"
    tags = sorted({f"topic-{rng.randrange(80)}" for _ in range(3)})
    body = "\n\n".join(" ".join(_words(rng, vocabulary, 40)).capitalize() + "." for _ in range(3))
    day = 1 + number % 28
    hour = number % 24
    return (
        f"---\ntitle: {title}\ndate: 2026-{1 + number % 10:02d}-{day:02d} {hour:02d}:{number % 60:02d}\n"
        f"author: Writer {number % 7}\ntags: [{', '.join(tags)}]\nsummary: Story {number}.\n---\n\n{body}\n"
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path / "site")


def make_site(folder: Path) -> Path:
    """The collection of these tests, written to ``folder``."""
    rng = random.Random(20261126)
    syllables = [f"{a}{b}" for a in "bcdfglmnprstvz" for b in "aeiou"]
    vocabulary = [f"{a}{b}" for a in syllables for b in syllables[:40]]
    (folder / "content").mkdir(parents=True)
    (folder / "syndicate.toml").write_text(CONFIG, encoding="utf-8")
    for number in range(ARTICLES):
        (folder / "content" / f"story-{number}.md").write_text(_article(number, rng, vocabulary), encoding="utf-8")
    return folder


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _incremental_equals_cold(site: Path, tmp_path: Path, change: Change) -> None:
    syndicate.Site.open(site).build(now=NOW)
    change(site)
    incremental = syndicate.Site.open(site).build(now=NOW)
    assert not incremental.up_to_date
    cold_site = tmp_path / "cold"
    shutil.copytree(site, cold_site, ignore=shutil.ignore_patterns(".syndicate", "public"))
    syndicate.Site.open(cold_site).build(now=NOW)
    ours, theirs = _tree(site / "public"), _tree(cold_site / "public")
    assert ours.keys() == theirs.keys()
    differing = [name for name in ours if ours[name] != theirs[name]]
    assert not differing


def _rewrite(site: Path, slug: str, edit: Callable[[str], str]) -> None:
    path = site / "content" / f"{slug}.md"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")


def edit_body(site: Path) -> None:
    _rewrite(site, "story-17", lambda text: text + "\nA correction: the premiere moved to Thursday.\n")


def edit_newest(site: Path) -> None:
    _rewrite(site, "story-399", lambda text: text.replace("Story 399.", "Story 399, revised."))


def add_article(site: Path) -> None:
    (site / "content" / "story-new.md").write_text(
        "---\ntitle: A late addition\ndate: 2026-11-20 09:00\nauthor: Writer 3\ntags: [topic-4]\n"
        "summary: Added.\n---\n\nBarako lenmi tora, added after the first build.\n",
        encoding="utf-8",
    )


def delete_article(site: Path) -> None:
    (site / "content" / "story-42.md").unlink()


def retag(site: Path) -> None:
    _rewrite(site, "story-99", lambda text: text.replace("tags: [", "tags: [topic-99, ", 1))


def rename_author(site: Path) -> None:
    _rewrite(site, "story-64", lambda text: text.replace("author: Writer 1", "author: Writer Renamed"))


def change_config(site: Path) -> None:
    path = site / "syndicate.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[related]\ncount = 4\n", encoding="utf-8")


@pytest.mark.parametrize(
    "change", [edit_body, edit_newest, add_article, delete_article, retag, rename_author, change_config]
)
def test_an_incremental_build_equals_a_cold_build_of_the_same_state(site: Path, tmp_path: Path, change: Change) -> None:
    _incremental_equals_cold(site, tmp_path, change)


def test_several_changes_in_a_row_stay_equal_to_a_cold_build(site: Path, tmp_path: Path) -> None:
    syndicate.Site.open(site).build(now=NOW)
    for change in (edit_body, retag, edit_newest):
        change(site)
        syndicate.Site.open(site).build(now=NOW)
    _incremental_equals_cold(site, tmp_path, rename_author)


def test_the_subscribe_page_is_rendered_again_only_when_its_inputs_or_its_file_changed(site: Path) -> None:
    syndicate.Site.open(site).build(now=NOW)
    page = site / "public" / "feeds" / "index.html"
    original = page.read_bytes()
    edit_body(site)  # no feed set appears or changes its title: the page's inputs are the same
    assert page.resolve() not in syndicate.Site.open(site).build(now=NOW).written
    page.write_bytes(b"altered by hand")
    edit_newest(site)
    assert page.resolve() in syndicate.Site.open(site).build(now=NOW).written
    assert page.read_bytes() == original


def edit_newest_body(site: Path) -> None:
    # story-139 is the newest (2026-10-28): a favourite pick of many articles through recency.
    _rewrite(site, "story-139", lambda text: text + "\nA correction: the gala moved to the Friday matinee.\n")


def edit_first_by_slug(site: Path) -> None:
    # story-0 sorts first, so it sits at the head of every common term list a query reads part of.
    _rewrite(site, "story-0", lambda text: text + "\nA correction: the premiere moved to Thursday.\n")


def edit_first_by_slug_title(site: Path) -> None:
    _rewrite(site, "story-0", lambda text: text.replace("title: ", "title: Revised: ", 1))


def edit_two_articles(site: Path) -> None:
    edit_newest_body(site)
    edit_first_by_slug(site)


def test_an_edit_of_the_first_by_slug_s_title_equals_a_cold_build(site: Path, tmp_path: Path) -> None:
    _incremental_equals_cold(site, tmp_path, edit_first_by_slug_title)
