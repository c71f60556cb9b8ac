"""``syndicate newsletter ...``: build, preview and send the weekly issue."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape
from rich.table import Table

from .._dates import parse_date
from .._errors import NewsletterError
from .._site.newsletter import IssueBuild, normalize_week
from .check_dns import check_dns_command
from .common import (
    ExitCode,
    console,
    err_console,
    examples,
    handle_errors,
    json_option,
    open_site,
    print_json,
    site_option,
)
from .send import send

F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def newsletter() -> None:
    """Assemble, preview and send the weekly email newsletter."""


def _week(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalize_week(value)
    except NewsletterError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None


def _issue_options(function: F) -> F:
    """The options ``build`` and ``preview`` share."""
    for option in reversed(
        [
            site_option,
            click.option("--week", metavar="YYYY-Www", help="ISO week, site timezone (default: latest complete week)."),
            click.option(
                "--out",
                "out_dir",
                type=click.Path(file_okay=False, path_type=Path),
                help="Output root (default: [feeds] output_dir); files go to <out>/newsletter/<week>/.",
            ),
            click.option("--force", is_flag=True, help="Build an issue even for a week without stories."),
            click.option("--strict", is_flag=True, help="Exit 1 if any check warns (size, alt text, links...)."),
            click.option("--now", "now_text", metavar="DATETIME", help="Act as of this moment (ISO 8601)."),
            json_option,
        ]
    ):
        function = option(function)
    return function


def _run(
    site_dir: str,
    week_text: str | None,
    out_dir: Path | None,
    force: bool,
    strict: bool,
    now_text: str | None,
    as_json: bool,
    detailed: bool,
) -> None:
    week = _week(week_text)
    with open_site(site_dir) as site:
        try:
            now: datetime | None = parse_date(now_text, site.config.site.tz) if now_text else None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--now") from None
        result = site.newsletter.build(week, now=now, out_dir=out_dir, force=force)
    if as_json:
        print_json(result.as_json())
    elif result.built is None:
        err_console.print(f"No stories were published in {result.week}: no issue built (use --force to build one).")
    else:
        _print_build(result, detailed)
    if result.built is None:
        sys.exit(ExitCode.NOTHING_TO_DO)
    if strict and result.built.problems:
        sys.exit(ExitCode.PROBLEMS)


def _print_build(result: IssueBuild, detailed: bool) -> None:
    built = result.built
    assert built is not None
    for problem in built.problems:
        err_console.print(f"[yellow]warning:[/yellow] {escape(problem.path)}: {escape(problem.message)}")
    stories = len(built.issue.stories)
    console.print(
        f"Newsletter {built.issue.week}: {stories} {'story' if stories == 1 else 'stories'}, "
        f"{len(built.issue.around_the_web)} from around the web; due {result.due.isoformat()}."
    )
    console.print(f"Subject: {built.rendered.subject}", markup=False)
    if not detailed:
        console.print(f"Wrote {built.folder} ({len(built.written)} file(s) changed).")
        return
    table = Table("file", "size", "path")
    sizes = result.file_sizes
    for name, path in built.paths.items():
        table.add_row(name, f"{sizes[name] / 1024:.1f} KB", escape(str(path)))
    console.print(table)
    console.print(
        f"email.html uses {built.clip_margin:.0%} of Gmail's 102 KB clipping limit; "
        f"{len(built.written)} file(s) changed."
    )


@newsletter.command(
    epilog=examples(
        "syndicate newsletter build",
        "syndicate newsletter build --week 2026-W47 --strict",
        "syndicate newsletter build --week 2026-W52 --force --out /tmp/preview --json",
    )
)
@_issue_options
@handle_errors
def build(
    site_dir: str,
    week: str | None,
    out_dir: Path | None,
    force: bool,
    strict: bool,
    now_text: str | None,
    as_json: bool,
) -> None:
    """Build a week's issue into public/newsletter/YYYY-Www/ and update the archive.

    Writes index.html (web copy), email.html, email.txt, message.eml and
    issue.json, and refreshes newsletter/index.html and rss.xml. The archive
    lists only issues that were sent: a week already sent is rewritten from the
    rendering stored when it went out; any other week is a preview, never
    listed (so --force cannot publish an empty or future issue). A week without
    stories builds nothing and exits 5, unless --force.
    """
    _run(site_dir, week, out_dir, force, strict, now_text, as_json, detailed=False)


@newsletter.command(
    epilog=examples(
        "syndicate newsletter preview",
        "syndicate newsletter preview --week 2026-W47 --out /tmp/preview",
    )
)
@_issue_options
@handle_errors
def preview(
    site_dir: str,
    week: str | None,
    out_dir: Path | None,
    force: bool,
    strict: bool,
    now_text: str | None,
    as_json: bool,
) -> None:
    """Build the issue like `build`, then print every file's path and size (opens nothing).

    Open email.html in a browser, or message.eml in a mail client, to look at it.
    """
    _run(site_dir, week, out_dir, force, strict, now_text, as_json, detailed=True)


@newsletter.command(
    epilog=examples(
        "syndicate newsletter unpublish 2026-W46",
        "syndicate newsletter unpublish 2026-W46 --json",
    )
)
@click.argument("week_text", metavar="YYYY-Www")
@site_option
@json_option
@handle_errors
def unpublish(week_text: str, site_dir: str, as_json: bool) -> None:
    """Take a published issue out of the web archive and its RSS, for good.

    Removes public/newsletter/YYYY-Www/ and rewrites the archive page and
    feed; the week is remembered, so no later run, send or build publishes it
    again. What was sent stays in the send ledger (nobody is re-sent it).
    """
    week = _week(week_text)
    assert week is not None
    with open_site(site_dir) as site:
        result = site.newsletter.unpublish(week)
    if as_json:
        print_json(result.as_json())
    else:
        console.print(
            f"Unpublished {result.week}: {len(result.removed)} file(s) removed; "
            "the archive page and RSS no longer list it."
        )


# `syndicate newsletter send` lives in its own module (it is the cron job's command).
newsletter.add_command(send)
newsletter.add_command(check_dns_command)  # DKIM, SPF, DMARC records (cli/check_dns.py)
