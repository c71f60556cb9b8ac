"""Merging outside entries: the blocked merge against the old all-pairs one.

Run from the repository root:

    .venv/bin/python bench/merge_bench.py                    # 1,000 / 10,000 / 100,000 entries
    .venv/bin/python bench/merge_bench.py --sizes 1000 10000 --runs 1

One source (the hostile case of issue 10, finding 5: a single feed of many
entries) whose titles are realistic headlines: 6 to 12 words drawn from a
vocabulary with a long tail of names, a tenth of them re-posts of an earlier
story with small edits (case, punctuation, a word added) under a new GUID and
link, spread over 30 days. Three ways to merge it:

* ``blocked, capped``: :func:`syndicate._sources.merge.merge_stream` with the
  default cap (10 per source): the cap comes first, so this is a sort;
* ``blocked, uncapped``: the same with ``maxItems`` = the number of entries, so
  every entry goes through the blocked near-duplicate search;
* ``all pairs (old)``: :func:`merge_stream_quadratic`, the merge as it was
  before (every entry compared with every kept entry within the window, the cap
  applied last), kept here as the reference. Run only for the first sizes:
  at 100,000 it does not finish in reasonable time.

Each size is run ``--runs`` times (3 by default), the three ways interleaved
within a run, and the median CPU and wall seconds are printed beside the
number of title comparisons, with the load average (the machine is shared).
Where the reference ran, the uncapped blocked stream is checked to be the
reference's stream, entry for entry (the capped one differs by design: the old
merge applied the cap after de-duplication). The uncapped blocked merge is run
up to ``--uncapped-up-to`` entries: its cost grows with how many entries share
a window, and this synthetic feed packs a tenth of its titles with re-posts and
nearly half its words from 32 common ones, a harsh case.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rapidfuzz import utils

from syndicate._model import OutsideEntry, Source
from syndicate._sources.merge import (
    MIN_WORDS_FOR_TITLE_MATCH,
    MergeSettings,
    MergeStats,
    is_relevant,
    merge_stream,
    same_story_titles,
)
from syndicate._store import StoredEntry

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
OLD_PATH_LIMIT = 10_000  # the all-pairs merge is run up to this size


# -- the reference: the merge as it was before blocking ------------------------


@dataclass
class _OldKept:
    entry: OutsideEntry
    source: str
    title_key: str
    also_at: list[str]
    also_at_sources: list[str]


def merge_stream_quadratic(
    stored: Sequence[StoredEntry], sources: Sequence[Source], settings: MergeSettings, stats: MergeStats | None = None
) -> list[OutsideEntry]:
    """The old merge, verbatim but for the comparison counter: all pairs within the window, cap last."""
    stats = stats if stats is not None else MergeStats()
    by_url = {source.url: source for source in sources}
    candidates: list[tuple[Source, OutsideEntry]] = []
    for item in stored:
        source = by_url.get(item.source)
        if source is None:
            continue
        entry = dataclasses.replace(
            item.entry,
            source_title=source.title or item.entry.source_title,
            source_weight=source.weight,
            category=source.category,
        )
        if is_relevant(entry, source, settings):
            candidates.append((source, entry))
    stats.candidates = len(candidates)
    candidates.sort(key=lambda pair: (-pair[0].weight, pair[1].published, pair[0].url, pair[1].id))
    kept: list[_OldKept] = []
    kept_by_url: dict[str, _OldKept] = {}
    kept_by_day: dict[int, list[_OldKept]] = defaultdict(list)
    window_days = max(1, int(settings.dedupe_window.total_seconds() // 86400) + 1)
    for source, entry in candidates:
        title_key = utils.default_process(entry.title)
        twin = kept_by_url.get(entry.url)
        if twin is None and len(title_key.split()) >= MIN_WORDS_FOR_TITLE_MATCH:
            day = int(entry.published.timestamp() // 86400)
            for near_day in range(day - window_days, day + window_days + 1):
                for other in kept_by_day.get(near_day, ()):
                    if abs(other.entry.published - entry.published) <= settings.dedupe_window:
                        stats.title_comparisons += 1
                        if same_story_titles(other.title_key, title_key, settings.title_similarity):
                            twin = other
                            break
                if twin is not None:
                    break
        if twin is not None:
            if entry.url != twin.entry.url and entry.url not in twin.also_at:
                twin.also_at.append(entry.url)
                twin.also_at_sources.append(entry.source_title)
            elif source.url != twin.source and entry.source_title not in twin.also_at_sources:
                twin.also_at.append(source.html_url or entry.source_url)
                twin.also_at_sources.append(entry.source_title)
            continue
        record = _OldKept(entry, source.url, title_key, [], [])
        kept.append(record)
        kept_by_url[entry.url] = record
        kept_by_day[int(entry.published.timestamp() // 86400)].append(record)
    kept.sort(key=lambda record: (-record.entry.published.timestamp(), record.entry.id))
    caps = {source.url: source.max_items or settings.max_per_source for source in sources}
    counts: dict[str, int] = defaultdict(int)
    stream = []
    for record in kept:
        counts[record.source] += 1
        if counts[record.source] > caps[record.source]:
            continue
        stream.append(
            dataclasses.replace(
                record.entry, also_at=tuple(record.also_at), also_at_sources=tuple(record.also_at_sources)
            )
        )
    return stream


# -- the synthetic feed -----------------------------------------------------------

_COMMON = [
    "the", "a", "of", "to", "in", "and", "for", "on", "at", "with", "new", "film", "first", "review", "box",
    "office", "festival", "star", "director", "studio", "trailer", "season", "series", "premiere", "awards",
    "deal", "rights", "sequel", "cast", "release", "date", "weekend",
]  # fmt: skip
_SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def _vocabulary(size: int, rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def _headline(rng: random.Random, names: list[str], weights: list[float]) -> str:
    words = []
    for _ in range(rng.randint(6, 12)):
        if rng.random() < 0.45:
            words.append(rng.choice(_COMMON))
        else:
            # Zipf: a few names (studios, stars) are frequent, most are rare
            words.append(rng.choices(names, cum_weights=weights)[0].title())
    return " ".join(words)


def _repost(title: str, rng: random.Random) -> str:
    change = rng.randrange(3)
    if change == 0:
        return title.upper()
    if change == 1:
        return title.replace(" ", ": ", 1) + "!"
    return title + " " + rng.choice(("exclusive", "update", "report"))


def one_big_source(count: int, seed: int = 10, days: float = 30.0) -> tuple[Source, list[StoredEntry]]:
    """One source with ``count`` entries over ``days`` days, a tenth of them re-posts."""
    rng = random.Random(seed)
    names = _vocabulary(max(2_000, count // 2), rng)
    weights = list(itertools.accumulate(1 / rank for rank in range(1, len(names) + 1)))
    source = Source("https://flood.example.com/feed", "Flood", "https://flood.example.com/")
    stored: list[StoredEntry] = []
    titles: list[tuple[str, datetime]] = []
    for index in range(count):
        moment = NOW - timedelta(seconds=rng.uniform(0, days * 86400))
        if titles and rng.random() < 0.1:
            earlier, when = rng.choice(titles[-50:])
            title, moment = _repost(earlier, rng), when + timedelta(hours=rng.uniform(0, 20))
        else:
            title = _headline(rng, names, weights)
            titles.append((title, moment))
        entry = OutsideEntry(
            id=f"flood-{index}",
            title=title,
            url=f"https://flood.example.com/story/{index}",
            source_title=source.title,
            source_url=source.url,
            published=moment,
            first_seen=moment,
        )
        stored.append(StoredEntry(source.url, entry))
    return source, stored


# -- timing -----------------------------------------------------------------------

Merge = Callable[..., list[OutsideEntry]]


def _timed(merge: Merge, stored: list[StoredEntry], sources: list[Source]) -> tuple[float, float, int, list[str]]:
    stats = MergeStats()
    wall, cpu = time.perf_counter(), time.process_time()
    stream = merge(stored, sources, MergeSettings(), stats)
    return time.process_time() - cpu, time.perf_counter() - wall, stats.title_comparisons, [e.id for e in stream]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--old-up-to", type=int, default=OLD_PATH_LIMIT, help="largest size for the old merge")
    parser.add_argument("--uncapped-up-to", type=int, default=20_000, help="largest size for the uncapped merge")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    print(f"median of {args.runs} interleaved runs; one source, entries over 30 days, 10% re-posts\n")
    print(f"{'entries':>8}  {'merge':<18} {'CPU s':>8} {'wall s':>8} {'comparisons':>12} {'stream':>7}")
    for size in args.sizes:
        source, stored = one_big_source(size)
        uncapped = dataclasses.replace(source, max_items=size)
        ways: list[tuple[str, Merge, Source]] = [("blocked, capped", merge_stream, source)]
        if size <= args.uncapped_up_to:
            ways.append(("blocked, uncapped", merge_stream, uncapped))
        if size <= args.old_up_to:
            ways.append(("all pairs (old)", merge_stream_quadratic, uncapped))
        results: dict[str, list[tuple[float, float, int, list[str]]]] = defaultdict(list)
        for _ in range(args.runs):
            for name, merge, listed in ways:
                results[name].append(_timed(merge, stored, [listed]))
        for name, _, _ in ways:
            runs = results[name]
            cpu = statistics.median(r[0] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            print(f"{size:>8}  {name:<18} {cpu:>8.3f} {wall:>8.3f} {runs[0][2]:>12} {len(runs[0][3]):>7}")
        if "all pairs (old)" in results and "blocked, uncapped" in results:
            same = results["all pairs (old)"][0][3] == results["blocked, uncapped"][0][3]
            print(f"{'':>8}  uncapped stream identical to the old merge's: {same}")
        if size >= 100_000:
            wall = statistics.median(r[1] for r in results["blocked, capped"])
            print(
                f"{'':>8}  100,000 entries merged (default cap) in {wall:.2f} s: {'under' if wall < 5 else 'OVER'} 5 s"
            )
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
