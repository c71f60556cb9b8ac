"""``site.newsletter``: the weekly issue's verbs (build, preview, send, due, unpublish) and their results.

Each verb is what one ``syndicate newsletter ...`` command does, so a Python
user can do it without copying CLI code; each result has the ``as_json()``
shape that command's ``--json`` prints.

>>> site = Site.open("path/to/site")                       # doctest: +SKIP
>>> due = site.newsletter.due()                             # doctest: +SKIP
>>> built = site.newsletter.build(week=due.week)            # doctest: +SKIP
>>> report = site.newsletter.send(dry_run=True)             # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._dates import due_at, due_week, next_due, parse_week
from .._errors import NewsletterError
from .._newsletter import BuiltIssue, build_issue, default_week, unpublish_issue
from .._newsletter.report import Progress, SendReport

if TYPE_CHECKING:
    from . import Site

NO_STORIES = "no stories published that week"


@dataclass
class IssueBuild:
    """What ``site.newsletter.build`` (or ``preview``) did for one week.

    ``built`` is ``None`` when the week had no stories and nothing was
    written (``force=True`` builds one anyway); ``due`` is when the week's
    issue is (or was) due to be sent.
    """

    week: str
    due: datetime
    built: BuiltIssue | None

    @property
    def file_sizes(self) -> dict[str, int]:
        """Each file's size in bytes, by name (the issue's files and the archive page and RSS)."""
        if self.built is None:
            return {}
        return {
            name: self.built.sizes.get(name, path.stat().st_size if path.exists() else 0)
            for name, path in self.built.paths.items()
        }

    def as_json(self) -> dict[str, Any]:
        from .._newsletter.checks import GMAIL_CLIP_BYTES  # lxml loads only when an issue is reported

        built = self.built
        if built is None:
            return {"week": self.week, "issue": None, "reason": NO_STORIES}
        return {
            "week": built.issue.week,
            "subject": built.rendered.subject,
            "preheader": built.rendered.preheader,
            "due": self.due.isoformat(),
            "stories": [
                {"slug": s.article.slug, "title": s.article.title, "related": [p.slug for p in s.related]}
                for s in built.issue.stories
            ],
            "around_the_web": len(built.issue.around_the_web),
            "folder": str(built.folder),
            "paths": {name: str(path) for name, path in built.paths.items()},
            "sizes": built.sizes,
            "gmail_clip_bytes": GMAIL_CLIP_BYTES,
            "written": [str(p) for p in built.written],
            "problems": [p.as_json() for p in built.problems],
        }


@dataclass(frozen=True)
class DueIssue:
    """Which week's issue is due at ``now``, since when, how far its send got, and when the next one is due.

    ``started``: the send run opened the issue (its audience is fixed in the
    ledger); ``finished``: every recipient has an outcome.
    """

    week: str
    due_at: datetime
    started: bool
    finished: bool
    next_due_at: datetime
    now: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "due": self.due_at.isoformat(),
            "started": self.started,
            "finished": self.finished,
            "next_due": self.next_due_at.isoformat(),
            "now": self.now.isoformat(),
        }


@dataclass
class UnpublishResult:
    """The files ``site.newsletter.unpublish`` removed from the web archive."""

    week: str
    removed: list[Path] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"week": self.week, "removed": [str(p) for p in self.removed]}


def normalize_week(week: str) -> str:
    """``"2026-w7 "`` -> ``"2026-W07"``: the one spelling the ledger and the archive use.

    Raises :class:`~syndicate._errors.NewsletterError` for anything that is not an ISO week.
    """
    try:
        year, number = parse_week(week.upper())
    except ValueError as exc:
        raise NewsletterError(str(exc)) from None
    return f"{year}-W{number:02d}"


class SiteNewsletter:
    """The weekly newsletter of one site: ``site.newsletter``."""

    def __init__(self, site: Site) -> None:
        self._site = site

    def due(self, now: datetime | None = None) -> DueIssue:
        """The week whose issue is due at ``now`` (default: the clock), when it became due, and how far its send got.

        An issue becomes due at ``[newsletter] send_weekday`` and ``send_time``
        (site time) after its week ends; the due week is the latest such week.
        """
        config = self._site.config
        moment = now or datetime.now(UTC)
        nl, tz = config.newsletter, config.site.tz
        week = due_week(moment, tz, nl.send_weekday, nl.send_time)
        record = self._site.store.ledger.issue(week)
        return DueIssue(
            week=week,
            due_at=due_at(week, tz, nl.send_weekday, nl.send_time),
            started=record is not None,
            finished=record is not None and record.completed_at is not None,
            next_due_at=next_due(config, moment),
            now=moment,
        )

    def due_at(self, week: str) -> datetime:
        """When the issue of ``week`` becomes (or became) due."""
        config = self._site.config
        nl = config.newsletter
        return due_at(normalize_week(week), config.site.tz, nl.send_weekday, nl.send_time)

    def build(
        self,
        week: str | None = None,
        *,
        now: datetime | None = None,
        out_dir: str | os.PathLike[str] | None = None,
        force: bool = False,
    ) -> IssueBuild:
        """Select, render, check and write a week's issue (default: the latest complete week) and the archive.

        Files go to ``<out_dir>/newsletter/<week>/`` (default ``[feeds]
        output_dir``). A week without stories writes nothing (``built`` is
        ``None``) unless ``force``. A week already sent is rewritten from the
        rendering stored when it went out; any other week is a preview.
        """
        label = normalize_week(week) if week else default_week(self._site, now)
        built = build_issue(self._site, label, now=now, out_dir=out_dir, force=force)
        return IssueBuild(label, self.due_at(label), built)

    def preview(
        self,
        week: str | None = None,
        *,
        out_dir: str | os.PathLike[str] | None = None,
        now: datetime | None = None,
        force: bool = False,
    ) -> IssueBuild:
        """Build the issue as :meth:`build` does, for looking at (``out_dir`` keeps it out of the public folder).

        The result's :attr:`IssueBuild.file_sizes` gives each file's size.
        """
        return self.build(week, now=now, out_dir=out_dir, force=force)

    def send(
        self,
        week: str | None = None,
        *,
        dry_run: bool = False,
        out_dir: str | os.PathLike[str] | None = None,
        test_address: str | None = None,
        limit: int | None = None,
        now: datetime | None = None,
        progress: Progress | None = None,
    ) -> SendReport:
        """Send the due issue (or ``week``'s, now) to each subscriber exactly once.

        ``dry_run`` writes each message as an ``.eml`` file (into ``out_dir``,
        default ``.syndicate/outbox/<week>/``) and records nothing;
        ``test_address`` sends one copy there and records nothing; ``limit``
        caps this run's messages; ``progress(done, total)`` is called as it
        goes. Raises :class:`~syndicate._errors.LockedError` when another send
        holds the lock.
        """
        from .._newsletter.send import send_newsletter  # the send machinery loads only when a send runs

        return send_newsletter(
            self._site,
            week=normalize_week(week) if week else None,
            now=now,
            dry_run=dry_run,
            dry_run_dir=Path(out_dir) if out_dir else None,
            test_address=test_address,
            limit=limit,
            progress=progress,
        )

    def unpublish(self, week: str) -> UnpublishResult:
        """Take a published issue out of the web archive and its RSS for good (the send ledger is untouched)."""
        label = normalize_week(week)
        return UnpublishResult(label, unpublish_issue(self._site, label))


__all__ = ["DueIssue", "IssueBuild", "SiteNewsletter", "UnpublishResult", "normalize_week"]
