"""The files of an issue on disk, and the archive of past issues.

``public/newsletter/YYYY-Www/`` holds ``index.html`` (the web copy),
``email.html``, ``email.txt``, ``message.eml`` and ``issue.json``. The
archive page and its RSS feed are rebuilt from every ``issue.json`` found, so
they list each issue ever built into this folder, and nothing else. Nothing
written depends on the clock: building the same week twice gives the same bytes.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from feedgen.feed import FeedGenerator

from ..atomicfile import write_atomic
from ..config import Config
from ..model import Issue, Problem, RenderedIssue, Severity
from .render import archive_base_url, week_range_label
from .weeks import parse_week

ISSUE_FILES = ("index.html", "email.html", "email.txt", "message.eml", "issue.json")
ISSUE_JSON_VERSION = 1


def issue_record(issue: Issue, rendered: RenderedIssue, config: Config, due: datetime) -> dict[str, Any]:
    """What ``issue.json`` holds: the selection, its related picks and the outside block."""
    return {
        "version": ISSUE_JSON_VERSION,
        "week": issue.week,
        "start": issue.start.isoformat(),
        "end": issue.end.isoformat(),
        "due": due.isoformat(),
        "subject": rendered.subject,
        "preheader": rendered.preheader,
        "url": archive_base_url(config) + issue.week + "/",
        "stories": [
            {
                "slug": story.article.slug,
                "id": story.article.id,
                "title": story.article.title,
                "url": story.article.url,
                "published": story.article.published.isoformat(),
                "featured": story.article.featured,
                "lead": index == 0,
                "related": [
                    {"slug": pick.slug, "title": pick.title, "url": pick.url, "editor_pick": pick.editor_pick}
                    for pick in story.related
                ],
            }
            for index, story in enumerate(issue.stories)
        ],
        "around_the_web": [
            {
                "id": entry.id,
                "title": entry.title,
                "url": entry.url,
                "source": entry.source_title,
                "source_url": entry.source_url,
                "published": entry.published.isoformat(),
            }
            for entry in issue.around_the_web
        ],
    }


def issue_json(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """A past issue as the archive page and feed show it."""

    week: str
    number: int
    year: int
    dates: str
    subject: str
    preheader: str
    url: str
    due: datetime
    stories: tuple[dict[str, str], ...]


def read_archive(newsletter_dir: Path) -> tuple[list[ArchiveEntry], list[Problem]]:
    """Every issue under ``newsletter_dir`` (newest first); unreadable ``issue.json`` files are reported, not fatal."""
    entries: list[ArchiveEntry] = []
    problems: list[Problem] = []
    if not newsletter_dir.is_dir():
        return entries, problems
    for path in sorted(newsletter_dir.glob("*/issue.json")):
        try:
            parse_week(path.parent.name)
            data = json.loads(path.read_text(encoding="utf-8"))
            start, end = datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"])
            year, number = parse_week(data["week"])
            entries.append(
                ArchiveEntry(
                    week=data["week"],
                    number=number,
                    year=year,
                    dates=week_range_label(start, end),
                    subject=str(data["subject"]),
                    preheader=str(data.get("preheader", "")),
                    url=str(data["url"]),
                    due=datetime.fromisoformat(data["due"]),
                    stories=tuple({"title": str(s["title"]), "url": str(s["url"])} for s in data["stories"]),
                )
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(
                Problem(str(path), f"not a readable issue.json, left out of the archive: {exc}", Severity.WARNING)
            )
    entries.sort(key=lambda e: e.week, reverse=True)
    return entries, problems


def render_archive_page(entries: list[ArchiveEntry], config: Config, env: jinja2.Environment) -> str:
    base = archive_base_url(config)
    return env.get_template("newsletter-archive.html.j2").render(
        site={"title": config.site.title, "url": config.site.base_url + "/", "language": config.site.language},
        issues=entries,
        rss_url=base + "rss.xml",
    )


def render_archive_rss(entries: list[ArchiveEntry], config: Config) -> bytes:
    """RSS 2.0 of the issues; lastBuildDate is the newest issue's due time, so reruns give the same bytes."""
    base = archive_base_url(config)
    feed = FeedGenerator()
    feed.title(f"{config.site.title}: the weekly newsletter")
    feed.link(href=base, rel="alternate")
    feed.description(f"Every issue of the {config.site.title} weekly newsletter.")
    feed.language(config.site.language)
    feed.generator("syndicate")
    if entries:
        feed.lastBuildDate(entries[0].due)
    else:
        feed.lastBuildDate(datetime.fromisoformat("1970-01-01T00:00:00+00:00"))
    for archived in reversed(entries):  # feedgen prepends: oldest first puts the newest on top
        item = feed.add_entry()
        item.title(archived.subject)
        item.link(href=archived.url)
        item.guid(archived.url, permalink=True)
        item.pubDate(archived.due)
        lines = "".join(f'<li><a href="{_escape(s["url"])}">{_escape(s["title"])}</a></li>' for s in archived.stories)
        item.description(f"<p>{_escape(archived.preheader)}</p><ul>{lines}</ul>")
    data: bytes = feed.rss_str(pretty=True)
    return data


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def write_files(folder: Path, files: dict[str, bytes | str]) -> list[Path]:
    """Write ``files`` into ``folder`` atomically; return the paths whose bytes changed."""
    changed = []
    for name, data in files.items():
        path = folder / name
        if write_atomic(path, data):
            changed.append(path)
    return changed
