"""The files of an issue on disk, and the archive of past issues.

``public/newsletter/YYYY-Www/`` holds ``index.html`` (the web copy),
``email.html``, ``email.txt``, ``message.eml`` and ``issue.json``.

The archive is what was sent: an issue is *published* (its ``issue.json``
says ``"published": true``) only from the rendering stored in the send ledger
when it first went out, so the web copy is byte for byte the HTML the
subscribers got. The archive page and its RSS feed list published issues
only: a preview (``newsletter build`` of a week not sent) writes its files but
is never listed, and an issue without stories or dated after "now" is never
published at all. ``newsletter unpublish`` takes an issue down for good (the
week is remembered in ``.syndicate/newsletter-archive.json`` so no later run
puts it back). Nothing written depends on the clock: the same issue gives the
same bytes.
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

from .._atomicfile import write_atomic
from .._config import Config
from .._dates import parse_week
from .._errors import ArchiveStateError
from .._model import Issue, Problem, RenderedIssue, Severity
from .render import archive_base_url, week_range_label

ISSUE_FILES = ("index.html", "email.html", "email.txt", "message.eml", "issue.json")
ISSUE_JSON_VERSION = 2
ARCHIVE_STATE_FILE = "newsletter-archive.json"


def issue_record(issue: Issue, rendered: RenderedIssue, config: Config, due: datetime) -> dict[str, Any]:
    """What ``issue.json`` holds: the selection, its related picks and the outside block."""
    return {
        "version": ISSUE_JSON_VERSION,
        "published": False,  # a preview; only the stored rendering of a sent issue is published
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


def published_record(
    rendered: RenderedIssue,
    config: Config,
    *,
    start: datetime,
    end: datetime,
    dated: datetime,
    stories: list[dict[str, str]],
    covers: list[str],
) -> dict[str, Any]:
    """``issue.json`` of a published issue: made from the stored rendering, dated when it went out."""
    return {
        "version": ISSUE_JSON_VERSION,
        "published": True,
        "week": rendered.week,
        "covers": covers,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "due": dated.isoformat(),
        "subject": rendered.subject,
        "preheader": rendered.preheader,
        "url": archive_base_url(config) + rendered.week + "/",
        "stories": stories,
    }


def read_published_record(folder: Path) -> dict[str, Any] | None:
    """The ``issue.json`` of ``folder`` if it is a published issue's, else ``None``."""
    try:
        data = json.loads((folder / "issue.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("published") is True else None


@dataclass
class ArchiveState:
    """What the archive remembers besides the files: weeks taken down, and the weeks a digest covers."""

    unpublished: list[str]
    covers: dict[str, list[str]]

    @classmethod
    def load(cls, state_dir: Path) -> ArchiveState:
        try:
            data = json.loads((state_dir / ARCHIVE_STATE_FILE).read_text(encoding="utf-8"))
            return cls(sorted(set(map(str, data.get("unpublished", [])))), dict(data.get("covers", {})))
        except FileNotFoundError:
            return cls([], {})
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise ArchiveStateError(f"{state_dir / ARCHIVE_STATE_FILE}: unreadable archive state: {exc}") from None

    def save(self, state_dir: Path) -> None:
        data = {"unpublished": sorted(set(self.unpublished)), "covers": self.covers}
        write_atomic(state_dir / ARCHIVE_STATE_FILE, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_archive(newsletter_dir: Path, now: datetime | None = None) -> tuple[list[ArchiveEntry], list[Problem]]:
    """Every published issue under ``newsletter_dir`` (newest first); unreadable ones are reported, not fatal.

    Previews, issues without stories and (given ``now``) issues dated after
    it are left out: a feed reader must never see an issue nobody was sent.
    """
    entries: list[ArchiveEntry] = []
    problems: list[Problem] = []
    if not newsletter_dir.is_dir():
        return entries, problems
    for path in sorted(newsletter_dir.glob("*/issue.json")):
        try:
            parse_week(path.parent.name)
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("published") is not True or not data["stories"]:
                continue
            if now is not None and datetime.fromisoformat(data["due"]) > now:
                continue
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
