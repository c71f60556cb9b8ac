"""The weekly newsletter: selecting an issue, rendering it, and sending it.

Contract between the stages (sending relies only on this):

* :func:`prepare_issue` selects and renders the issue of an ISO week and
  returns a :class:`~syndicate.model.RenderedIssue` whose HTML and text carry
  the markers of :mod:`syndicate.newsletter.placeholders`, or ``None`` for an
  empty week.
* :func:`build_issue` does the same and writes the issue's files and the
  archive under ``public/newsletter/``, returning a :class:`BuiltIssue`.

The flow: :func:`select.select_issue` (pure) picks the stories, their related
blocks and the outside ones; :func:`render.render_issue` turns that into MJML,
HTML and text; :mod:`.checks` looks the result over; :mod:`.archive` writes it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..model import Issue, Problem, RenderedIssue, Severity
from ..related import build_related_index
from ..site import Site
from ..sources import merged_stream
from . import archive, placeholders
from .checks import GMAIL_CLIP_BYTES, check_rendered
from .render import RenderOutput, default_environment, render_issue
from .sample_message import sample_message
from .select import SelectionLimits, select_issue
from .weeks import due_at, latest_complete_week, week_window


@dataclass
class BuiltIssue:
    """What :func:`build_issue` did: the selection, the rendering, the files and the checks."""

    issue: Issue
    rendered: RenderedIssue
    folder: Path
    paths: dict[str, Path]
    sizes: dict[str, int]
    written: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def clip_margin(self) -> float:
        """How much of Gmail's 102 KB clipping limit the email HTML uses (0.5 = half)."""
        return self.sizes["email.html"] / GMAIL_CLIP_BYTES


def default_week(site: Site, now: datetime | None = None) -> str:
    """The week ``build`` makes when none is given: the latest complete week in the site's timezone."""
    return latest_complete_week(now or datetime.now(UTC), site.config.site.tz)


def select_week(site: Site, week: str, *, now: datetime | None = None, force: bool = False) -> Issue | None:
    """The :class:`Issue` of ``week`` from the site's collection, related index and outside stream.

    Everything is judged as of the end of the week (or ``now``, if earlier),
    so rebuilding a past week later gives the same issue.
    """
    config = site.config
    start, end = week_window(week, config.site.tz)
    as_of = min(now or datetime.now(UTC), end)
    collection = site.collection
    settings = config.newsletter
    return select_issue(
        week,
        start,
        end,
        collection.articles,
        build_related_index(collection, config.related, as_of, cache=site.store.related_features),
        merged_stream(config, site.store, start, end),
        SelectionLimits(
            max_stories=settings.max_stories,
            related_count=settings.related_count,
            around_the_web=settings.around_the_web,
            around_the_web_per_source=settings.around_the_web_per_source,
        ),
        now=as_of,
        own_host=config.site.domain.lower(),
        force=force,
    )


def _rendered(issue: Issue, output: RenderOutput) -> RenderedIssue:
    return RenderedIssue(
        week=issue.week,
        subject=output.subject,
        preheader=output.preheader,
        html=output.email_html,
        text=output.email_text,
        web_html=output.web_html,
        story_urls=tuple(story.article.url for story in issue.stories),
    )


def render_site_issue(site: Site, issue: Issue) -> tuple[RenderedIssue, list[Problem]]:
    """Render ``issue`` with the site's templates and run the checks over it."""
    output = render_issue(issue, site.config, default_environment(site.config))
    problems = check_rendered(
        output.email_html, output.email_text, output.web_html, output.inline_css, output.story_links, issue.week
    )
    return _rendered(issue, output), problems


def prepare_issue(site: Site, week: str, *, now: datetime | None = None) -> RenderedIssue | None:
    """The rendered issue of ``week``, or ``None`` for a week without stories."""
    issue = select_week(site, week, now=now)
    if issue is None:
        return None
    rendered, _ = render_site_issue(site, issue)
    return rendered


def build_issue(
    site: Site,
    week: str,
    *,
    now: datetime | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> BuiltIssue | None:
    """Select, render, check and write the issue of ``week`` and the archive; ``None`` for an empty week.

    ``out_dir`` is the output root (default ``[feeds] output_dir``); files go
    to ``<out_dir>/newsletter/<week>/`` and the archive to ``<out_dir>/newsletter/``.
    """
    config = site.config
    issue = select_week(site, week, now=now, force=force)
    if issue is None:
        return None
    rendered, problems = render_site_issue(site, issue)
    if not config.newsletter.postal_address.strip():
        problems.append(
            Problem(
                str(config.root / "syndicate.toml"),
                "[newsletter] postal_address is empty: anti-spam laws (CAN-SPAM, CASL) require a postal "
                "address in the footer of commercial email",
                Severity.WARNING,
            )
        )
    due = due_at(week, config.site.tz, config.newsletter.send_weekday, config.newsletter.send_time)
    root = Path(out_dir).resolve() if out_dir else config.output_dir
    newsletter_dir = root / "newsletter"
    folder = newsletter_dir / week
    files: dict[str, bytes | str] = {
        "index.html": rendered.web_html,
        "email.html": placeholders.published(rendered.html),  # the same bytes from every build
        "email.txt": placeholders.published(rendered.text),
        "message.eml": sample_message(config, rendered, due),
        "issue.json": archive.issue_json(archive.issue_record(issue, rendered, config, due)),
    }
    written = archive.write_files(folder, files)
    entries, archive_problems = archive.read_archive(newsletter_dir)
    problems.extend(archive_problems)
    env = default_environment(config)
    written += archive.write_files(
        newsletter_dir,
        {
            "index.html": archive.render_archive_page(entries, config, env),
            "rss.xml": archive.render_archive_rss(entries, config),
        },
    )
    paths = {name: folder / name for name in files}
    paths["archive"] = newsletter_dir / "index.html"
    paths["rss"] = newsletter_dir / "rss.xml"
    sizes = {name: len(data.encode("utf-8") if isinstance(data, str) else data) for name, data in files.items()}
    return BuiltIssue(issue, rendered, folder, paths, sizes, written, problems)


__all__ = ["BuiltIssue", "build_issue", "default_week", "prepare_issue", "render_site_issue", "select_week"]
