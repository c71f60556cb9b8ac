"""Incremental related picks equal a full computation, whatever one edit changed (syndicate._related.incremental).

Each trial changes one or two indexed documents (words added or dropped, tags
changed, dates moved), keeping the number of documents, so the incremental
path's tests of which readers an edit can affect are what decides; every
published article's picks must then be, bit for bit, those a full
computation over the changed index gives.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Set
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

# The 400-article site of the build-level tests and their edits: here the build is watched from inside.
from test_incremental_build import ARTICLES as SITE_ARTICLES
from test_incremental_build import NOW as SITE_NOW
from test_incremental_build import (
    Change,
    _tree,
    edit_body,
    edit_first_by_slug,
    edit_newest,
    edit_newest_body,
    edit_two_articles,
    make_site,
)

import syndicate
from syndicate import Store
from syndicate._collection import Collection
from syndicate._config import RelatedConfig
from syndicate._model import Article
from syndicate._related import RelatedIndex, incremental
from syndicate._related.documents import Document, Features
from syndicate._related.incremental import _context, current_picks
from syndicate._related.readers import readers_of_changes
from syndicate._store import LastPicks

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("UTC"))
ARTICLES = 300


def _collection(rng: random.Random, dense: bool = False) -> tuple[Collection, list[Document]]:
    """Articles with Zipf-like words, or (``dense``) with nearly every word of a small vocabulary.

    In the dense collection every list is common and longer than the head a
    query reads of it (so most documents sit beyond it), and many have nearly
    the same length: an edit moves one list past another, which changes which
    heads a query reads.
    """
    articles = []
    documents = []
    vocabulary = [f"w{n}" for n in range(60 if dense else 900)]
    for number in range(2 * ARTICLES if dense else ARTICLES):
        slug = f"story-{number}"
        published = datetime(2026, 1 + number % 10, 1 + number % 28, number % 24, tzinfo=ZoneInfo("UTC"))
        tags = tuple(sorted({f"topic-{rng.randrange(40)}" for _ in range(3)}))
        words: dict[str, int] = {}
        if dense:
            words = {word: rng.randrange(1, 6) for word in vocabulary if rng.random() < 0.93}
        for _ in range(0 if dense else 60):
            # Zipf-like: some words in most documents (common lists, read by their heads), most rare.
            word = vocabulary[min(int(rng.paretovariate(0.9)) - 1, len(vocabulary) - 1)]
            words[word] = words.get(word, 0) + 1
        article = Article(
            slug=slug,
            title=f"Story {number}",
            published=published,
            source_path=f"{slug}.md",
            url=f"https://example.org/{slug}/",
            id=f"tag:example.org,2026:{slug}",
        )
        articles.append(article)  # the index reads its documents, not the articles (tags and author there)
        documents.append(
            Document(
                slug,
                article.title,
                article.url,
                published.timestamp(),
                f"Writer {number % 5}",
                tags,
                Features.from_counts(words),
                content_key="k",
            )
        )
    return Collection(articles), documents


def _edited(document: Document, rng: random.Random) -> Document:
    terms = dict(document.features.terms)
    kind = rng.randrange(4)
    if kind == 0:  # words added, some new to the collection
        for word in rng.sample([f"w{n}" for n in range(5)] + [f"new{rng.randrange(10**6)}"], 3):
            terms[word] = terms.get(word, 0) + rng.randrange(1, 4)
    elif kind == 1 and len(terms) > 5:  # words dropped
        for word in rng.sample(sorted(terms), 3):
            del terms[word]
    elif kind == 2:  # retagged
        return replace(document, tags=(*document.tags[1:], f"topic-{rng.randrange(40)}"))
    else:  # moved in time
        return replace(document, published=document.published + rng.choice((-1, 1)) * 86400 * rng.randrange(1, 60))
    return replace(document, features=Features.from_counts(terms, document.features.names))


@pytest.mark.parametrize("dense", [False, True])
def test_incremental_picks_equal_a_full_computation_after_any_edit(tmp_path: Path, dense: bool) -> None:
    rng = random.Random(15)
    collection, documents = _collection(rng, dense)
    config = RelatedConfig()
    state = Store(tmp_path / "state.db")
    before = RelatedIndex(collection, config, NOW, list(documents))
    current_picks(before, state.related_last_picks, "salt")
    partial = 0
    for _ in range(40 if not dense else 25):
        for at in rng.sample(range(len(documents)), rng.choice((1, 1, 2))):
            documents[at] = _edited(documents[at], rng)
        index = RelatedIndex(collection, config, NOW, list(documents))
        update = current_picks(index, state.related_last_picks, "salt")
        assert update.picks == index.all_picks()
        if not update.complete:
            partial += 1
            # Stronger than equal picks: every article whose shortlist changed was recomputed.
            assert _shortlists_changed(before, index) <= update.fresh.keys()
        before = index
    assert partial >= 10  # many trials went through the incremental path
    state.close()


def _shortlists_changed(before: RelatedIndex, after: RelatedIndex) -> set[str]:
    """The articles whose candidates (what their picks are chosen from) differ between two indexes."""
    limit = max(after.config.candidates, 4 * after.config.count) + 1
    old, new = before.index, after.index
    return {
        slug
        for slug, document in new.documents.items()
        if old.candidates(old.documents[slug], old.vectors[slug], limit)
        != new.candidates(document, new.vectors[slug], limit)
    }


def test_a_list_moving_past_another_changes_the_heads_a_query_reads(tmp_path: Path) -> None:
    """An edit far from every list's head can still change a reader's shortlist: by reordering its least common lists.

    Every article has the six words, one of them once and the others twice, and
    keeps five in its vector (all but the one it has once), so each word's list
    holds the articles that did not drop it. The lists are longer than the cap,
    so a query reads the heads of its three least common ones. Moving the one
    word story-99 (last by slug, beyond every head) has once from ``b`` to ``a``
    swaps the lengths of ``a``'s and ``b``'s lists (600 and 599): the articles
    that dropped ``r`` or ``s`` now read ``a``'s head instead of ``b``'s.
    """
    groups = {"p": 250, "q": 200, "a": 100, "b": 101, "r": 30, "s": 19}  # articles that have each word once
    slugs = sorted((f"story-{number}" for number in range(sum(groups.values()))), key=lambda s: s != "story-99")
    dropped: dict[str, str] = {}
    for word in ("b", "p", "q", "a", "r", "s"):  # story-99 (first here) has "b" once
        for _ in range(groups[word]):
            dropped[slugs[len(dropped)]] = word
    articles = []
    documents = []
    for number, slug in enumerate(sorted(dropped)):
        published = datetime(2026, 1 + number % 10, 1 + number % 28, number % 24, tzinfo=ZoneInfo("UTC"))
        article = Article(
            slug=slug, title=slug, published=published, source_path=f"{slug}.md", url=f"/{slug}/", id=slug
        )
        articles.append(article)
        words = {word: 1 if word == dropped[slug] else 2 for word in groups}
        document = Document(slug, slug, article.url, published.timestamp(), None, (), Features.from_counts(words), "k")
        documents.append(document)
    collection = Collection(articles)
    config = RelatedConfig(distinctive_terms=5)
    state = Store(tmp_path / "state.db")
    before = RelatedIndex(collection, config, NOW, list(documents))
    current_picks(before, state.related_last_picks, "salt")
    at = next(i for i, d in enumerate(documents) if d.slug == "story-99")
    words = {word: 1 if word == "a" else 2 for word in groups}
    documents[at] = replace(documents[at], features=Features.from_counts(words))
    after = RelatedIndex(collection, config, NOW, list(documents))
    changed = _shortlists_changed(before, after)
    assert {slug for slug, word in dropped.items() if word in "rs"} <= changed
    # Asked directly, with no early stop: the edit changes enough scores to recompute everything.
    last = state.related_last_picks.load(_context(after, "salt"))
    assert last is not None
    old_lists = {"story-99": before.index.list_keys("story-99")}
    readers = readers_of_changes(after.index, {"story-99"}, old_lists, len(dropped), last, config.count)
    assert changed - {"story-99"} <= readers
    assert current_picks(after, state.related_last_picks, "salt").picks == after.all_picks()
    state.close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path / "site")


@pytest.mark.parametrize("change", [edit_body, edit_newest, edit_newest_body, edit_first_by_slug, edit_two_articles])
def test_an_edit_recomputes_only_the_picks_it_can_change(
    site: Path, tmp_path: Path, change: Change, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit keeps the other articles' picks (no full recomputation), and the result is still a cold build's."""
    syndicate.Site.open(site).build(now=SITE_NOW)
    computed: list[int] = []
    recompute_all = incremental._recompute_all
    subset = RelatedIndex.all_picks

    def counting_subset(self: RelatedIndex, k: int | None = None, only: Set[str] | None = None) -> Any:
        computed.append(len(only) if only is not None else -1)
        return subset(self, k, only)

    def refused(*args: object) -> object:
        raise AssertionError("every pick was recomputed for one edit")

    monkeypatch.setattr(incremental, "_recompute_all", refused)
    monkeypatch.setattr(RelatedIndex, "all_picks", counting_subset)
    change(site)
    syndicate.Site.open(site).build(now=SITE_NOW)
    monkeypatch.setattr(incremental, "_recompute_all", recompute_all)
    assert computed and 0 < computed[0] < SITE_ARTICLES // 2
    cold_site = tmp_path / "cold"
    shutil.copytree(site, cold_site, ignore=shutil.ignore_patterns(".syndicate", "public"))
    syndicate.Site.open(cold_site).build(now=SITE_NOW)
    ours, theirs = _tree(site / "public"), _tree(cold_site / "public")
    assert ours.keys() == theirs.keys()
    assert [name for name in ours if ours[name] != theirs[name]] == []


