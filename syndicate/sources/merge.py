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
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from rapidfuzz import fuzz, utils

from ..model import OutsideEntry, Source
from ..store import StoredEntry
from .normalize import plain_text

# Titles shorter than this many words are too generic to match fuzzily
# ("Box office", "Trailer"): only their URL can make them duplicates.
MIN_WORDS_FOR_TITLE_MATCH = 4
_NUMBER = re.compile(r"\d+")


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
    text = f"{entry.title} {plain_text(entry.summary_html)}".lower()
    return _matches(source.keywords, text) and _matches(settings.keywords, text)


@dataclass
class _Kept:
    entry: OutsideEntry
    source: str
    title_key: str
    also_at: list[str]
    also_at_sources: list[str]


def merge_stream(
    stored: Sequence[StoredEntry], sources: Sequence[Source], settings: MergeSettings
) -> list[OutsideEntry]:
    """The merged stream of ``stored`` entries, newest first.

    Entries of sources no longer listed are left out; each kept entry carries
    its source's current title, weight and category.
    """
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
    # The copy to keep comes first: heavier source, then the earlier story.
    candidates.sort(key=lambda pair: (-pair[0].weight, pair[1].published, pair[0].url, pair[1].id))
    kept: list[_Kept] = []
    kept_by_url: dict[str, _Kept] = {}
    kept_by_day: dict[int, list[_Kept]] = defaultdict(list)
    window_days = max(1, int(settings.dedupe_window.total_seconds() // 86400) + 1)
    for source, entry in candidates:
        title_key = utils.default_process(entry.title)
        twin = kept_by_url.get(entry.url)
        if twin is None and len(title_key.split()) >= MIN_WORDS_FOR_TITLE_MATCH:
            day = int(entry.published.timestamp() // 86400)
            for near_day in range(day - window_days, day + window_days + 1):
                for other in kept_by_day.get(near_day, ()):
                    if abs(other.entry.published - entry.published) <= settings.dedupe_window and same_story_titles(
                        other.title_key, title_key, settings.title_similarity
                    ):
                        twin = other
                        break
                if twin is not None:
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
        record = _Kept(entry, source.url, title_key, [], [])
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
