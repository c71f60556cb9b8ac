"""The related feature cache's packed rows read back as exactly the features their JSON gives."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import SiteFactory

import syndicate
from syndicate import Store
from syndicate._related import Features, build_related_index
from syndicate._related.related_index import _unpacked

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
        store.db.execute("UPDATE related_features SET terms = x'', counts = x'', names = ''")
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
