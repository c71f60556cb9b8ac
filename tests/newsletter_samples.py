"""Sample data for the newsletter tests: articles, outside entries, a site with a known week."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import SiteFactory

from syndicate import Article, Author, Image, OutsideEntry, Tag

LONDON = ZoneInfo("Europe/London")
WEEK = "2026-W46"  # Monday 9 November to Sunday 15 November 2026, site time
AFTER_WEEK = datetime(2026, 11, 20, 12, 0, tzinfo=LONDON)
BASE = "https://test.example.org"

NEWSLETTER_CONFIG = """\
[site]
title = "Test Reel"
url = "https://test.example.org"
timezone = "Europe/London"
description = "A test site"

[newsletter]
postal_address = "Test Reel Ltd, 1 Projector Lane, London N1 9AA"
send_weekday = "friday"
send_time = "07:00"
"""

# The week's stories, newest first as published; 'festival-lead' is featured.
WEEK_ARTICLES = {
    "late-review.md": ("Late Review Of A Slow Film", "2026-11-14 18:00", False, "reviews", True),
    "festival-lead.md": ("Festival Opens With A Restored Classic", "2026-11-11 09:00", True, "festivals", True),
    "doc-premiere.md": ("Documentary Premiere Draws A Crowd", "2026-11-12 10:00", False, "documentaries", False),
    "monday-news.md": ("Monday News From The Set", "2026-11-09 08:00", False, "festivals", True),
}


def _markdown(title: str, date: str, featured: bool, tag: str, image: bool, extra: str = "") -> str:
    picture = "image: /img/{slug}.jpg\nimage_alt: A still from the film\n" if image else ""
    return (
        f'---\ntitle: "{title}"\ndate: {date}\nauthor: Jane Doe\ntags: [{tag}, cinema]\n'
        f"featured: {str(featured).lower()}\n{picture}{extra}---\n"
        f"{title}: the first paragraph, about films, festivals and the people who make them.\n"
    )


def newsletter_site(make_site: SiteFactory, config: str = NEWSLETTER_CONFIG) -> Path:
    """A site whose week 2026-W46 has four stories, a draft, and an archive of twelve earlier ones."""
    files: dict[str, str] = {}
    for name, (title, date, featured, tag, image) in WEEK_ARTICLES.items():
        files[name] = _markdown(title, date, featured, tag, image).replace("{slug}", name[:-3])
    files["draft-story.md"] = _markdown(
        "A Draft Nobody Should See", "2026-11-13 09:00", False, "festivals", False, "draft: true\n"
    )
    files["next-week.md"] = _markdown("Next Week Already", "2026-11-17 09:00", False, "festivals", False)
    tags = ("festivals", "documentaries", "reviews")
    for i in range(12):
        day = 1 + i
        files[f"archive-{i:02d}.md"] = _markdown(
            f"Archive Story Number {i}", f"2026-10-{day:02d} 12:00", False, tags[i % 3], False
        )
    return make_site(files, config)


def article(
    slug: str,
    published: datetime,
    *,
    featured: bool = False,
    tags: tuple[str, ...] = ("festivals",),
    title: str | None = None,
    image: bool = False,
    draft: bool = False,
) -> Article:
    url = f"{BASE}/{slug}/"
    return Article(
        id=f"tag:test.example.org,{published.date().isoformat()}:{slug}",
        slug=slug,
        title=title or slug.replace("-", " ").title(),
        url=url,
        published=published,
        source_path=f"content/{slug}.md",
        summary=f"The summary of {slug}.",
        author=Author("Jane Doe", "jane-doe"),
        tags=tuple(Tag(t, t) for t in tags),
        image=Image(f"{BASE}/img/{slug}.jpg", f"Still of {slug}") if image else None,
        featured=featured,
        draft=draft,
    )


def outside(
    n: int, source: str, published: datetime, *, url: str | None = None, summary: str = "<p>Outside news.</p>"
) -> OutsideEntry:
    host = source.lower().replace(" ", "")
    return OutsideEntry(
        id=f"{host}-{n}",
        title=f"{source} story {n}",
        url=url or f"https://{host}.example.net/news/{n}",
        source_title=source,
        source_url=f"https://{host}.example.net/feed.xml",
        published=published,
        first_seen=published,
        summary_html=summary,
    )


def monday(week_start: datetime, days: float = 0) -> datetime:
    return week_start + timedelta(days=days)
