"""``syndicate state ...``: check, back up and restore the state database."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from .. import BackupResult
from .common import ExitCode, console, examples, handle_errors, json_option, open_site, print_json, site_option


@click.group(
    epilog=examples(
        "syndicate state check                       # exit 7 if the file is damaged",
        "syndicate state backup /backups/state-$(date +%F).sqlite3",
        "syndicate state restore /backups/state-2026-11-30.sqlite3",
    )
)
def state() -> None:
    """Check, back up and restore the state database (.syndicate/state.sqlite3).

    It holds what the site's files cannot rebuild: subscribers, the send
    ledger (who received which issue) and the permanent ids of articles.
    Back it up from cron; `backup` is safe while other commands run.
    """


@state.command(
    epilog=examples(
        "syndicate state check",
        "syndicate state check --quick --json",
    )
)
@site_option
@click.option("--quick", is_flag=True, help="PRAGMA quick_check: skips checking index contents (faster).")
@json_option
@handle_errors
def check(site_dir: str, quick: bool, as_json: bool) -> None:
    """Check the state database: SQLite header, every page (integrity_check), foreign keys.

    Reads the file only (never creates, migrates or repairs it). Exits 0 when
    every check passes, 7 when the file is damaged: then restore a backup.
    """
    with open_site(site_dir) as site:
        result = site.check_state(quick=quick)
    if as_json:
        print_json(result.as_json())
    else:
        table = Table(title=f"state database {escape(str(result.path))}")
        table.add_column("check")
        table.add_column("result")
        table.add_column("findings", overflow="fold")
        for step in result.steps:
            verdict = "[green]ok[/green]" if step.ok else "[red]FAILED[/red]"
            table.add_row(step.name, verdict, escape("\n".join(step.findings)))
        console.print(table)
        if not result.ok:
            console.print("The file is damaged: restore a backup with `syndicate state restore BACKUP`.")
    sys.exit(ExitCode.OK if result.ok else ExitCode.STATE_DAMAGED)


@state.command(
    epilog=examples(
        "syndicate state backup /backups/state.sqlite3",
        "syndicate state backup /backups/state.sqlite3 --force   # replace last night's copy",
    )
)
@site_option
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace TARGET if it exists.")
@json_option
@handle_errors
def backup(site_dir: str, target: Path, force: bool, as_json: bool) -> None:
    """Copy the state database to TARGET with SQLite's online backup (safe while cron or serve run).

    The copy is checked, then renamed into place: TARGET is either the
    complete backup or untouched. Refuses to replace TARGET without --force
    (exit 2); a damaged database is not copied (exit 7).
    """
    with open_site(site_dir) as site:
        result = site.backup_state(target, force=force)
    _report(result, "Backed up", as_json)


@state.command(
    epilog=examples(
        "syndicate state restore /backups/state.sqlite3",
    )
)
@site_option
@click.argument("backup_file", metavar="BACKUP", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@handle_errors
def restore(site_dir: str, backup_file: Path, as_json: bool) -> None:
    """Replace the state database with BACKUP (checked first). Stop cron and `serve` before.

    The database replaced is kept beside it as
    state.sqlite3.before-restore-<time>, never deleted. A damaged BACKUP is
    refused (exit 7).
    """
    with open_site(site_dir) as site:
        result = site.restore_state(backup_file)
    _report(result, "Restored", as_json)


def _report(result: BackupResult, verb: str, as_json: bool) -> None:
    if as_json:
        print_json(result.as_json())
        return
    console.print(
        f"{verb} {escape(str(result.source))} -> {escape(str(result.target))}: "
        f"{result.pages} pages, {result.bytes:,} bytes."
    )
    if result.set_aside is not None:
        console.print(f"The replaced database is kept as {escape(str(result.set_aside))}.")
