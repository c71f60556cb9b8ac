"""Merging every source's stored entries into one stream: filter, de-duplicate, cap.

Runs when the stream is read, over what the state database holds, so a
changed weight, keyword or cap applies at once without refetching.

* Relevance: an entry must match the source's keywords (if it has any) and
  the global ``[sources] keywords`` (if any), in its title or summary.
* De-duplication: the same canonical URL is one story; so are titles whose
  rapidfuzz token-set ratio reaches ``title_similarity`` within
  ``dedupe_days`` of each other. The copy from the higher-weight source is
  kept (on a tie, the earlier one) and the others are listed in ``also_at``.
* Caps: at most ``maxItems`` (or ``[sources] max_per_source``) per source.

The cap is applied first, per source (newest first, a source's repeated
links counted once), so one source of 100,000 entries costs a sort, not
100,000 comparisons. Near-duplicate titles are then found by blocking
(prefix filtering, as in set-similarity joins): each title's tokens are
ranked rarest first across the stream; a new entry is compared only with
kept entries that share one of its rarer half of tokens, or whose rarer
half it contains. Two titles whose shared tokens make up less than half of
both cannot reach a token-set ratio of 90 unless their other words are
near-identical spellings, so the blocking finds what comparing every pair
found, with far fewer comparisons (near-linear when titles carry rare words;
titles made only of common words still meet each other within the window).
Candidates are tried in the order the old all-pairs loop tried them (by day,
then by when they were kept), so the same copy wins.
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from rapidfuzz import fuzz, utils

from .._model import OutsideEntry, Source
from .._store import StoredEntry
from .normalize import plain_text

# Titles shorter than this many words are too generic to match fuzzily
# ("Box office", "Trailer"): only their URL can make them duplicates.
MIN_WORDS_FOR_TITLE_MATCH = 4
_NUMBER = re.compile(r"\d+")
_SLOT = 1 << 40  # more kept entries than this in one merge cannot happen


def same_story_titles(a: str, b: str, threshold: float) -> bool:
    """True when two processed titles read as the same story.

    Token-set similarity, except that titles differing in their numbers
    ("Week 3 box office" / "Week 4 box office") are different stories.
    """
    if min(len(a.split()), len(b.split())) < MIN_WORDS_FOR_TITLE_MATCH:
        return False
    if set(_NUMBER.findall(a)) != set(_NUMBER.findall(b)):
        return False
    return fuzz.token_set_ratio(a, b, processor=None) >= threshold


@dataclass
class MergeStats:
    """What one merge did, for tests and benchmarks that check its algorithmic cost."""

    candidates: int = 0  # entries left after filters and the per-source cap
    title_comparisons: int = 0  # calls of same_story_titles


@dataclass(frozen=True, slots=True)
class MergeSettings:
    keywords: tuple[str, ...] = ()
    max_per_source: int = 10
    dedupe_window: timedelta = timedelta(days=3)
    title_similarity: float = 90.0


def _matches(keywords: Iterable[str], text: str) -> bool:
    words = [k.lower() for k in keywords]
    return not words or any(re.search(rf"\b{re.escape(word)}", text) for word in words)


def is_relevant(entry: OutsideEntry, source: Source, settings: MergeSettings) -> bool:
    """True when the entry passes the source's and the global keyword filters."""
    if not source.keywords and not settings.keywords:
        return True  # no filter: skip sanitising the summary back to text
    text = f"{entry.title} {plain_text(entry.summary_html)}".lower()
    return _matches(source.keywords, text) and _matches(settings.keywords, text)


@dataclass
class _Kept:
    entry: OutsideEntry
    source: str
    title_key: str
    also_at: list[str]
    also_at_sources: list[str]
    day: int = 0
    order: int = 0  # when it was kept: the tie-break the all-pairs loop had within a day


def _capped_per_source(
    stored: Sequence[StoredEntry], sources: Sequence[Source], settings: MergeSettings
) -> list[tuple[Source, OutsideEntry]]:
    """Relevant entries of listed sources, at most each source's cap of them, the newest.

    Within one source a repeated link is one story, counted once, its earliest
    copy standing for it (the copy de-duplication would keep).
    """
    by_url = {source.url: source for source in sources}
    per_source: dict[str, dict[str, OutsideEntry]] = defaultdict(dict)
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
        if not is_relevant(entry, source, settings):
            continue
        by_link = per_source[source.url]
        earlier = by_link.get(entry.url)
        if earlier is None or (entry.published, entry.id) < (earlier.published, earlier.id):
            by_link[entry.url] = entry
    chosen: list[tuple[Source, OutsideEntry]] = []
    for url, by_link in per_source.items():
        source = by_url[url]
        cap = source.max_items or settings.max_per_source
        newest = heapq.nsmallest(cap, by_link.values(), key=lambda e: (-e.published.timestamp(), e.id))
        chosen.extend((source, entry) for entry in newest)
    return chosen


