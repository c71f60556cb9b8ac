"""``syndicate related SLUG``: an article's related stories, and why."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import click
from rich.table import Table

from ..dates import parse_date
from ..model import RelatedPick
from ..related import build_related_index, contributions, explain_line, pick_json
from ..related.explain import COLUMNS
from ..sources import merged_stream
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


@click.command(
    epilog=examples(
        "syndicate related hollow-pines-set-visit",
        "syndicate related hollow-pines-set-visit --explain",
        "syndicate related hollow-pines-set-visit --json --explain | jq '.picks[0].reasons'",
        "syndicate related lakeshore-award-winners -k 3 --exclude lakeshore-lineup-announced --before 2026-10-20",
        "syndicate related hollow-pines-set-visit --outside   # also the fetched outside stories on the subject",
    )
)
@click.argument("slug")
@site_option
@click.option("-k", "--count", type=click.IntRange(min=1), help="How many stories (default: [related] count).")
@click.option("--explain", is_flag=True, help="Show each signal's contribution to every pick.")
@click.option("--exclude", "excluded", multiple=True, metavar="SLUG", help="Never pick this story (repeatable).")
@click.option("--before", "before_text", metavar="DATETIME", help="Only stories published before this moment.")
@click.option("--now", "now_text", metavar="DATETIME", help="As of this moment (ISO 8601) instead of now.")
@click.option(
    "--outside",
    is_flag=True,
    help="Also list the related stories of the outside stream (from `syndicate fetch`), apart from the site's own.",
)
@json_option
@handle_errors
def related(
    slug: str,
    site_dir: str,
    count: int | None,
    explain: bool,
    excluded: tuple[str, ...],
    before_text: str | None,
    now_text: str | None,
    outside: bool,
    as_json: bool,
) -> None:
    """Print the related stories of the article SLUG: the editor's picks first, then computed ones.

    Computed picks weigh similar text, shared rare tags, the same names in
    titles, closeness in time and the same author ([related] in
    syndicate.toml); --explain shows what each contributed. Editor headlines
    that match no article are reported on stderr.
    """
    with open_site(site_dir) as site:
        config = site.config
        tz = config.site.tz
        try:
            now = parse_date(now_text, tz) if now_text else None
            before = parse_date(before_text, tz) if before_text else None
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        collection = site.collection
        article = collection.get(slug) or collection.resolve(slug)
        if article is None:
            err_console.print(f"[red]error:[/red] no article with slug or title '{slug}' in {config.content_dir}")
            sys.exit(ExitCode.USAGE)
        moment = now or datetime.now(UTC)
        stream = (
            merged_stream(
                config,
                site.store,
                moment - timedelta(days=config.sources.retention_days),
                moment + timedelta(seconds=1),
            )
            if outside
            else []
        )
        index = build_related_index(
            collection, config.related, moment, cache=site.store.related_features, outside=stream
        )
        picks = index.picks(article, count or config.related.count, exclude=set(excluded), before=before)
        outside_picks = index.outside_picks(article, count or config.related.count, before=before) if outside else []
        unresolved = index.unresolved(article)
    if as_json:
        print_json(
            {
                "slug": article.slug,
                "title": article.title,
                "picks": [pick_json(p, explain) for p in picks],
                **({"outside": [pick_json(p, explain) for p in outside_picks]} if outside else {}),
                "unresolved_editor_picks": unresolved,
            }
        )
    else:
        for text in unresolved:
            err_console.print(f"[yellow]warning:[/yellow] editor's related story '{text}' matches no article")
        console.print(_table(f"Related to “{article.title}”", picks, explain))
        if not picks:
            console.print("No related stories found.")
        if outside:
            console.print(_table(f"Around the web ({len(index.outside)} outside stories)", outside_picks, explain))
            if not len(index.outside):
                console.print("No outside stories stored: run `syndicate fetch` first.")
            elif not outside_picks:
                console.print(f"None of the {len(index.outside)} outside stories is on the same subject.")


def _table(title: str, picks: list[RelatedPick], explain: bool) -> Table:
    table = Table("#", "story", "score", title=title, title_justify="left")
    if explain:
        for signal in COLUMNS:
            table.add_column(signal, justify="right")  # short names keep the table narrow
    else:
        table.add_column("why")
    for rank, pick in enumerate(picks, 1):
        cells = [str(rank), f"{pick.title}\n[dim]{pick.slug}[/dim]", f"{pick.score:.3f}"]
        if explain:
            cells.extend(f"{share:.3f}" if share else "" for share in contributions(pick).values())
        else:
            cells.append(explain_line(pick))
        table.add_row(*cells)
    return table
