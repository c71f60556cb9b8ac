"""The related feature cache's packed rows read back as exactly the features their JSON gives."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from conftest import SiteFactory

import syndicate
from syndicate import Store
from syndicate._related import Features, build_related_index
from syndicate._related.related_index import _unpacked
from syndicate._store import related as related_store

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("UTC"))


def _story(number: int, words: str) -> str:
    return (
        f"---\ntitle: Story {number} about {words.split()[0]}\ndate: 2026-10-{1 + number:02d} 09:00\n"
        f"tags: [news]\nauthor: Sam Critic\n---\n{words} Jane Doe met Ana Ruiz in Lyon.\n"
    )


def _site(make_site: SiteFactory) -> syndicate.Site:
    subjects = ["festival premiere jury", "archive restoration nitrate", "premiere archive crowds", "jury prize"]
    return syndicate.Site.open(make_site({f"s{n}.md": _story(n, words) for n, words in enumerate(subjects)}))


def _stored_keys(store: Store) -> dict[str, tuple[str, ...]]:
    return {str(row["slug"]): (str(row["key"]),) for row in store.db.query("SELECT slug, key FROM related_features")}


def test_packed_rows_give_the_features_their_json_gives(make_site: SiteFactory, tmp_path: Path) -> None:
    site = _site(make_site)
    with Store(tmp_path / "state.db") as store:
        cold = build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        accepted = _stored_keys(store)
        packed, older = store.related_features.packed_matching(accepted)
        assert older == {} and sorted(packed.slugs) == sorted(accepted)
        from_json = {
            slug: Features.from_json(payload) for slug, payload in store.related_features.iter_matching(accepted)
        }
        assert _unpacked(packed) == from_json
        # Read back from the cache, the index gives every article the picks a cold one gives.
        warm = build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        for article in site.collection.published(NOW):
            assert warm.picks(article) == cold.picks(article)


def test_rows_written_before_packing_are_read_from_their_json(make_site: SiteFactory, tmp_path: Path) -> None:
    site = _site(make_site)
    with Store(tmp_path / "state.db") as store:
        cold = build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        # Rows as written before packing: the features as JSON alone.
        for slug, document in cold.index.documents.items():
            store.db.execute(
                "UPDATE related_features SET payload = ?, terms = x'', counts = x'', names = '' WHERE slug = ?",
                (json.dumps(document.features.to_json()), slug),
            )
        accepted = _stored_keys(store)
        packed, older = store.related_features.packed_matching(accepted)
        assert packed.slugs == [] and sorted(older) == sorted(accepted)
        warm = build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        for article in site.collection.published(NOW):
            assert warm.picks(article) == cold.picks(article)
        # Read once from their JSON, they were packed for the next build, under the same keys.
        packed, older = store.related_features.packed_matching(accepted)
        assert sorted(packed.slugs) == sorted(accepted) and older == {}


def test_a_damaged_packed_row_is_recomputed(make_site: SiteFactory, tmp_path: Path) -> None:
    site = _site(make_site)
    with Store(tmp_path / "state.db") as store:
        cold = build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        store.db.execute("UPDATE related_features SET counts = x'0102'")  # not a whole number of counts
        accepted = _stored_keys(store)
        assert store.related_features.packed_matching(accepted)[0].slugs == []
        warm = build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        for article in site.collection.published(NOW):
            assert warm.picks(article) == cold.picks(article)


def test_packed_rows_keep_no_json_and_read_back_as_computed(make_site: SiteFactory, tmp_path: Path) -> None:
    site = _site(make_site)
    with Store(tmp_path / "state.db") as store:
        cold = build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        # The JSON repeated the packed columns: a row with terms keeps none (one without keeps it, see put_many).
        assert {row["payload"] for row in store.db.query("SELECT payload FROM related_features")} == {""}
        read = dict(store.related_features.iter_matching(_stored_keys(store)))
        assert read == {slug: document.features.to_json() for slug, document in cold.index.documents.items()}


def test_a_row_without_terms_keeps_its_json(tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as store:
        empty: dict[str, object] = {"terms": [], "counts": [], "names": ["Jane Doe"]}
        store.related_features.put_many([("blank", "k", empty)])
        assert store.related_features.get_many({"blank": "k"}) == {"blank": empty}


def _terms_table(store: Store) -> list[tuple[int, str]]:
    return [(int(row["number"]), str(row["term"])) for row in store.db.query("SELECT number, term FROM related_terms")]


def test_terms_of_deleted_articles_are_pruned(
    make_site: SiteFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(related_store, "_PRUNE_AT_LEAST", 1)
    root = _site(make_site).root
    with Store(tmp_path / "state.db") as store:
        site = syndicate.Site.open(root)
        build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        before = _terms_table(store)
        for name in ("s0.md", "s1.md", "s2.md"):
            (root / "content" / name).unlink()
        site = syndicate.Site.open(root)
        warm = build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        after = _terms_table(store)
        # Fewer terms, still numbered 0 to n - 1, each one held by the row left, which reads back as computed.
        assert len(after) < len(before) and [number for number, _ in after] == list(range(len(after)))
        read = dict(store.related_features.iter_matching(_stored_keys(store)))
        assert read == {slug: document.features.to_json() for slug, document in warm.index.documents.items()}
        held = {str(term) for features in read.values() for term in cast(list[str], features["terms"])}
        assert {term for _, term in after} == held
    with Store(tmp_path / "fresh.db") as fresh:
        cold = build_related_index(site.collection, site.config.related, NOW, cache=fresh.related_features)
    # Read back from the pruned cache, the index gives every article the picks a cold one gives.
    with Store(tmp_path / "state.db") as store:
        again = build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        assert _terms_table(store) == after  # nothing more to prune, nothing computed again
    for article in site.collection.published(NOW):
        assert again.picks(article) == cold.picks(article)


def test_a_few_terms_of_deleted_articles_are_left_until_they_are_many(make_site: SiteFactory, tmp_path: Path) -> None:
    root = _site(make_site).root
    with Store(tmp_path / "state.db") as store:
        site = syndicate.Site.open(root)
        build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        before = _terms_table(store)
        (root / "content" / "s0.md").unlink()
        site = syndicate.Site.open(root)
        build_related_index(site.collection, site.config.related, NOW, cache=store.related_features)
        # Renumbering rewrites every row: not worth it for the handful of words of one small article.
        assert _terms_table(store) == before
