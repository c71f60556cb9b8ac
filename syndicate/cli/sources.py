"""``syndicate fetch`` and ``syndicate sources add|list|import|export``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..atomicfile import write_atomic
from ..model import Source, SourceHealth
from ..site import Site
from ..sources import FetchReport, SourceResult, fetch_sources, list_sources, parse_opml, render_opml
from ..sources.fetch import opml_path
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


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _result_json(result: SourceResult) -> dict[str, Any]:
    outcome = result.outcome
    return {
        "url": result.source.url,
        "title": result.source.title,
        "status": result.status,
        "http_status": outcome.status if outcome else None,
        "failed": result.failed,
        "error": outcome.error if outcome else "",
        "entries": result.entries,
        "new_entries": result.new_entries,
        "problems": result.problems,
        "next_attempt": _iso(result.health.next_attempt) if result.health else None,
        "seconds": round(result.seconds, 3),
    }


_STATUS_COLOURS = {"fetched": "green", "not-modified": "green", "waiting": "yellow", "disabled": "red"}


def fetch_with_progress(site: Site, *, force: bool = False, show_progress: bool = True) -> FetchReport:
    """Fetch every due source, with a progress bar on stderr unless told not to."""
    if not show_progress:
        return fetch_sources(site.config, site.store, force=force)
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

        return fetch_sources(site.config, site.store, force=force, progress=advance)


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
    with open_site(site_dir) as site:
        report = fetch_with_progress(site, force=force, show_progress=not as_json)
    failed = report.failed
    if as_json:
        print_json(
            {
                "sources": [_result_json(r) for r in report.results],
                "failed": [
                    {"url": r.source.url, "title": r.source.title, "error": r.outcome.error if r.outcome else ""}
                    for r in failed
                ],
                "new_entries": report.new_entries,
                "pruned": report.pruned,
                "moved": [{"from": old, "to": new} for old, new in report.moved],
                "seconds": round(report.seconds, 3),
            }
        )
    else:
        print_fetch_report(report)
    if failed:
        sys.exit(ExitCode.PARTIAL)


@click.group(epilog=examples("syndicate sources list", "syndicate sources add https://example.com/feed.xml"))
def sources() -> None:
    """Manage the outside feeds listed in feeds/sources.opml."""


def _health_json(source: Source, health: SourceHealth | None, stored: int) -> dict[str, Any]:
    h = health or SourceHealth(source.url)
    return {
        "url": source.url,
        "title": source.title,
        "html_url": source.html_url,
        "category": source.category,
        "weight": source.weight,
        "max_items": source.max_items,
        "keywords": list(source.keywords),
        "stored_entries": stored,
        "last_success": _iso(h.last_success),
        "last_attempt": _iso(h.last_attempt),
        "last_status": h.last_status,
        "last_error": h.last_error,
        "consecutive_failures": h.failures,
        "next_attempt": _iso(h.next_attempt),
        "disabled": h.disabled,
        "moved_to": h.moved_to,
    }


@sources.command("list", epilog=examples("syndicate sources list", "syndicate sources list --json"))
@site_option
@json_option
@handle_errors
def list_(site_dir: str, as_json: bool) -> None:
    """Show every source with its health: last success, last error, failures, next attempt."""
    with open_site(site_dir) as site:
        listed = list_sources(site.config)
        healths = site.store.source_health.all()
        stored = site.store.outside_entries.count_by_source()
    if as_json:
        print_json([_health_json(s, healths.get(s.url), stored.get(s.url, 0)) for s in listed])
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
    for s in listed:
        h = healths.get(s.url) or SourceHealth(s.url)
        error = "[red]disabled (410 Gone)[/red]" if h.disabled else h.last_error
        cells = [
            s.title,
            str(stored.get(s.url, 0)),
            _when(h.last_success),
            error,
            str(h.failures),
            _when(h.next_attempt) or ("" if h.disabled else "now"),
        ]
        if wide:
            cells.insert(1, s.url)
        table.add_row(*cells)
    console.print(table)
    console.print(f"{len(listed)} sources in {opml_path(site.config)} (times in UTC).")


def _save(path: Path, listed: list[Source], title: str) -> None:
    write_atomic(path, render_opml(listed, f"{title}: outside sources"))


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
    with open_site(site_dir) as site:
        path = opml_path(site.config)
        listed = list_sources(site.config)
        if any(s.url == url for s in listed):
            raise click.BadParameter(f"{url} is already listed in {path}", param_hint="URL")
        source = Source(
            url=url,
            title=title or url,
            html_url=html_url,
            category=category,
            max_items=max_items,
            keywords=tuple(k.strip() for k in keywords.split(",") if k.strip()),
            weight=weight,
        )
        _save(path, [*listed, source], site.config.site.title)
    console.print(f"added {source.title} ({url}) to {path}")


@sources.command("import", epilog=examples("syndicate sources import ~/Downloads/subscriptions.opml"))
@site_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@handle_errors
def import_(site_dir: str, file: Path, as_json: bool) -> None:
    """Add every feed of an OPML file (from any feed reader) not already listed."""
    incoming = parse_opml(file.read_bytes(), str(file))
    with open_site(site_dir) as site:
        path = opml_path(site.config)
        listed = list_sources(site.config)
        known = {s.url for s in listed}
        added = [s for s in incoming if s.url not in known]
        if added:
            _save(path, [*listed, *added], site.config.site.title)
    if as_json:
        print_json({"added": [s.url for s in added], "already_listed": len(incoming) - len(added)})
    else:
        console.print(f"imported {len(added)} sources into {path} ({len(incoming) - len(added)} already listed)")


@sources.command(
    epilog=examples("syndicate sources export > subscriptions.opml", "syndicate sources export -o out.opml")
)
@site_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
@handle_errors
def export(site_dir: str, output: Path | None) -> None:
    """Print the sources as OPML 2.0, for any feed reader to import."""
    with open_site(site_dir) as site:
        data = render_opml(list_sources(site.config), f"{site.config.site.title}: outside sources")
    if output:
        write_atomic(output, data)
    else:
        click.echo(data.decode("utf-8"), nl=False)


__all__ = ["fetch", "sources"]
