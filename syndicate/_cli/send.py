"""``syndicate newsletter send``: send the due issue to every subscriber, exactly once."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .._errors import LedgerWriteError, LockedError, OutboxWriteError
from .._newsletter.report import RunKind, SendReport
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

_QUIET_KINDS = (RunKind.ALREADY_SENT, RunKind.WAITING)
# The send ledger or a dry run's file could not be written (disk full, file size limit): nothing
# unsent was recorded as sent; free space and run again. The same code as every other full disk.
EXIT_CANNOT_WRITE = ExitCode.DISK_FULL


@click.command(
    epilog=examples(
        "syndicate newsletter send                      # the due issue, once it is due, once",
        "syndicate newsletter send --week 2026-W47      # that week's issue, now (still once per subscriber)",
        "syndicate newsletter send --to me@example.com  # one test copy; records nothing",
        "syndicate newsletter send --dry-run            # .eml files in .syndicate/outbox/<week>/",
        "syndicate newsletter send --limit 500 --json   # at most 500 messages this run, JSON summary",
        "syndicate cron-line                            # the crontab line (syndicate run sends the due issue)",
    )
)
@site_option
@click.option("--week", metavar="YYYY-Www", help="Send this ISO week's issue now, whatever the schedule.")
@click.option("--dry-run", is_flag=True, help="Write each message as an .eml file instead of sending; record nothing.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for --dry-run (default: .syndicate/outbox/<week>/).",
)
@click.option("--to", "test_address", metavar="ADDR", help="Send one test copy to ADDR; record nothing.")
@click.option("--limit", type=click.IntRange(min=1), help="Send at most N messages this run; later runs go on.")
@click.option("--quiet", is_flag=True, help="Print nothing when there is nothing to send (for cron mail).")
@json_option
@handle_errors
def send(
    site_dir: str,
    week: str | None,
    dry_run: bool,
    out_dir: Path | None,
    test_address: str | None,
    limit: int | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Send the newsletter issue that is due, to each subscriber exactly once.

    Without --week, the issue is sent once it is due (the [newsletter]
    send_weekday and send_time, in the site's timezone) and only if it has not
    been sent, so an hourly cron job is correct. A run after missed ones sends
    only the latest due issue and says so. Deferred (4xx) recipients are
    retried by later runs with back-off; a run killed midway is finished by
    the next one, with at most one duplicate (the message in flight, resent
    with the same Message-ID). A recipient the relay keeps refusing, or whose
    connection dies after the data twice, is parked after [newsletter]
    max_attempts and listed; it never holds up the others.
    SMTP settings come from [smtp]; the password only from the environment
    variable [smtp] password_env names; links are signed with $SYNDICATE_SECRET.
    Exit code 9: the send ledger (or a --dry-run file) could not be written,
    e.g. the disk is full; nothing unsent was recorded as sent.
    """
    if test_address and (dry_run or out_dir):
        raise click.UsageError("--to sends one test copy; it does not go with --dry-run or --out")
    if out_dir and not dry_run:
        raise click.UsageError("--out is the folder of --dry-run; add --dry-run")
    with open_site(site_dir) as site:
        progress = Progress(
            TextColumn("sending"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
            disable=as_json or quiet,
        )
        task = progress.add_task("send", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            with progress:
                report = site.newsletter.send(
                    week,
                    dry_run=dry_run,
                    out_dir=out_dir,
                    test_address=test_address,
                    limit=limit,
                    progress=advance,
                )
        except LockedError as exc:
            err_console.print(f"[yellow]locked:[/yellow] {exc}")
            sys.exit(ExitCode.LOCKED)
        except (LedgerWriteError, OutboxWriteError) as exc:
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
            sys.exit(EXIT_CANNOT_WRITE)
    if as_json:
        print_json(report.as_json())
    elif not (quiet and report.kind in _QUIET_KINDS):
        _print_report(report)
    sys.exit(_exit_code(report))


def _exit_code(report: SendReport) -> int:
    if report.kind is RunKind.EMPTY:
        return ExitCode.NOTHING_TO_DO
    if report.error and not report.sent:
        return ExitCode.FAILED
    if report.partial:
        return ExitCode.PARTIAL
    return ExitCode.OK


def _print_report(report: SendReport) -> None:
    if report.message:
        console.print(report.message)
    if report.error:
        err_console.print(f"[red]error:[/red] {report.error}")
    if report.kind not in (RunKind.SENT, RunKind.TEST):
        return
    table = Table(title=f"Newsletter {report.week}", show_header=True)
    table.add_column("")
    table.add_column("messages", justify="right")
    for label, count in (
        ("sent", report.sent),
        ("skipped", report.skipped),
        ("deferred (retried later)", report.deferred),
        ("unconfirmed (maybe delivered; retried once later)", report.unconfirmed),
        ("bounced", report.bounced),
        ("parked (given up)", report.parked + report.failed),
        ("still to send", report.remaining),
    ):
        table.add_row(label, str(count))
    console.print(table)
    for line in report.parked_recipients:
        err_console.print(f"[yellow]parked:[/yellow] {escape(line)}")
    if report.next_retry:
        console.print(f"next retry of deferred recipients after {report.next_retry:%Y-%m-%d %H:%M} UTC")
