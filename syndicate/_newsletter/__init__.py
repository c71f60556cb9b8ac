"""The weekly newsletter: selecting an issue, rendering it, and sending it.

Contract between the stages (sending relies only on this):

* :func:`prepare_issue` selects and renders the issue of an ISO week and
  returns a :class:`~syndicate._model.RenderedIssue` whose HTML and text carry
  the markers of :mod:`syndicate._newsletter.placeholders`, or ``None`` for an
  empty week.
* :func:`build_issue` does the same and writes the issue's files under
  ``public/newsletter/``, returning a :class:`BuiltIssue`. For a week already
  sent, the files come from the stored rendering (the archive is what was
  sent); any other week is a preview, never listed in the archive.
* :func:`publish_issue` writes a sent issue's archive copy and the archive
  page and RSS from the rendering stored in the send ledger; ``send`` and
  ``run`` call it before the first message leaves. :func:`unpublish_issue`
  takes one down for good.

The flow: :func:`select.select_issue` (pure) picks the stories, their related
blocks and the outside ones; :func:`render.render_issue` turns that into MJML,
HTML and text; :mod:`.checks` looks the result over; :mod:`.archive` writes it.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .._dates import due_at, latest_complete_week, week_window
from .._errors import NewsletterError, SourceError
from .._model import Issue, Problem, RenderedIssue, Severity
from .site_parts import SiteParts

# Rendering (Jinja2, MJML, css-inline), the related engine and the archive writer are imported
# where they are used: `syndicate run` imports this package every cycle, and a cycle with
# nothing due must not pay for loading them (see syndicate._cycle).
if TYPE_CHECKING:
    from .render import RenderOutput


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
        from .checks import GMAIL_CLIP_BYTES

        return self.sizes["email.html"] / GMAIL_CLIP_BYTES


def default_week(site: SiteParts, now: datetime | None = None) -> str:
    """The week ``build`` makes when none is given: the latest complete week in the site's timezone."""
    return latest_complete_week(now or datetime.now(UTC), site.config.site.tz)


