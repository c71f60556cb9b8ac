"""Merging at scale (issue 10, finding 5): the cap first, then blocked title matching, same results.

The old merge compared every entry with every kept entry of the window before
applying the per-source cap: one feed of 8,000 entries took minutes. These
tests check the algorithm, never the clock: how many entries reach the title
search and how many title comparisons it makes, and that the stream is the one
the old all-pairs merge (kept in ``bench/merge_bench.py`` as the reference)
gives.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate import OutsideEntry, Source, load_config
from syndicate._sources import list_sources
from syndicate._sources.merge import MergeSettings, MergeStats, merge_stream
from syndicate._sources.normalize import normalize_feed
from syndicate._sources.parse import parse_feed
from syndicate._store import StoredEntry

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


def _bench() -> ModuleType:
    name = "merge_bench"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "merge_bench.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_one_source_of_8000_entries_is_capped_before_any_title_is_compared() -> None:
    source, stored = _bench().one_big_source(8_000)
    stats = MergeStats()
    merged = merge_stream(stored, [source], MergeSettings(), stats)
    assert stats.candidates == 10  # the default cap, applied first
    assert stats.title_comparisons <= 10 * 10
    newest = sorted(stored, key=lambda s: (-s.entry.published.timestamp(), s.entry.id))
    assert merged[0].id == newest[0].entry.id
    assert len(merged) <= 10
    assert [e.published for e in merged] == sorted((e.published for e in merged), reverse=True)


def test_uncapped_4000_entries_make_a_small_fraction_of_the_all_pairs_comparisons() -> None:
    source, stored = _bench().one_big_source(4_000, days=90)
    stats = MergeStats()
    merged = merge_stream(stored, [dataclasses.replace(source, max_items=4_000)], MergeSettings(), stats)
    assert stats.candidates == 4_000
    # All pairs within the window would be ~4,000 x 400 / 2; blocking keeps it near-linear.
    assert stats.title_comparisons < 4_000 * 5
    assert 3_500 < len(merged) < 4_000  # the re-posts were found


def test_blocked_merge_gives_the_all_pairs_stream_on_a_synthetic_feed() -> None:
    bench = _bench()
    source, stored = bench.one_big_source(600, seed=3, days=10)
    uncapped = dataclasses.replace(source, max_items=600)
    old_stats, new_stats = MergeStats(), MergeStats()
    old = bench.merge_stream_quadratic(stored, [uncapped], MergeSettings(), old_stats)
    new = merge_stream(stored, [uncapped], MergeSettings(), new_stats)
    assert new == old
    assert len(new) < 600
    assert new_stats.title_comparisons * 10 < old_stats.title_comparisons


def _demo_entries() -> tuple[list[Source], list[StoredEntry]]:
    config = load_config(REPO)
    sources = list_sources(config)
    stored: list[StoredEntry] = []
    for source in sources:
        body = config.path(source.url).read_bytes()
        try:
            parsed = parse_feed(body, {}, source.url)
        except Exception:
            continue  # the demo's deliberately broken source
        normal = normalize_feed(parsed, source, NOW)
        stored += [StoredEntry(source.url, entry, dated) for entry, dated in normal.entries]
    return sources, stored


def test_blocked_merge_gives_the_old_stream_on_the_demo_fixtures() -> None:
    bench = _bench()
    sources, stored = _demo_entries()
    assert len(stored) >= 20
    for merge_settings in (
        MergeSettings(),
        MergeSettings(max_per_source=100),
        MergeSettings(dedupe_window=timedelta(days=30)),
    ):
        old = bench.merge_stream_quadratic(stored, sources, merge_settings)
        new = merge_stream(stored, sources, merge_settings)
        assert new == old, merge_settings


def test_a_heavier_sources_story_beyond_its_cap_leaves_the_lighter_copy_standing() -> None:
    # The old merge folded the blog's copy into the trade's, then cut the trade's copy by
    # its cap: the story vanished. With the cap first, the blog's copy stands.
    trade = Source("https://trade.example.com/feed", "Trade", weight=2.0, max_items=1)
    blog = Source("https://blog.example.com/feed", "Blog")

    def item(source: Source, id: str, title: str, hours_ago: float) -> StoredEntry:
        moment = NOW - timedelta(hours=hours_ago)
        return StoredEntry(
            source.url,
            OutsideEntry(id, title, f"{source.url}/{id}", source.title, source.url, moment, moment),
        )

    stored = [
        item(trade, "t-new", "Exhibitors report their strongest October since 2019", 1),
        item(trade, "t-old", "Lumen Pictures buys rights to The Salt Road", 20),
        item(blog, "b-old", "Lumen Pictures buys rights to The Salt Road", 19),
    ]
    assert [e.id for e in merge_stream(stored, [trade, blog], MergeSettings())] == ["t-new", "b-old"]


_WORDS = ["salt", "road", "lumen", "pictures", "buys", "rights", "festival", "jury", "opens", "cannes", "venice"]
_WORDS += ["trailer", "sequel", "studio", "director", "star", "week", "3", "4", "box", "office", "award"]


@st.composite
def _stored_entries(draw: st.DrawFn) -> tuple[list[Source], list[StoredEntry]]:
    sources = [
        Source(f"https://s{n}.example.com/feed", f"S{n}", weight=draw(st.sampled_from([0.5, 1.0, 2.0])))
        for n in range(3)
    ]
    stored = []
    count = draw(st.integers(0, 30))
    for index in range(count):
        source = draw(st.sampled_from(sources))
        words = draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8))
        title = " ".join(words).title() if draw(st.booleans()) else " ".join(words)
        hours = draw(st.floats(0, 70, allow_nan=False))
        url = f"https://{draw(st.sampled_from(['a', 'b', 'c']))}.example.com/{index}"
        moment = NOW - timedelta(hours=hours)
        stored.append(
            StoredEntry(source.url, OutsideEntry(f"e{index}", title, url, source.title, source.url, moment, moment))
        )
    return sources, stored


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_stored_entries())
def test_blocked_merge_equals_all_pairs_on_arbitrary_titles(case: tuple[list[Source], list[StoredEntry]]) -> None:
    """With caps that cut nothing, blocking changes no result: same kept copies, same also_at."""
    sources, stored = case
    merge_settings = MergeSettings(max_per_source=1_000)
    assert merge_stream(stored, sources, merge_settings) == _bench().merge_stream_quadratic(
        stored, sources, merge_settings
    )