def test_stored_picks_are_the_json_they_always_were_and_read_back_bit_for_bit() -> None:
    from syndicate._model import RelatedPick
    from syndicate._related.incremental import _decoded, _encoded

    picks = [
        RelatedPick("a", 'Été \u2028 "q" \\ \x01', "https://x.example/a/", 0.1 + 0.2, False, (("text", 1 / 3),)),
        RelatedPick("b", "B", "https://x.example/b/", 5e-324, True, ()),
        RelatedPick("c", "C", "https://x.example/c/", 1.0, False, (("tags", 2.5e17), ("recency", -0.0))),
    ]
    old = [[p.slug, p.title, p.url, p.score, p.editor_pick, [list(r) for r in p.reasons]] for p in picks]
    assert _encoded(picks) == json.dumps(old, separators=(",", ":"), ensure_ascii=False)
    assert _decoded(_encoded(picks)) == picks


@pytest.mark.parametrize(
    "lists",
    [
        (),
        ("t:film",),
        ("t:film", "g:news", "n:Jane Doe"),
        ("g:a\nb", "t:x"),
        ("g:a\0b", "t:x"),
        ("g:a\r\nb",),
        ("g:[odd",),
        ("g:",),
        ("[x", "t:y"),
    ],
)
def test_the_lists_of_a_row_read_back_as_stored(lists: tuple[str, ...], tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as store:
        store.related_last_picks.record("ctx", {"a": LastPicks("sig", lists, "[]", "")}, (), complete=True)
        assert store.related_last_picks.lists(["a"]) == {"a": lists}


def test_lists_stored_as_json_by_older_builds_still_read(tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as store:
        store.related_last_picks.record("ctx", {"a": LastPicks("sig", ("t:x",), "[]", "")}, (), complete=True)
        store.db.execute("UPDATE related_last_picks SET lists = ?", (json.dumps(["t:film", "g:news"]),))
        assert store.related_last_picks.lists(["a"]) == {"a": ("t:film", "g:news")}
