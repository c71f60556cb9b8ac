"""``syndicate bounces``: read the bounce mailbox and suppress what it reports."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from .common import ExitCode, console, examples, handle_errors, json_option, open_site, print_json, site_option


@click.command(
    epilog=examples(
        "syndicate bounces --maildir /var/mail/bounces/Maildir",
        "syndicate bounces                 # IMAP, from [bounces] host, user, password_env, folder",
        "syndicate bounces --dry-run --json",
    )
)
@site_option
@click.option(
    "--maildir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Read this local Maildir instead of the IMAP mailbox of [bounces].",
)
@click.option("--dry-run", is_flag=True, help="Classify and attribute only: change nothing, move nothing.")
@json_option
@handle_errors
def bounces(site_dir: str, maildir: Path | None, dry_run: bool, as_json: bool) -> None:
    """Process bounce (RFC 3464) and complaint (RFC 5965 ARF) messages.

    Each report is attributed by the VERP return path it came back to
    ([newsletter] verp_address), never by the addresses it quotes. Hard bounces
    and complaints suppress the address at once; soft bounces after
    [bounces] soft_bounce_limit reports. Processed messages move to
    [bounces] processed_folder; messages that are not reports, or name no
    genuine return path, stay and are listed (exit code 4).
    """
    with open_site(site_dir) as site:
        report = site.bounces(maildir, dry_run=dry_run)
    if as_json:
        print_json(report.as_json())
    else:
        table = Table(title=f"{report.mailbox}: {len(report.outcomes)} message(s)")
        for column in ("message", "outcome", "kind", "address", "issue", "detail"):
            table.add_column(column, overflow="fold")
        for o in report.outcomes:
            table.add_row(*(escape(v) for v in (o.key, o.outcome, o.kind, o.email, o.week, o.detail)))
        console.print(table)
        console.print(
            f"suppressed {len(report.suppressed)}, soft bounces counted {report.count('counted')}, "
            f"left in the mailbox {len(report.left)}"
        )
    if report.left and not dry_run:
        sys.exit(ExitCode.PARTIAL)
