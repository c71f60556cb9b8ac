"""Selecting a week's issue: pure, fed with articles, a related picker and outside entries."""

from __future__ import annotations

from collections.abc import Collection as AbstractSet
from datetime import datetime, timedelta

from newsletter_samples import LONDON, article, outside

from syndicate import Article, Collection, RelatedPick
from syndicate._config import RelatedConfig
from syndicate._dates import week_window
from syndicate._newsletter.select import SelectionLimits, around_the_web, select_issue, week_articles
from syndicate._related import build_related_index

START, END = week_window("2026-W46", LONDON)
NOW = END + timedelta(days=3)


def day(n: float, hour: int = 12) -> datetime:
    return START + timedelta(days=n, hours=hour)


def archive(count: int = 15) -> list[Article]:
    return [article(f"old-{i:02d}", START - timedelta(days=i + 1), tags=("festivals",)) for i in range(count)]


def test_lead_is_the_featured_story_then_newest_first() -> None:
    stories = [
        article("a", day(0)),
        article("b", day(2), featured=True),
        article("c", day(4)),
        article("d", day(6, 23)),
        article("draft", day(3), draft=True),
        article("before", START - timedelta(minutes=1)),
        article("after", END),
    ]
    assert [a.slug for a in week_articles(stories, START, END, NOW)] == ["b", "d", "c", "a"]


def test_without_a_featured_story_the_newest_leads_and_ties_break_by_slug() -> None:
    stories = [article("zeta", day(1)), article("alpha", day(1)), article("newest", day(5))]
    assert [a.slug for a in week_articles(stories, START, END, NOW)] == ["newest", "alpha", "zeta"]


def test_the_newest_of_several_featured_stories_leads() -> None:
    stories = [article("f1", day(1), featured=True), article("f2", day(3), featured=True), article("x", day(5))]
    assert [a.slug for a in week_articles(stories, START, END, NOW)] == ["f2", "x", "f1"]


def test_stories_after_now_are_left_out() -> None:
    stories = [article("early", day(1)), article("scheduled", day(5))]
    assert [a.slug for a in week_articles(stories, START, END, day(3))] == ["early"]


def test_known_week_yields_those_stories_each_with_three_related_none_in_the_issue() -> None:
    week = [article(f"week-{i}", day(i)) for i in range(4)]
    everything = week + archive()
    index = build_related_index(Collection(everything), RelatedConfig(), END)
    issue = select_issue("2026-W46", START, END, everything, index, [], SelectionLimits(), now=NOW)
    assert issue is not None
    assert {s.article.slug for s in issue.stories} == {a.slug for a in week}
    in_issue = {s.article.slug for s in issue.stories}
    picked: list[str] = []
    for story in issue.stories:
        assert len(story.related) == 3
        assert not {p.slug for p in story.related} & in_issue
        picked += [p.slug for p in story.related]
    assert len(picked) == len(set(picked)), "a related story is repeated across blocks"
    assert all(slug.startswith("old-") for slug in picked), "related picks come from earlier weeks"


def test_max_stories_caps_the_issue_keeping_the_lead() -> None:
    week = [article(f"week-{i}", day(i)) for i in range(6)] + [article("lead", day(0), featured=True)]
    index = build_related_index(Collection(week + archive(30)), RelatedConfig(), END)
    limits = SelectionLimits(max_stories=3)
    issue = select_issue("2026-W46", START, END, week, index, [], limits, now=NOW)
    assert issue is not None
    assert [s.article.slug for s in issue.stories] == ["lead", "week-5", "week-4"]


class SloppyPicker:
    """An index that ignores ``exclude`` and ``before``: selection must still keep the rules."""

    def __init__(self, pool: list[Article]) -> None:
        self.pool = pool
        self.calls: list[datetime | None] = []

    def picks(
        self, article: Article, k: int = 5, exclude: AbstractSet[str] = (), before: datetime | None = None
    ) -> list[RelatedPick]:
        self.calls.append(before)
        return [RelatedPick(a.slug, a.title, a.url, 1.0) for a in self.pool if a.slug != article.slug][: k + 4]


def test_selection_enforces_exclusions_even_if_the_index_does_not() -> None:
    week = [article(f"week-{i}", day(i)) for i in range(3)]
    picker = SloppyPicker(week + archive(12))
    issue = select_issue("2026-W46", START, END, week, picker, [], SelectionLimits(related_count=3), now=NOW)
    assert issue is not None
    seen: set[str] = set()
    for story in issue.stories:
        slugs = {p.slug for p in story.related}
        assert len(slugs) == 3 and not slugs & {a.slug for a in week} and not slugs & seen
        seen |= slugs
    assert picker.calls[0] == START, "the index is asked to prefer stories before the week"


def test_young_archive_fills_related_from_any_time() -> None:
    week = [article("only", day(1))]
    later = [article(f"later-{i}", END + timedelta(days=i)) for i in range(3)]
    everything = week + later
    index = build_related_index(Collection(everything), RelatedConfig(), END + timedelta(days=10))
    issue = select_issue("2026-W46", START, END, everything, index, [], SelectionLimits(), now=NOW)
    assert issue is not None
    assert len(issue.stories[0].related) == 3


def test_empty_week_gives_no_issue_unless_forced() -> None:
    old = archive(5)
    index = build_related_index(Collection(old), RelatedConfig(), END)
    assert select_issue("2026-W46", START, END, old, index, [], SelectionLimits(), now=NOW) is None
    forced = select_issue(
        "2026-W46", START, END, old, index, [outside(1, "Trade", day(1))], SelectionLimits(), now=NOW, force=True
    )
    assert forced is not None and forced.stories == () and len(forced.around_the_web) == 1


def test_around_the_web_caps_per_source_and_in_total_in_stream_order() -> None:
    stream = [outside(i, "Trade Daily", day(6 - i / 10)) for i in range(5)]
    stream += [outside(i, "Film Weekly", day(5 - i / 10)) for i in range(5)]
    stream += [outside(i, "Cine Blog", day(4 - i / 10)) for i in range(5)]
    chosen = around_the_web(stream, total=5, per_source=2)
    assert [e.id for e in chosen] == ["tradedaily-0", "tradedaily-1", "filmweekly-0", "filmweekly-1", "cineblog-0"]


def test_around_the_web_drops_links_to_our_own_site_bad_schemes_and_repeats() -> None:
    stream = [
        outside(1, "Trade", day(1), url="https://test.example.org/our-story/"),
        outside(2, "Trade", day(1), url="javascript:alert(1)"),
        outside(3, "Trade", day(1), url="https://elsewhere.example.net/a"),
        outside(4, "Other", day(1), url="https://elsewhere.example.net/a"),
    ]
    chosen = around_the_web(stream, total=10, per_source=5, own_host="test.example.org")
    assert [e.id for e in chosen] == ["trade-3"]
