"""``syndicate fetch`` and ``syndicate sources add|list|import|export``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .._errors import DuplicateSourceError, SourceListError
from .._sources import FetchReport, ProgressCallback, SourceResult
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


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


_STATUS_COLOURS = {"fetched": "green", "not-modified": "green", "waiting": "yellow", "disabled": "red"}


@contextmanager
def fetch_progress(show: bool = True) -> Iterator[ProgressCallback | None]:
    """A progress callback drawing a bar on stderr while the block runs (None when not shown)."""
    if not show:
        yield None
        return
    with Progress(
        TextColumn("fetching"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def advance(result: SourceResult, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=result.source.title[:40])

        yield advance


def print_fetch_report(report: FetchReport) -> None:
    """The per-source table and a one-line summary."""
    table = Table("source", "status", "entries", "new", "problem", title="Outside feeds")
    for r in report.results:
        colour = "red" if r.failed else _STATUS_COLOURS.get(r.status, "white")
        problem = r.outcome.error if r.outcome and r.outcome.error else "; ".join(r.problems)
        if r.outcome is None and r.health is not None and r.health.next_attempt:
            problem = f"backing off until {_when(r.health.next_attempt)} UTC"
        table.add_row(r.source.title, f"[{colour}]{r.status}[/{colour}]", str(r.entries), str(r.new_entries), problem)
    console.print(table)
    for old, new in report.moved:
        console.print(f"moved permanently: {old} -> {new} (sources.opml updated)")
    console.print(
        f"{report.new_entries} new stories from {len(report.results)} sources, {len(report.failed)} failed, "
        f"{report.pruned} old stories pruned ({report.seconds:.2f} s)."
    )


@click.command(
    epilog=examples(
        "syndicate fetch",
        "syndicate fetch --force            # also sources that are backing off",
        "syndicate fetch --json | jq '.failed[]'",
    )
)
@site_option
@click.option("--force", is_flag=True, help="Fetch sources that are backing off too (never those gone, 410).")
@json_option
@handle_errors
def fetch(site_dir: str, force: bool, as_json: bool) -> None:
    """Fetch the outside feeds of feeds/sources.opml and store their new stories.

    Requests are conditional (ETag, Last-Modified), concurrent within
    [sources] concurrency and per_host, and limited in time and size. A
    failing source backs off and never stops the others: their stories still
    arrive, and the exit code is 4 when any source failed.
    """
    with open_site(site_dir) as site, fetch_progress(show=not as_json) as progress:
        report = site.fetch(force=force, progress=progress)
    if as_json:
        print_json(report.as_json())
    else:
        print_fetch_report(report)
    if report.failed:
        sys.exit(ExitCode.PARTIAL)


@click.group(epilog=examples("syndicate sources list", "syndicate sources add https://example.com/feed.xml"))
def sources() -> None:
    """Manage the outside feeds listed in feeds/sources.opml."""


@sources.command("list", epilog=examples("syndicate sources list", "syndicate sources list --json"))
@site_option
@json_option
@handle_errors
def list_(site_dir: str, as_json: bool) -> None:
    """Show every source with its health: last success, last error, failures, next attempt."""
    with open_site(site_dir) as site:
        report = site.sources.health()
    if as_json:
        print_json([status.as_json() for status in report.sources])  # a bare list, as before as_json() existed
        return
    # URLs only fit a wide terminal; `--json` always has them.
    wide = console.width >= 140
    table = Table(title="Sources")
    table.add_column("source", no_wrap=True)
    if wide:
        table.add_column("url", overflow="fold")
    table.add_column("stories", justify="right")
    table.add_column("last success", no_wrap=True)
    table.add_column("last error", min_width=24, ratio=1)
    table.add_column("failures", justify="right")
    table.add_column("next attempt", no_wrap=True)
    for status in report.sources:
        s, h = status.source, status.health
        error = "[red]disabled (410 Gone)[/red]" if h.disabled else h.last_error
        cells = [
            s.title,
            str(status.stored_entries),
            _when(h.last_success),
            error,
            str(h.failures),
            _when(h.next_attempt) or ("" if h.disabled else "now"),
        ]
        if wide:
            cells.insert(1, s.url)
        table.add_row(*cells)
    console.print(table)
    console.print(f"{len(report.sources)} sources in {report.opml} (times in UTC).")


@contextmanager
def bad_source_is_bad_parameter(param_hint: str) -> Iterator[None]:
    """A change ``site.sources`` refused as a usage error (exit 2) about ``param_hint``."""
    try:
        yield
    except DuplicateSourceError as exc:
        raise click.BadParameter(f"{exc.url} is {exc.reason}", param_hint=param_hint) from None
    except SourceListError as exc:
        raise click.BadParameter(str(exc), param_hint=param_hint) from None


@sources.command(
    epilog=examples(
        "syndicate sources add https://variety.example/feed --title Variety --weight 2",
        "syndicate sources add feeds/snapshots/festival-wire.xml --keywords festival,premiere",
    )
)
@site_option
@click.argument("url")
@click.option("--title", help="Display name (default: the URL).")
@click.option("--html-url", default="", help="The source's web site.")
@click.option("--category", default="", help="Category, e.g. 'trade press'.")
@click.option("--weight", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Which copy of a duplicate story wins: the higher weight.")  # fmt: skip
@click.option("--max-items", type=click.IntRange(min=1), help="Most stories of this source per window.")
@click.option("--keywords", default="", help="Comma-separated: keep only stories mentioning one.")
@handle_errors
def add(
    site_dir: str,
    url: str,
    title: str | None,
    html_url: str,
    category: str,
    weight: float,
    max_items: int | None,
    keywords: str,
) -> None:
    """Add a feed URL (or a path relative to the site) to feeds/sources.opml."""
    with open_site(site_dir) as site, bad_source_is_bad_parameter("URL"):
        added = site.sources.add(
            url,
            title=title,
            html_url=html_url,
            category=category,
            weight=weight,
            max_items=max_items,
            keywords=keywords.split(","),
        )
    console.print(f"added {added.source.title} ({added.source.url}) to {added.opml}")


@sources.command(
    epilog=examples(
        "syndicate sources remove https://variety.example/feed",
        "syndicate sources remove feeds/snapshots/festival-wire.xml --json",
    )
)
@site_option
@click.argument("url")
@json_option
@handle_errors
def remove(site_dir: str, url: str, as_json: bool) -> None:
    """Take a feed URL off feeds/sources.opml; its stored stories are no longer merged and age out."""
    with open_site(site_dir) as site, bad_source_is_bad_parameter("URL"):
        removed = site.sources.remove(url)
    if as_json:
        print_json(removed.as_json())
    else:
        console.print(f"removed {removed.source.title} ({removed.source.url}) from {removed.opml}")


@sources.command("import", epilog=examples("syndicate sources import ~/Downloads/subscriptions.opml"))
@site_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@handle_errors
def import_(site_dir: str, file: Path, as_json: bool) -> None:
    """Add every feed of an OPML file (from any feed reader) not already listed."""
    with open_site(site_dir) as site:
        imported = site.sources.import_opml(file)
    if as_json:
        print_json(imported.as_json())
    else:
        console.print(
            f"imported {len(imported.added)} sources into {imported.opml} ({imported.already_listed} already listed)"
        )


@sources.command(
    epilog=examples("syndicate sources export > subscriptions.opml", "syndicate sources export -o out.opml")
)
@site_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
@handle_errors
def export(site_dir: str, output: Path | None) -> None:
    """Print the sources as OPML 2.0, for any feed reader to import."""
    with open_site(site_dir) as site:
        data = site.sources.export_opml(to=output)
    if not output:
        click.echo(data.decode("utf-8"), nl=False)


__all__ = ["fetch", "sources"]