def _rarest_first(tokens: set[str], frequency: dict[str, int]) -> list[str]:
    return sorted(tokens, key=lambda token: (frequency[token], token))


def merge_stream(
    stored: Sequence[StoredEntry],
    sources: Sequence[Source],
    settings: MergeSettings,
    stats: MergeStats | None = None,
) -> list[OutsideEntry]:
    """The merged stream of ``stored`` entries, newest first.

    Entries of sources no longer listed are left out; each kept entry carries
    its source's current title, weight and category. ``stats``, when given,
    is filled in with what the merge cost.
    """
    stats = stats if stats is not None else MergeStats()
    candidates = _capped_per_source(stored, sources, settings)
    stats.candidates = len(candidates)
    # The copy to keep comes first: heavier source, then the earlier story.
    candidates.sort(key=lambda pair: (-pair[0].weight, pair[1].published, pair[0].url, pair[1].id))
    keys = [utils.default_process(entry.title) for _, entry in candidates]
    token_sets = [set(key.split()) for key in keys]
    frequency: dict[str, int] = defaultdict(int)
    for tokens in token_sets:
        for token in tokens:
            frequency[token] += 1
    kept: list[_Kept] = []
    kept_tokens: list[set[str]] = []  # by order kept, beside ``kept``: the hot loop reads only these
    kept_sizes: list[int] = []
    kept_by_url: dict[str, _Kept] = {}
    # (token, block of days) -> codes of kept records holding the token anywhere / among their
    # rarer half. A block spans the window, so the window around a day lies within three blocks.
    # A code is day * _SLOT + the order it was kept in: sorting codes sorts by (day, order), the
    # order the all-pairs loop tried them in, and the set union and sort run in C.
    holding: dict[tuple[str, int], list[int]] = defaultdict(list)
    holding_rare: dict[tuple[str, int], list[int]] = defaultdict(list)
    window = settings.dedupe_window
    window_days = max(1, int(window.total_seconds() // 86400) + 1)
    for (source, entry), title_key, tokens in zip(candidates, keys, token_sets, strict=True):
        twin = kept_by_url.get(entry.url)
        day = int(entry.published.timestamp() // 86400)
        block = day // window_days
        rare: list[str] = []
        if len(title_key.split()) >= MIN_WORDS_FOR_TITLE_MATCH:
            rare = _rarest_first(tokens, frequency)[: len(tokens) // 2 + 1]
        if twin is None and rare:
            buckets = [
                bucket
                for near_block in (block - 1, block, block + 1)
                for bucket in itertools.chain(
                    (holding.get((token, near_block)) for token in rare),
                    (holding_rare.get((token, near_block)) for token in tokens),
                )
                if bucket
            ]
            near = sorted(set().union(*buckets))
            start = bisect.bisect_left(near, (day - window_days) * _SLOT)
            stop = bisect.bisect_left(near, (day + window_days + 1) * _SLOT)
            size = len(tokens)
            for code in itertools.islice(near, start, stop):
                order = code % _SLOT
                # The premise of the blocking, checked exactly: the shared words are half of one title.
                other_size = kept_sizes[order]
                if 2 * len(tokens & kept_tokens[order]) < (size if size < other_size else other_size):
                    continue
                other = kept[order]
                if abs(other.entry.published - entry.published) > window:
                    continue
                stats.title_comparisons += 1
                if same_story_titles(other.title_key, title_key, settings.title_similarity):
                    twin = other
                    break
        if twin is not None:
            if entry.url != twin.entry.url and entry.url not in twin.also_at:
                twin.also_at.append(entry.url)
                twin.also_at_sources.append(entry.source_title)
            elif source.url != twin.source and entry.source_title not in twin.also_at_sources:
                # Same link from another outlet: credit that outlet with its site or feed.
                twin.also_at.append(source.html_url or entry.source_url)
                twin.also_at_sources.append(entry.source_title)
            continue
        record = _Kept(entry, source.url, title_key, [], [], day, len(kept))
        kept.append(record)
        kept_tokens.append(tokens)
        kept_sizes.append(len(tokens))
        kept_by_url[entry.url] = record
        if rare:
            code = day * _SLOT + record.order
            for token in tokens:
                holding[token, block].append(code)
            for token in rare:
                holding_rare[token, block].append(code)
    kept.sort(key=lambda record: (-record.entry.published.timestamp(), record.entry.id))
    return [
        dataclasses.replace(record.entry, also_at=tuple(record.also_at), also_at_sources=tuple(record.also_at_sources))
        for record in kept
    ]
