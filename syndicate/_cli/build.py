"""``syndicate build``, ``check`` and ``import``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from .._dates import parse_date
from .._errors import InvalidArgumentError
from .._model import Problem, Severity
from .._site.content import import_result_json
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
from .sources import fetch_progress

if TYPE_CHECKING:
    from .._build import BuildResult


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        colour = "red" if problem.severity is Severity.ERROR else "yellow"
        err_console.print(f"[{colour}]{escape(str(problem))}[/{colour}]", markup=True)


def _print_build(result: BuildResult) -> None:
    """The human summary of a build (and its fetch, under --fetch)."""
    fetch_report, failed_sources, errors = result.fetch, result.failed_sources, result.errors
    if fetch_report is not None:
        console.print(f"Fetched {len(fetch_report.results)} outside sources: {fetch_report.new_entries} new stories.")
        for r in failed_sources:
            error = r.outcome.error if r.outcome else "failed"
            err_console.print(f"[yellow]warning: source {escape(r.source.url)}: {escape(error)}[/yellow]")
    _print_problems(errors)
    warnings = len(result.problems) - len(errors)
    if result.up_to_date:
        console.print(
            f"Up to date: nothing changed since the last build of {result.feed_sets} feed sets from "
            f"{result.published} published articles into {result.out_dir} ({result.seconds:.2f} s)."
        )
    else:
        console.print(
            f"Built {result.feed_sets} feed sets from {result.published} published articles "
            f"into {result.out_dir}: {len(result.written)} files written, {result.unchanged} unchanged "
            f"({result.seconds:.2f} s)."
        )
    if result.websub:
        told = len({p.url for p in result.websub if p.ok})
        console.print(f"WebSub: told {len({p.hub for p in result.websub})} hub(s) about {told} changed feed(s).")
    if errors:
        console.print(f"{len(errors)} article(s) skipped because of errors (see above).")
    if warnings:
        console.print(f"{warnings} warning(s): run `syndicate check` to see them.")


@click.command(
    epilog=examples(
        "syndicate build",
        "syndicate build --site ~/sites/film --out /var/www/feeds --strict",
        "syndicate build --fetch            # fetch the outside feeds first (the cron job)",
    )
)
@site_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: [feeds] output_dir, 'public').",
)
@click.option("--strict", is_flag=True, help="Exit 1 if any article has an error (broken ones are skipped either way).")
@click.option(
    "--now",
    "now_text",
    metavar="DATETIME",
    help="Build as of this moment (ISO 8601), e.g. to preview scheduled stories.",
)
@click.option(
    "--fetch",
    "fetch_first",
    is_flag=True,
    help="Fetch the outside feeds first (as `syndicate fetch`); failing sources are warnings (exit 4 under --strict).",
)
@json_option
@handle_errors
def build(
    site_dir: str, out_dir: Path | None, strict: bool, now_text: str | None, fetch_first: bool, as_json: bool
) -> None:
    """Write the site's feeds: RSS, Atom and JSON Feed for the site, each tag and each author.

    Broken articles are skipped with a warning naming the file and line; the
    rest of the collection is still published. Unchanged files are not
    rewritten.
    """
    with open_site(site_dir) as site:
        try:
            now = parse_date(now_text, site.config.site.tz) if now_text else None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--now") from None
        with fetch_progress(show=fetch_first and not as_json) as progress:
            result = site.build(out_dir=out_dir, now=now, fetch=fetch_first, progress=progress)
    errors = result.errors
    if as_json:
        print_json(result.as_json())
    else:
        _print_build(result)
    if strict and errors:
        sys.exit(ExitCode.PROBLEMS)
    if strict and result.failed_sources:
        sys.exit(ExitCode.PARTIAL)


@click.command(
    epilog=examples(
        "syndicate check",
        "syndicate check --json | jq '.problems[] | select(.severity == \"error\")'",
    )
)
@site_option
@json_option
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@handle_errors
def check(site_dir: str, as_json: bool, strict: bool) -> None:
    """Report every problem of the config and the articles at once, without writing anything."""
    with open_site(site_dir) as site:
        report = site.check()
    problems, errors = report.problems, report.errors
    if as_json:
        print_json(report.as_json())
    else:
        if problems:
            table = Table("file", "line", "severity", "problem", show_lines=False)
            for problem in problems:
                colour = "red" if problem.severity is Severity.ERROR else "yellow"
                table.add_row(
                    escape(problem.path),
                    str(problem.line or ""),
                    f"[{colour}]{problem.severity.value}[/{colour}]",
                    escape(problem.message),
                )
            console.print(table)
        console.print(f"{report.articles} articles, {len(errors)} errors, {len(problems) - len(errors)} warnings.")
    if errors or (strict and problems):
        sys.exit(ExitCode.PROBLEMS)


@click.command(
    "import",
    epilog=examples(
        "syndicate import desk/festival-wrap.txt --date '2026-11-20 08:00'",
        "syndicate import desk/ --date '2026-11-20 08:00'      # every .txt in the folder",
        "syndicate import desk/wrap.txt --slug lakeshore-wrap --keep",
        "syndicate import desk/*.txt --overwrite",
    ),
)
@site_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--date",
    "date_text",
    metavar="DATETIME",
    help="Publication date (site timezone unless it has an offset). Default: each file's mtime, with a warning.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing content/<slug>.md.")
@click.option("--slug", help="The new article's slug (one file only). Default: made from the headline.")
@click.option(
    "--keep", is_flag=True, help="Leave the originals where they are instead of moving them to content/.imported/."
)
@json_option
@handle_errors
def import_(
    site_dir: str,
    files: tuple[Path, ...],
    date_text: str | None,
    overwrite: bool,
    slug: str | None,
    keep: bool,
    as_json: bool,
) -> None:
    """Convert plain-text CMS articles (files, or folders of .txt files) into Markdown articles in content/.

    Each file's headline, paragraphs, MORE: pointers and related headlines
    become front matter and body, with a permanent id so the feed GUID survives
    later edits; the slug comes from the headline. The closing desk bio becomes
    the author's record in content/authors/<slug>.md (bio, e-mail, handles).
    The original moves to content/.imported/ unless --keep is given.
    """
    with open_site(site_dir) as site:
        try:
            date: datetime | None = parse_date(date_text, site.config.site.tz) if date_text else None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--date") from None
        try:
            results = site.import_plaintext(files, date=date, overwrite=overwrite, slug=slug, keep=keep)
        except InvalidArgumentError as exc:
            raise click.BadParameter(str(exc), param_hint="--slug") from None
    failed = [r for r in results if r.written is None]
    if as_json:
        print_json([import_result_json(r) for r in results])
    else:
        for r in results:
            _print_problems(r.problems)
            if r.written:
                moved = f" (original moved to {r.moved_to})" if r.moved_to else ""
                console.print(f"{r.source} -> {r.written}{moved}")
            for record in r.authors:
                console.print(f"  author record: {record}")
    if failed:
        sys.exit(ExitCode.PROBLEMS)
