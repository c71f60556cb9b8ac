"""Choose what goes into a week's issue: pure, data in and an :class:`Issue` out.

Nothing here reads files or the clock: the caller passes the week's window,
the articles, a related-stories picker and the outside entries, so tests feed
it directly and the same inputs always give the same issue.
"""

from __future__ import annotations

from collections.abc import Collection as AbstractSet
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from .._errors import InvalidArgumentError
from .._model import Article, Issue, IssueStory, OutsideEntry, RelatedPick


class RelatedPicker(Protocol):
    """What selection needs of the related-stories index (``RelatedIndex`` fits)."""

    def picks(
        self,
        article: Article,
        k: int = 5,
        exclude: AbstractSet[str] = (),
        before: datetime | None = None,
    ) -> list[RelatedPick]: ...


@dataclass(frozen=True, slots=True)
class SelectionLimits:
    """The caps of ``[newsletter]`` that shape selection."""

    max_stories: int = 8
    related_count: int = 3
    around_the_web: int = 6
    around_the_web_per_source: int = 2


def week_articles(articles: Iterable[Article], start: datetime, end: datetime, now: datetime) -> list[Article]:
    """The published articles of ``[start, end)`` as of ``now``, lead first, then newest first.

    The lead is the newest article marked ``featured: true``, else the newest
    article. Ties in time are broken by slug so the order is stable.
    """
    chosen = [a for a in articles if start <= a.published < end and a.is_published(now)]
    chosen.sort(key=lambda a: (-a.published.timestamp(), a.slug))
    featured = [a for a in chosen if a.featured]
    if featured:
        lead = featured[0]
        chosen.remove(lead)
        chosen.insert(0, lead)
    return chosen


def related_blocks(
    stories: Sequence[Article], picker: RelatedPicker, count: int, before: datetime
) -> list[tuple[RelatedPick, ...]]:
    """A related block per story: none of them in the issue, none repeated across blocks.

    ``before`` (the week's start) makes the index resurface the archive rather
    than repeat this week's news, which the reader sees in the issue anyway.
    """
    taken = {a.slug for a in stories}
    blocks = []
    for article in stories:
        picks = _fresh(picker.picks(article, k=count, exclude=frozenset(taken), before=before), taken)[:count]
        if len(picks) < count:
            # A young archive may not have enough earlier stories: fill up from any time,
            # still never repeating a story of the issue or of another block.
            # Asking for extra covers an index that does not honour ``exclude``.
            have = taken | {p.slug for p in picks}
            more = picker.picks(article, k=count + len(have), exclude=frozenset(have))
            picks += _fresh(more, have)[: count - len(picks)]
        taken.update(p.slug for p in picks)
        blocks.append(tuple(picks))
    return blocks


def _fresh(picks: Iterable[RelatedPick], taken: AbstractSet[str]) -> list[RelatedPick]:
    """``picks`` without the taken slugs (an index may not honour ``exclude`` exactly) and without repeats."""
    seen: set[str] = set()
    out = []
    for pick in picks:
        if pick.slug not in taken and pick.slug not in seen:
            seen.add(pick.slug)
            out.append(pick)
    return out


def _source_key(entry: OutsideEntry) -> str:
    return entry.source_url or entry.source_title


def _own_site(url: str, own_host: str) -> bool:
    return bool(own_host) and (urlsplit(url).hostname or "").lower() == own_host


def around_the_web(
    entries: Iterable[OutsideEntry], total: int, per_source: int, own_host: str = ""
) -> tuple[OutsideEntry, ...]:
    """Outside stories in the merged stream's order, at most ``per_source`` each and ``total`` in all.

    Only http(s) links go out; links back to our own site are dropped (they
    would be the week's own stories again), and so are repeats of a URL.
    """
    chosen: list[OutsideEntry] = []
    per: dict[str, int] = {}
    seen_urls: set[str] = set()
    for entry in entries:
        if len(chosen) >= total:
            break
        scheme = urlsplit(entry.url).scheme.lower()
        if scheme not in ("http", "https") or entry.url in seen_urls or _own_site(entry.url, own_host):
            continue
        key = _source_key(entry)
        if per.get(key, 0) >= per_source:
            continue
        per[key] = per.get(key, 0) + 1
        seen_urls.add(entry.url)
        chosen.append(entry)
    return tuple(chosen)


def select_issue(
    week: str,
    start: datetime,
    end: datetime,
    articles: Iterable[Article],
    picker: RelatedPicker,
    outside: Iterable[OutsideEntry],
    limits: SelectionLimits,
    *,
    now: datetime,
    own_host: str = "",
    force: bool = False,
) -> Issue | None:
    """The issue of ``week``, or ``None`` when the week has no stories (unless ``force``)."""
    stories = week_articles(articles, start, end, now)[: limits.max_stories]
    if not stories and not force:
        return None
    blocks = related_blocks(stories, picker, limits.related_count, start)
    return Issue(
        week=week,
        start=start,
        end=end,
        stories=tuple(IssueStory(article, related) for article, related in zip(stories, blocks, strict=True)),
        around_the_web=around_the_web(outside, limits.around_the_web, limits.around_the_web_per_source, own_host),
    )


# --- catch-up after missed send days ---------------------------------------------------------------

CATCH_UP_POLICIES = ("digest", "latest", "each")


@dataclass(frozen=True, slots=True)
class CatchUpPlan:
    """What a run sends after missed send days: issues (label, weeks covered) and weeks skipped, with why."""

    send: tuple[tuple[str, tuple[str, ...]], ...]
    skipped: tuple[tuple[str, str], ...]


def plan_catch_up(candidates: Sequence[str], non_empty: AbstractSet[str], policy: str) -> CatchUpPlan:
    """Decide which of the weeks due since the last issue (oldest first) go out, and how.

    Empty weeks are skipped whatever the policy. Of the rest, ``each`` sends
    every week's issue in order, ``latest`` only the newest, and ``digest``
    one issue (labelled with the newest week) covering them all, so no week
    with stories is ever dropped silently: each skipped week has a reason.
    """
    if policy not in CATCH_UP_POLICIES:
        raise InvalidArgumentError(f"unknown catch-up policy {policy!r}")
    skipped = [(week, "no stories published that week") for week in candidates if week not in non_empty]
    weeks = [week for week in candidates if week in non_empty]
    send: list[tuple[str, tuple[str, ...]]] = []
    if policy == "each" or len(weeks) <= 1:
        send = [(week, (week,)) for week in weeks]
    elif policy == "latest":
        send = [(weeks[-1], (weeks[-1],))]
        skipped += [(week, f"missed; catch_up = 'latest' sends only {weeks[-1]}") for week in weeks[:-1]]
    else:
        send = [(weeks[-1], tuple(weeks))]
    skipped.sort()
    return CatchUpPlan(tuple(send), tuple(skipped))


def digest_issue(issues: Sequence[Issue]) -> Issue:
    """One "what you missed" issue of several weeks' issues (oldest first): newest week's stories first.

    It carries the newest week's label (the ledger's key) and spans from the
    first week's start to the last one's end, so its dates say what it covers.
    """
    if not issues:
        raise InvalidArgumentError("a digest needs at least one issue")
    newest_first = list(reversed(issues))
    return Issue(
        week=issues[-1].week,
        start=issues[0].start,
        end=issues[-1].end,
        stories=tuple(story for issue in newest_first for story in issue.stories),
        around_the_web=issues[-1].around_the_web,
    )
