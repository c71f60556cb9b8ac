"""``syndicate feeds``: what the site's feeds are and how readers find them."""

from __future__ import annotations

import click
from rich.table import Table

from .._feeds.subscribe import autodiscovery_links
from .common import console, examples, handle_errors, json_option, open_site, print_json, site_option

_KINDS = ("site", "merged", "tag", "author")


@click.group(
    epilog=examples(
        "syndicate feeds list",
        "syndicate feeds links                     # <link rel=alternate> lines for your page <head>",
        "syndicate feeds links --kind tag --kind author",
    )
)
def feeds() -> None:
    """The site's feeds: list them, and print the autodiscovery links for your own pages.

    `syndicate build` also writes public/feeds/index.html, a page listing every
    feed in RSS, Atom and JSON Feed with copy buttons and one-click reader links.
    """


@feeds.command(
    "links",
    epilog=examples(
        "syndicate feeds links > partials/feed-links.html",
        "syndicate feeds links --kind site",
        "syndicate feeds links --json | jq -r '.[].formats[0].url'",
    ),
)
@site_option
@click.option(
    "--kind",
    "kinds",
    type=click.Choice(_KINDS),
    multiple=True,
    help="Which feeds to link (repeatable; default: site and merged, as the subscribe page's <head> does).",
)
@json_option
@handle_errors
def links(site_dir: str, kinds: tuple[str, ...], as_json: bool) -> None:
    """Print <link rel="alternate"> elements so browsers and readers discover the feeds from your pages."""
    chosen = kinds or ("site", "merged")
    with open_site(site_dir) as site:
        found = site.feed_listings()
    if as_json:
        print_json([listing.as_json() for listing in found if listing.kind in chosen])
        return
    click.echo(autodiscovery_links(found, chosen))


@feeds.command("list", epilog=examples("syndicate feeds list", "syndicate feeds list --json"))
@site_option
@json_option
@handle_errors
def list_(site_dir: str, as_json: bool) -> None:
    """Every feed the site publishes, with its RSS address."""
    with open_site(site_dir) as site:
        found = site.feed_listings()
    if as_json:
        print_json([listing.as_json() for listing in found])
        return
    table = Table("kind", "feed", "RSS address")
    for listing in found:
        table.add_row(listing.kind, listing.title, listing.main_url)
    console.print(table)