def select_week(site: SiteParts, week: str, *, now: datetime | None = None, force: bool = False) -> Issue | None:
    """The :class:`Issue` of ``week`` from the site's collection, related index and outside stream.

    Everything is judged as of the end of the week (or ``now``, if earlier),
    so rebuilding a past week later gives the same issue.
    """
    from .._related import build_related_index
    from .._sources import merged_stream
    from .select import SelectionLimits, select_issue

    config = site.config
    start, end = week_window(week, config.site.tz)
    as_of = min(now or datetime.now(UTC), end)
    collection = site.collection
    settings = config.newsletter
    try:
        outside = merged_stream(config, site.store, start, end)
    except SourceError:
        # A broken source list costs the issue its "Around the web" block, not the whole issue
        # (fetch and check report the list's problem).
        outside = []
    return select_issue(
        week,
        start,
        end,
        collection.articles,
        build_related_index(collection, config.related, as_of, cache=site.store.related_features),
        outside,
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


def render_site_issue(site: SiteParts, issue: Issue) -> tuple[RenderedIssue, list[Problem]]:
    """Render ``issue`` with the site's templates and run the checks over it."""
    from .checks import check_rendered
    from .render import default_environment, render_issue

    output = render_issue(issue, site.config, default_environment(site.config))
    problems = check_rendered(
        output.email_html, output.email_text, output.web_html, output.inline_css, output.story_links, issue.week
    )
    return _rendered(issue, output), problems


def prepare_issue(site: SiteParts, week: str, *, now: datetime | None = None) -> RenderedIssue | None:
    """The rendered issue of ``week``, or ``None`` for a week without stories."""
    issue = select_week(site, week, now=now)
    if issue is None:
        return None
    rendered, _ = render_site_issue(site, issue)
    return rendered


def build_issue(
    site: SiteParts,
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
    from . import archive, placeholders
    from .sample_message import sample_message

    config = site.config
    if week in archive.ArchiveState.load(config.state_dir).unpublished:
        raise NewsletterError(
            f"{week} was unpublished (`newsletter unpublish`): it is not built into the archive again"
        )
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
    if site.store.ledger.rendered(week) is not None:
        # Sent (or being sent): the files are the stored rendering, never a new one.
        published = publish_issue(site, week, now=now or datetime.now(UTC), out_dir=out_dir)
        if published is not None:
            rendered = published.rendered
    files: dict[str, bytes | str] = {
        "index.html": rendered.web_html,
        "email.html": placeholders.published(rendered.html),  # the same bytes from every build
        "email.txt": placeholders.published(rendered.text),
        "message.eml": sample_message(config, rendered, due),
    }
    if archive.read_published_record(folder) is None:
        files["issue.json"] = archive.issue_json(archive.issue_record(issue, rendered, config, due))
    written = archive.write_files(folder, files)
    written += refresh_archive(site, out_dir=out_dir, now=now, problems=problems)
    paths = {name: folder / name for name in files}
    paths["archive"] = newsletter_dir / "index.html"
    paths["rss"] = newsletter_dir / "rss.xml"
    sizes = {name: len(data.encode("utf-8") if isinstance(data, str) else data) for name, data in files.items()}
    return BuiltIssue(issue, rendered, folder, paths, sizes, written, problems)


@dataclass
class PublishedIssue:
    """A sent issue's archive copy: where it is and which files changed."""

    week: str
    rendered: RenderedIssue
    folder: Path
    written: list[Path] = field(default_factory=list)


def refresh_archive(
    site: SiteParts,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
    problems: list[Problem] | None = None,
) -> list[Path]:
    """Rewrite the archive page and RSS from the published issues; return the files that changed."""
    from . import archive
    from .render import default_environment

    config = site.config
    newsletter_dir = (Path(out_dir).resolve() if out_dir else config.output_dir) / "newsletter"
    entries, archive_problems = archive.read_archive(newsletter_dir, now)
    if problems is not None:
        problems.extend(archive_problems)
    return archive.write_files(
        newsletter_dir,
        {
            "index.html": archive.render_archive_page(entries, config, default_environment(config)),
            "rss.xml": archive.render_archive_rss(entries, config),
        },
    )


def publish_issue(
    site: SiteParts,
    week: str,
    *,
    now: datetime,
    out_dir: str | os.PathLike[str] | None = None,
    covers: list[str] | None = None,
) -> PublishedIssue | None:
    """Write the archive copy of a sent issue from its stored rendering, then the archive page and RSS.

    Only an issue opened in the send ledger is published, and never one
    without stories or dated after ``now`` (it is dated when it is due, or
    when it first went out if that was earlier). ``None`` when the week was
    taken down with :func:`unpublish_issue`. Idempotent: unchanged files are
    not rewritten. ``covers`` names the weeks a catch-up digest stands for.
    """
    from . import archive, placeholders
    from .ledger import issue_from_json
    from .sample_message import sample_message

    config = site.config
    ledger = site.store.ledger
    record, stored = ledger.issue(week), ledger.rendered(week)
    if record is None or stored is None:
        raise NewsletterError(f"{week} has not been sent: only what was sent is published in the archive")
    state = archive.ArchiveState.load(config.state_dir)
    if week in state.unpublished:
        return None
    rendered = issue_from_json(stored)
    if not rendered.story_urls:
        raise NewsletterError(f"{week} has no stories: an empty issue is never published")
    nl = config.newsletter
    dated = min(due_at(week, config.site.tz, nl.send_weekday, nl.send_time), record.opened_at)
    if dated > now:
        raise NewsletterError(
            f"{week} is dated {dated.isoformat()}, after now: not publishing an issue from the future"
        )
    if covers is not None and len(covers) > 1:
        state.covers[week] = covers
        state.save(config.state_dir)
    weeks = state.covers.get(week, [week])
    newsletter_dir = (Path(out_dir).resolve() if out_dir else config.output_dir) / "newsletter"
    folder = newsletter_dir / week
    files: dict[str, bytes | str] = {
        "index.html": rendered.web_html,
        "email.html": placeholders.published(rendered.html),  # never this process's random markers
        "email.txt": placeholders.published(rendered.text),
        "message.eml": sample_message(config, rendered, dated),
    }
    existing = archive.read_published_record(folder)
    if existing is None or existing.get("subject") != rendered.subject or existing.get("covers") != weeks:
        titles = {article.url: article.title for article in site.collection.articles}
        start, _ = week_window(weeks[0], config.site.tz)
        _, end = week_window(weeks[-1], config.site.tz)
        stories = [{"title": titles.get(url, url), "url": url} for url in rendered.story_urls]
        files["issue.json"] = archive.issue_json(
            archive.published_record(rendered, config, start=start, end=end, dated=dated, stories=stories, covers=weeks)
        )
    written = archive.write_files(folder, files)
    written += refresh_archive(site, out_dir=out_dir, now=now)
    return PublishedIssue(week, rendered, folder, written)


def unpublish_issue(site: SiteParts, week: str, *, out_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Take a published issue down: remove its folder, rewrite the archive, and keep it down.

    Returns the paths removed. The week is remembered, so neither ``run`` nor
    ``send`` nor ``build`` publishes it again; the send ledger is untouched.
    """
    from . import archive

    config = site.config
    state = archive.ArchiveState.load(config.state_dir)
    folder = (Path(out_dir).resolve() if out_dir else config.output_dir) / "newsletter" / week
    if week not in state.unpublished:
        state.unpublished.append(week)
        state.save(config.state_dir)
    removed = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_file():
                path.unlink()
                removed.append(path)
        with contextlib.suppress(OSError):
            folder.rmdir()
    refresh_archive(site, out_dir=out_dir)
    return removed


__all__ = [
    "BuiltIssue",
    "PublishedIssue",
    "build_issue",
    "default_week",
    "prepare_issue",
    "publish_issue",
    "refresh_archive",
    "render_site_issue",
    "select_week",
    "unpublish_issue",
]
