"""Related stories: the engine's picks, editor picks, filters, determinism and incremental updates."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import SiteFactory

import syndicate
from syndicate import Collection, Store
from syndicate._config import RelatedConfig
from syndicate._related import RelatedIndex, build_related_index, related_json

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("Europe/London"))

# Unrelated stories: each about its own subject, all in the same film-news register,
# so they share the everyday vocabulary (film, director, premiere, audiences...).
OTHER_SUBJECTS = [
    ("Restored Print Of Silent Classic Returns To Cinemas", "restoration", "archive nitrate reels laboratory"),
    ("Animation Studio Announces Hand-Drawn Feature", "animation", "studio animators cels watercolour"),
    ("Box Office: Superhero Sequel Tops Weekend", "box-office", "grosses weekend sequel tickets"),
    ("Composer Scores Space Opera With Choir", "music", "score choir orchestra composer"),
    ("Streaming Service Buys Crime Series", "streaming", "series subscribers episodes crime"),
    ("Cinematographer Talks Shooting On Film Stock", "craft", "celluloid lenses exposure grain"),
    ("Horror Remake Casts Its Lead", "casting", "horror remake casting haunted"),
    ("Film School Opens Scholarship For Editors", "education", "scholarship students editing tuition"),
    ("Drive-In Theatres See Summer Revival", "exhibition", "drive-in parking projector summer"),
    ("Costume Designer Recreates 1920s Paris", "craft", "costumes fabric tailoring period"),
    ("Western Shot Entirely In Utah Desert", "production", "desert horses canyon locations"),
    ("Critics Circle Names Best Foreign Language Film", "awards", "critics circle ballot foreign"),
    ("Children's Film Fund Doubles Its Budget", "funding", "children fund grants budget"),
    ("Sound Designers Build A City From Field Recordings", "craft", "microphones foley recordings mix"),
    ("Musical Biopic Wraps Production In Memphis", "production", "biopic memphis singer rehearsals"),
    ("Arthouse Cinema Chain Expands To Five Cities", "exhibition", "arthouse screens chain expansion"),
    ("Video Essayists Gather For Online Summit", "criticism", "essays editing youtube summit"),
    ("Stunt Performers Call For Safety Rules", "industry", "stunts safety union harness"),
    ("Archive Digitises Newsreels From The 1940s", "restoration", "newsreels digitising wartime archive"),
    ("Teen Comedy Becomes Sleeper Hit", "box-office", "teen comedy sleeper audiences"),
]

FESTIVAL = "Lakeshore Documentary Festival"


def _article(title: str, day: int, tags: list[str], body: str, **front: str) -> str:
    extra = "".join(f"{key}: {value}\n" for key, value in front.items())
    return (
        f'---\ntitle: "{title}"\ndate: 2026-{10 + day // 28:02d}-{1 + day % 28:02d} 09:00\n'
        f"tags: [{', '.join(tags)}]\nauthor: Sam Critic\n{extra}---\n{body}\n"
    )


def _collection_files() -> dict[str, str]:
    files = {
        "lakeshore-lineup.md": _article(
            f"{FESTIVAL} Unveils Its Lineup",
            20,
            ["festivals", "documentary"],
            f"The {FESTIVAL} announced forty documentaries for its lakeside edition. Programmer Ada Okafor "
            "said the lineup leans on first-time directors and films about water rights along the lake shore. "
            "Most films premiere in the boathouse screening room.",
        ),
        "lakeshore-jury.md": _article(
            f"Ada Okafor Names The {FESTIVAL} Jury",
            18,
            ["festivals", "documentary"],
            f"Programmer Ada Okafor introduced the jury of the {FESTIVAL}: three documentary directors and a "
            "water rights lawyer. The lakeside festival gives its jury prize in the boathouse.",
        ),
        "lakeshore-winner.md": _article(
            f"Water Rights Film Wins At {FESTIVAL}",
            24,
            ["festivals", "awards"],
            f"A documentary about water rights along the lake shore won the jury prize at the {FESTIVAL}. "
            "Ada Okafor called the boathouse screening the best in the festival's history.",
        ),
        "lakeshore-tickets.md": _article(
            f"{FESTIVAL} Passes Go On Sale",
            10,
            ["festivals"],
            f"Passes for the {FESTIVAL} go on sale Monday. The lakeside documentary festival adds a second "
            "boathouse screening room this year, programmer Ada Okafor said.",
        ),
    }
    for number, (title, tag, words) in enumerate(OTHER_SUBJECTS):
        files[f"other-{number:02d}.md"] = _article(
            title,
            number + 2,
            [tag, "film"],
            f"{title}. The film's director told audiences at the premiere that {words} shaped the project. "
            f"Critics praised the {words.split()[0]} and the cast. The release is planned for next spring.",
        )
    return files


def _site(make_site: SiteFactory, extra: dict[str, str] | None = None, name: str = "site") -> syndicate.Site:
    return syndicate.Site.open(make_site({**_collection_files(), **(extra or {})}, name=name))


def _index(site: syndicate.Site) -> RelatedIndex:
    return build_related_index(site.collection, site.config.related, NOW)


def test_stories_about_the_same_festival_come_first(make_site: SiteFactory) -> None:
    site = _site(make_site)
    article = site.collection.get("lakeshore-lineup")
    assert article is not None
    picks = _index(site).picks(article, k=5)
    assert {p.slug for p in picks[:3]} == {"lakeshore-jury", "lakeshore-winner", "lakeshore-tickets"}
    assert all(not p.editor_pick for p in picks)
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
    # Every computed pick says why, and the reasons add up to its score.
    for pick in picks:
        assert pick.reasons
        assert sum(share for _, share in pick.reasons) == pytest.approx(pick.score, abs=1e-5)
    top = dict(picks[0].reasons)
    assert top["text"] > 0 and top["names"] > 0


def test_editor_picks_come_first_in_order_and_unresolved_ones_are_reported(make_site: SiteFactory) -> None:
    editor = _article(
        "Lakeshore Programmer Looks Back",
        22,
        ["festivals", "documentary"],
        f"Ada Okafor looks back on ten years at the {FESTIVAL} and its boathouse screenings.",
        related='["other-05", "Drive-In Theatres See Summer Revival", "A Headline Nobody Wrote"]',
    )
    site = _site(make_site, {"looks-back.md": editor})
    article = site.collection.get("looks-back")
    assert article is not None
    index = _index(site)
    picks = index.picks(article, k=5)
    assert [p.slug for p in picks[:2]] == ["other-05", "other-08"]
    assert all(p.editor_pick for p in picks[:2]) and not any(p.editor_pick for p in picks[2:])
    assert picks[0].score == 1.0 and all(p.score < 1.0 for p in picks[2:])
    # The computed picks that follow are the festival's stories, not the editor's again.
    assert {p.slug for p in picks[2:]} <= {
        "lakeshore-jury",
        "lakeshore-winner",
        "lakeshore-tickets",
        "lakeshore-lineup",
    }
    assert index.unresolved(article) == ["A Headline Nobody Wrote"]


def test_plaintext_more_pointers_and_related_block_are_editor_picks(make_site: SiteFactory) -> None:
    plain = (
        f"Lakeshore Volunteers Keep The Boathouse Running\n\n"
        f"Volunteers at the {FESTIVAL} run the boathouse projectors.\n\n"
        "MORE: Composer Scores Space Opera With Choir\n\n"
        "They also sell the passes.\n\n"
        "Related Stories on Test Reel:\n\n"
        "Teen Comedy Becomes Sleeper Hit\n"
        "No Such Story Was Ever Published\n"
    )
    site = _site(make_site, {"volunteers.txt": plain})
    article = site.collection.find_by_title("Lakeshore Volunteers Keep The Boathouse Running")
    assert article is not None
    index = build_related_index(site.collection, site.config.related, datetime.now(ZoneInfo("UTC")))
    picks = index.picks(article, k=4)
    editor = [p.slug for p in picks if p.editor_pick]
    assert set(editor) == {"other-03", "other-19"}
    assert picks[0].editor_pick and picks[1].editor_pick
    assert index.unresolved(article) == ["No Such Story Was Ever Published"]


def test_exclude_drafts_and_future_articles(make_site: SiteFactory) -> None:
    draft = _article(f"{FESTIVAL} Draft Schedule", 21, ["festivals"], f"Draft: the {FESTIVAL} boathouse.", draft="true")
    future = _article(f"{FESTIVAL} Closing Night", 23, ["festivals"], f"The {FESTIVAL} closes at the boathouse.")
    future = future.replace("date: 2026-10-24", "date: 2027-10-24")
    site = _site(make_site, {"draft.md": draft, "future.md": future})
    collection = site.collection
    index = _index(site)
    article = collection.get("lakeshore-lineup")
    assert article is not None
    hidden = {"draft", "future"}
    assert hidden <= {a.slug for a in collection}
    for a in collection.published(NOW):
        assert not hidden & {p.slug for p in index.picks(a, k=10)}
    picks = index.picks(article, k=3, exclude={"lakeshore-jury"})
    assert "lakeshore-jury" not in {p.slug for p in picks}
    assert {"lakeshore-winner", "lakeshore-tickets"} <= {p.slug for p in picks}
    # `before` keeps to stories published earlier (the newsletter resurfacing the archive).
    before = datetime(2026, 10, 20, tzinfo=ZoneInfo("Europe/London"))
    assert all(collection.get(p.slug).published < before for p in index.picks(article, k=5, before=before))  # type: ignore[union-attr]
    # A draft can be previewed: its picks are published stories, never itself.
    draft_article = collection.get("draft")
    assert draft_article is not None
    assert "draft" not in {p.slug for p in index.picks(draft_article)}


def test_never_two_copies_of_the_same_story(make_site: SiteFactory) -> None:
    copy = _collection_files()["lakeshore-jury.md"].replace("date: 2026-10-19", "date: 2026-10-20")
    site = _site(make_site, {"lakeshore-jury-copy.md": copy.replace("---\ntitle", "---\nslug: jury-copy\ntitle")})
    article = site.collection.get("lakeshore-lineup")
    assert article is not None and site.collection.get("jury-copy") is not None
    index = _index(site)
    slugs = [p.slug for p in index.picks(article, k=5)]
    assert len({"lakeshore-jury", "jury-copy"} & set(slugs)) == 1
    # Excluding a story excludes its copies too (the newsletter never shows one twice).
    for excluded in ("lakeshore-jury", "jury-copy"):
        assert not {"lakeshore-jury", "jury-copy"} & {p.slug for p in index.picks(article, k=5, exclude={excluded})}


def _build_json(site_dir: Path) -> bytes:
    with syndicate.Site.open(site_dir) as site:
        site.build(now=NOW)
    return (site_dir / "public" / "related.json").read_bytes()


def test_build_writes_related_json_deterministically_and_atom_links(make_site: SiteFactory) -> None:
    first = make_site(_collection_files(), name="one")
    second = make_site(_collection_files(), name="two")
    data = _build_json(first)
    assert data == _build_json(second)  # a fresh state database: same bytes
    assert data == _build_json(first)  # with cached features: same bytes
    related = json.loads(data)
    assert set(related) == {p.stem for p in (first / "content").glob("*.md")}
    lineup = related["lakeshore-lineup"]
    assert {p["slug"] for p in lineup[:3]} == {"lakeshore-jury", "lakeshore-winner", "lakeshore-tickets"}
    assert set(lineup[0]) >= {"slug", "title", "url", "score"}
    assert lineup[0]["url"] == "https://test.example.org/lakeshore-jury/" or lineup[0]["url"].startswith("https://")
    atom = (first / "public" / "atom.xml").read_text(encoding="utf-8")
    import feedparser

    parsed = feedparser.parse(atom)
    entry = next(e for e in parsed.entries if e.link == "https://test.example.org/lakeshore-lineup/")
    related_hrefs = [link.href for link in entry.links if link.rel == "related"]
    assert related_hrefs == [p["url"] for p in lineup[:3]]


def test_cached_features_are_reused_and_refreshed(make_site: SiteFactory, tmp_path: Path) -> None:
    site = _site(make_site)
    with Store(tmp_path / "state.db") as store:
        cache = store.related_features
        first = build_related_index(site.collection, site.config.related, NOW, cache=cache)
        keys = {a.slug: f"x" for a in site.collection}  # noqa: F541
        assert cache.get_many(keys) == {}  # wrong keys never match
        second = build_related_index(site.collection, site.config.related, NOW, cache=cache)
        for article in site.collection.published(NOW):
            assert first.picks(article) == second.picks(article)
        assert len(store.db.query("SELECT slug FROM related_features")) == len(site.collection.published(NOW))


def test_incremental_update_equals_a_full_rebuild(make_site: SiteFactory) -> None:
    site = _site(make_site)
    full = _index(site)
    newest = site.collection.get("lakeshore-winner")
    assert newest is not None
    without = Collection([a for a in site.collection if a.slug != newest.slug])
    live = build_related_index(without, site.config.related, NOW)
    assert "lakeshore-winner" not in {p.slug for p in live.picks(site.collection.get("lakeshore-lineup"))}  # type: ignore[arg-type]
    added, removed = live.refresh(site.collection, NOW)
    assert (added, removed) == (1, 0)
    for article in site.collection.published(NOW):
        assert [p.slug for p in live.picks(article)] == [p.slug for p in full.picks(article)], article.slug
    # And removing it again gives what an index built without it gives.
    live.refresh(without, NOW)
    fresh = build_related_index(without, site.config.related, NOW)
    for article in without.published(NOW):
        assert [p.slug for p in live.picks(article)] == [p.slug for p in fresh.picks(article)], article.slug


def test_weights_come_from_the_config(make_site: SiteFactory) -> None:
    site = _site(make_site)
    article = site.collection.get("lakeshore-lineup")
    assert article is not None
    text_only = RelatedConfig(tag_weight=0, name_weight=0, recency_weight=0, author_weight=0)
    picks = build_related_index(site.collection, text_only, NOW).picks(article)
    assert picks and all(dict(p.reasons).keys() == {"text"} for p in picks)
    assert related_json({"a": picks}) == related_json({"a": picks})


def test_cli_related_explain_json(make_site: SiteFactory) -> None:
    from click.testing import CliRunner

    from syndicate.cli import main

    editor = _article(
        "Lakeshore Programmer Looks Back",
        22,
        ["festivals", "documentary"],
        f"Ada Okafor looks back on ten years at the {FESTIVAL} and its boathouse screenings.",
        related='["other-05", "A Headline Nobody Wrote"]',
    )
    site = make_site({**_collection_files(), "looks-back.md": editor})
    runner = CliRunner()
    result = runner.invoke(
        main, ["related", "looks-back", "--explain", "--json", "--site", str(site), "--now", "2026-11-26T12:00Z"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["slug"] == "looks-back"
    assert data["unresolved_editor_picks"] == ["A Headline Nobody Wrote"]
    picks = data["picks"]
    assert len(picks) == 5 and picks[0]["slug"] == "other-05" and picks[0]["editor_pick"] is True
    assert picks[0]["reasons"]["editor"] == 1.0
    computed = picks[1:]
    assert {p["slug"] for p in computed[:3]} <= {
        "lakeshore-jury",
        "lakeshore-winner",
        "lakeshore-tickets",
        "lakeshore-lineup",
    }
    for pick in computed:
        assert set(pick["reasons"]) == {"editor", "text", "tags", "names", "recency", "author"}
        assert sum(pick["reasons"].values()) == pytest.approx(pick["score"], abs=1e-3)
    # The table form names the signals; an unknown slug is a usage error naming it.
    table = runner.invoke(main, ["related", "looks-back", "--explain", "--site", str(site)])
    assert table.exit_code == 0 and "names" in table.output and "Related to" in table.output
    missing = runner.invoke(main, ["related", "no-such-story", "--site", str(site)])
    assert missing.exit_code == 2 and "no-such-story" in missing.output


def test_fork_map_keeps_order_and_matches_serial() -> None:
    from syndicate._related.parallel import PARALLEL_MIN_ITEMS, fork_map

    squares = [i * i for i in range(PARALLEL_MIN_ITEMS + 7)]
    assert fork_map(lambda i: squares[i], len(squares), workers=2) == squares
    assert fork_map(lambda i: i, 5, workers=2) == [0, 1, 2, 3, 4]  # small: serial


def test_large_index_adds_without_recomputing_the_others(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate._related import document_index as index_module

    # Pretend the index is large: an update must then leave the other vectors alone.
    monkeypatch.setattr(index_module, "EXACT_UPDATE_TERMS", 0)
    site = _site(make_site)
    winner = site.collection.get("lakeshore-winner")
    lineup = site.collection.get("lakeshore-lineup")
    assert winner is not None and lineup is not None
    without = Collection([a for a in site.collection if a.slug != winner.slug])
    live = build_related_index(without, site.config.related, NOW)
    before = dict(live.index.vectors)
    assert live.refresh(site.collection, NOW) == (1, 0)
    assert all(live.index.vectors[slug] is vector for slug, vector in before.items())
    assert "lakeshore-winner" in {p.slug for p in live.picks(lineup, k=3)}
    assert {p.slug for p in live.picks(winner, k=3)} == {"lakeshore-jury", "lakeshore-lineup", "lakeshore-tickets"}


def test_refresh_follows_edits_and_unpublishing(make_site: SiteFactory) -> None:
    site = _site(make_site)
    live = _index(site)
    lineup = site.collection.get("lakeshore-lineup")
    other = site.collection.get("other-04")
    assert lineup is not None and other is not None
    # other-04 is rewritten as a festival story; lakeshore-tickets becomes a draft.
    rewritten = replace(
        other,
        text=f"The {FESTIVAL} boathouse screening room and Ada Okafor's water rights lineup.",
        content_hash="edited",
    )
    lakeshore = site.collection.get("lakeshore-tickets")
    assert lakeshore is not None
    drafted = replace(lakeshore, draft=True)
    edited = Collection(
        [
            rewritten if a.slug == "other-04" else drafted if a.slug == "lakeshore-tickets" else a
            for a in site.collection
        ]
    )
    assert live.refresh(edited, NOW) == (1, 1)
    picks = {p.slug for p in live.picks(lineup, k=4)}
    assert "other-04" in picks and "lakeshore-tickets" not in picks
    fresh = build_related_index(edited, site.config.related, NOW)
    assert [p.slug for p in live.picks(lineup)] == [p.slug for p in fresh.picks(lineup)]


def test_an_article_of_common_words_still_gets_candidates() -> None:
    from syndicate._related import Document, DocumentIndex, Features

    def doc(number: int, words: dict[str, int]) -> Document:
        return Document(
            slug=f"d{number:03d}",
            title=f"Story {number}",
            url=f"https://x.example/d{number:03d}/",
            published=1_700_000_000.0 + number,
            author=None,
            tags=(),
            features=Features.from_counts(words),
        )

    # 100 stories all about "cinema" and "premiere": both words are in every inverted list's
    # worth of stories (over the rarity cap), yet the stories are related to each other.
    documents = [doc(n, {"cinema": 3, "premiere": 2, f"unique{n}": 1}) for n in range(100)]
    index = DocumentIndex(documents, RelatedConfig())
    picks = index.related(documents[0], 5)
    assert len(picks) == 5 and all(p.document.slug != "d000" for p in picks)
    # Same text, so closeness in time decides: the stories published nearest d000 first.
    assert [p.document.slug for p in picks] == ["d001", "d002", "d003", "d004", "d005"]
    assert [p.document.slug for p in DocumentIndex(reversed(documents), RelatedConfig()).related(documents[0], 5)] == [
        p.document.slug for p in picks
    ]


def test_inverted_lists_built_on_first_use_equal_lists_kept_up_to_date(monkeypatch: pytest.MonkeyPatch) -> None:
    # A cold build never reads the lists (the batch reads vectors), so they are built on first
    # use; updates made before then must leave the same lists as updates made to built ones.
    from syndicate._related import Document, DocumentIndex, Features
    from syndicate._related import document_index as index_module

    monkeypatch.setattr(index_module, "EXACT_UPDATE_TERMS", 0)  # updates patch the lists, no rebuild

    def doc(number: int) -> Document:
        return Document(
            slug=f"d{number:03d}",
            title=f"Story {number % 50}",
            url=f"https://x.example/d{number:03d}/",
            published=1_700_000_000.0 + number,
            author=None,
            tags=(f"tag{number % 4}", f"rare{number % 20}"),
            features=Features.from_counts({"cinema": 2, f"w{number % 9}": 2, f"u{number}": 1}, (f"name {number % 6}",)),
        )

    documents = [doc(n) for n in range(60)]
    eager = DocumentIndex(documents, RelatedConfig())
    eager.copies_of("Story 1")  # builds the lists now
    late = DocumentIndex(documents, RelatedConfig())
    for index in (eager, late):
        index.remove(["d003"])
        index.add([doc(60), replace(doc(5), tags=("tag9",))])
    assert late._built_lists is None and eager._built_lists is not None
    assert late.documents.keys() == eager.documents.keys()
    for slug in eager.documents:
        assert late.list_keys(slug) == eager.list_keys(slug)
        for key in eager.list_keys(slug):
            assert late.list_members(key) == eager.list_members(key), key
        assert late.query_terms(slug) == eager.query_terms(slug)
    assert late.copies_of("Story 10") == eager.copies_of("Story 10") == {"d010", "d060"}
    assert late.copies_of("Story 3") == eager.copies_of("Story 3") == {"d053"}
    assert late.related(documents[7], 5) == eager.related(documents[7], 5)


def test_common_word_lists_are_read_only_in_part_and_the_batch_agrees() -> None:
    # A collection of common-word stories would make every query read lists as long as the
    # collection (all pairs after all): only the head of a common list is read, the same in
    # the one-query path and the batch.
    from syndicate._related import Document, DocumentIndex, Features
    from syndicate._related.document_index import COMMON_READ

    size = 700
    documents = [
        Document(
            slug=f"d{n:03d}",
            title=f"Story {n}",
            url=f"https://x.example/d{n:03d}/",
            published=1_700_000_000.0 + 3600 * ((n * 37) % size),
            author=None,
            tags=(),
            # Every term is common (more stories than the rarity cap): no query has a rare list.
            features=Features.from_counts({"cinema": 2, f"w{n % 10}": 2, f"v{n % 7}": 1}),
        )
        for n in range(size)
    ]
    index = DocumentIndex(documents, RelatedConfig())
    read = COMMON_READ * index._list_cap()
    assert read < size
    vector = index.vectors["d650"]
    assert len(index.candidates(documents[650], vector, 10_000)) <= 3 * read
    batch = index.related_all(5)
    for document in documents[::7]:
        alone = index.related(document, 5)
        assert [p.document.slug for p in batch[document.slug]] == [p.document.slug for p in alone], document.slug
        assert len(alone) == 5


def test_all_picks_in_one_batch_equal_each_article_s_picks(make_site: SiteFactory) -> None:
    # all_picks answers every article at once with sparse matrices; it must agree with picks().
    site = _site(make_site)
    index = _index(site)
    every = index.all_picks()
    assert set(every) == {a.slug for a in site.collection.published(NOW)}
    for article in site.collection.published(NOW):
        alone = index.picks(article)
        assert [p.slug for p in every[article.slug]] == [p.slug for p in alone], article.slug
        assert [p.editor_pick for p in every[article.slug]] == [p.editor_pick for p in alone]
        for batch_pick, single in zip(every[article.slug], alone, strict=True):
            assert batch_pick.score == pytest.approx(single.score, abs=1e-12)
            assert dict(batch_pick.reasons) == pytest.approx(dict(single.reasons), abs=1e-6)


def test_whole_articles_reuse_the_features_a_build_read_from_source(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The newsletter and the CLI index whole articles; after a build they must not tokenise again.
    from syndicate._related import documents

    root = make_site(_collection_files(), name="shared")
    with syndicate.Site.open(root) as site:
        site.build(now=NOW)
        tokenised: list[str] = []
        real = documents.article_features

        def counting(article: syndicate.Article) -> syndicate._related.Features:
            tokenised.append(article.slug)
            return real(article)

        monkeypatch.setattr(documents, "article_features", counting)
        rows = site.store.db.query("SELECT slug, key FROM related_features")
        index = build_related_index(site.collection, site.config.related, NOW, cache=site.store.related_features)
        assert tokenised == []
        assert index.picks(site.collection.get("lakeshore-lineup"))  # type: ignore[arg-type]
        # Nothing was overwritten: the next build still finds every row it wrote.
        assert site.store.db.query("SELECT slug, key FROM related_features") == rows


def test_workers_send_term_numbers_that_are_renumbered_here() -> None:
    # Forked workers number the terms they meet on their own; what comes back must name
    # the same terms as tokenising here, for words this process has never seen.
    from syndicate._related import documents
    from syndicate._related.parallel import PARALLEL_MIN_ITEMS

    def story(n: int) -> syndicate.Article:
        words = " ".join(f"qx{n % 97}v{n % 89}w{k} zr{n % 13}t{k}" for k in range(4))
        return syndicate.Article(
            id=f"id-{n}",
            slug=f"s{n:05d}",
            title=f"Story qx{n} About Yl{n % 7}",
            url=f"https://x.example/s{n:05d}/",
            published=NOW,
            source_path=f"s{n:05d}.md",
            text=f"{words} common text here",
        )

    articles = [story(n) for n in range(PARALLEL_MIN_ITEMS + 11)]

    def prepare(batch: list[syndicate.Article]) -> list[syndicate.Article]:
        return [replace(a, summary="extra summary words") if a.slug.endswith("7") else a for a in batch]

    forked = documents.features_of_all(articles, workers=2, prepare=prepare)
    here = documents.features_of_all(articles, workers=1, prepare=prepare)
    assert len(forked) == len(articles)
    for article, (features, replaced), (expected, replaced_here) in zip(articles, forked, here, strict=True):
        assert features.terms == expected.terms and features.names == expected.names, article.slug
        assert features == expected  # the same numbers, once renumbered
        assert replaced is replaced_here is article.slug.endswith("7")
        assert ("summary" in features.terms) is replaced


def test_features_survive_the_trip_from_a_worker_process() -> None:
    # Workers send features back as one joined string; odd characters and empty ones must survive.
    import pickle

    from syndicate._related import Features

    for features in (
        Features.from_counts({"caf\u00e9": 2, "a\u00a0b": 1, "x\u2028y": 3, "dune": 7}, ["denis villeneuve"]),
        Features.from_counts({}),
    ):
        back = pickle.loads(pickle.dumps(features))
        assert back == features and back.terms == features.terms


def test_the_vocabulary_numbers_each_term_once_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from syndicate._related.text import VOCABULARY

    words = [f"threadword{n}" for n in range(3000)]

    def number_all(offset: int) -> list[int]:
        order = words[offset:] + words[:offset]  # every thread meets the words in another order
        return [VOCABULARY.id(word) for word in order]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(number_all, range(0, 3000, 375)))
    numbers = {VOCABULARY.id(word) for word in words}
    assert len(numbers) == len(words)
    assert all(VOCABULARY.terms[VOCABULARY.id(word)] == word for word in words)
    for offset, got in zip(range(0, 3000, 375), results, strict=True):
        assert got == [VOCABULARY.id(word) for word in words[offset:] + words[:offset]]


def _outside(number: int, title: str, summary: str, day: int) -> syndicate.OutsideEntry:
    published = datetime(2026, 10, 1 + day, 8, 0, tzinfo=ZoneInfo("UTC"))
    return syndicate.OutsideEntry(
        id=f"https://press.example/{number}",
        title=title,
        url=f"https://press.example/story/{number}",
        source_title="Trade Press",
        source_url="https://press.example/feed.xml",
        published=published,
        first_seen=published,
        summary_html=f"<p>{summary}</p>",
    )


def test_outside_stories_on_the_same_subject_are_found_apart_from_our_own(make_site: SiteFactory) -> None:
    site = _site(make_site)
    lineup = site.collection.get("lakeshore-lineup")
    assert lineup is not None
    stream = [
        _outside(
            1,
            f"Critics Pick Their Favourites at the {FESTIVAL}",
            f"The {FESTIVAL} boathouse screenings drew "
            "critics to documentaries about water rights; programmer Ada Okafor called it a lakeside edition.",
            19,
        ),
        _outside(
            2,
            "Ada Okafor Leaves Lakeshore After Ten Years",
            f"Programmer Ada Okafor, who shaped the {FESTIVAL} lineup of documentaries, steps down.",
            21,
        ),
        _outside(3, lineup.title, "A copy of our own story under its headline, syndicated elsewhere.", 20),
        *(
            _outside(10 + n, f"{title} (Trade Report)", f"{words}. The studio said the release is planned.", n)
            for n, (title, _, words) in enumerate(OTHER_SUBJECTS)
        ),
    ]
    index = build_related_index(site.collection, site.config.related, NOW, outside=stream)
    picks = index.outside_picks(lineup, k=5)
    assert {p.slug for p in picks[:2]} == {"https://press.example/1", "https://press.example/2"}
    assert "https://press.example/3" not in {p.slug for p in picks}  # a copy of the article itself
    assert all(p.url.startswith("https://press.example/story/") and not p.editor_pick for p in picks)
    assert all(p.slug.startswith("https://press.example/") for p in picks)  # never one of our own stories
    # Our own related block is untouched by the stream.
    assert {p.slug for p in index.picks(lineup)} == {p.slug for p in _index(site).picks(lineup)}
    # A story on a subject nobody outside wrote about gets none rather than filler.
    lonely = syndicate.Article(
        id="lonely",
        slug="lonely",
        title="Beekeepers Of The High Moor Count Their Hives",
        url="https://test.example.org/lonely/",
        published=NOW,
        source_path="lonely.md",
        # A word or two in common with the trade reports, and nothing more.
        text="Moorland beekeepers counted hives after a wet spring; heather honey prices rose. The release "
        "of the honey is planned for the autumn, the cooperative's studio said.",
    )
    assert index.outside_picks(lonely, k=5) == []
    assert build_related_index(site.collection, site.config.related, NOW).outside_picks(lineup) == []


def test_cli_related_lists_outside_stories_with_outside(demo_site: Path) -> None:
    from click.testing import CliRunner

    from syndicate.cli import main

    runner = CliRunner()
    assert runner.invoke(main, ["fetch", "--site", str(demo_site)]).exit_code in (0, 4)  # one demo source is broken
    args = ["related", "box-office-clockmakers-fox-opening", "--site", str(demo_site), "--now", "2026-11-26T12:00"]
    result = runner.invoke(main, [*args, "--outside", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["outside"] and "Clockmaker" in data["outside"][0]["title"]
    assert data["outside"][0]["url"].startswith("http") and not data["outside"][0]["editor_pick"]
    assert {p["slug"] for p in data["picks"]}.isdisjoint({p["slug"] for p in data["outside"]})
    assert "outside" not in json.loads(runner.invoke(main, [*args, "--json"]).stdout)
    table = runner.invoke(main, [*args, "--outside"])
    assert table.exit_code == 0 and "Around the web" in table.output
