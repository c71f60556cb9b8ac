"""``syndicate related SLUG``: an article's related stories, and why."""

from __future__ import annotations

from collections.abc import Sequence

import click
from rich.table import Table

from .._model import RelatedPick
from .._related import contributions, explain_line
from .._related.explain import COLUMNS
from .common import (
    console,
    err_console,
    examples,
    handle_errors,
    json_option,
    open_site,
    parse_moment,
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
        tz = site.config.site.tz
        result = site.related(
            slug,
            explain=explain,
            count=count,
            exclude=excluded,
            now=parse_moment(now_text, tz),
            before=parse_moment(before_text, tz),
            outside=outside,
        )
    if as_json:
        print_json(result.as_json())
        return
    for text in result.unresolved_editor_picks:
        err_console.print(f"[yellow]warning:[/yellow] editor's related story '{text}' matches no article")
    console.print(_table(f"Related to “{result.title}”", result.picks, explain))
    if not result.picks:
        console.print("No related stories found.")
    if result.outside is not None:
        console.print(_table(f"Around the web ({result.outside_count} outside stories)", result.outside, explain))
        if not result.outside_count:
            console.print("No outside stories stored: run `syndicate fetch` first.")
        elif not result.outside:
            console.print(f"None of the {result.outside_count} outside stories is on the same subject.")


def _table(title: str, picks: Sequence[RelatedPick], explain: bool) -> Table:
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
