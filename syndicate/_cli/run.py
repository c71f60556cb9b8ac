"""``syndicate run`` (the cron job: one unattended cycle) and ``syndicate cron-line`` (its crontab line)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from .._cronline import DEFAULT_SCHEDULE
from .._cycle import RunReport
from .._errors import InvalidArgumentError
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

F = TypeVar("F", bound=Callable[..., Any])

ENV_FILE_HELP = (
    "A dotenv file of secrets, read for variables not already in the environment: "
    "KEY=value lines, e.g. SYNDICATE_SECRET=... and SYNDICATE_SMTP_PASSWORD=... "
    "(also: $SYNDICATE_SECRET_FILE, [newsletter] secret_file)."
)

RUN_EXIT_CODES = (
    "Exit codes of run: 0 every due step done (or nothing was due); 3 a step met a bad config or a missing "
    "secret; 4 partly failed (a source or some recipients failed; the rest went through, later runs retry); "
    "6 another run holds the lock (nothing done); 10 a step failed (the others still ran; the next run retries)."
)


def _env_file_option(function: F) -> F:
    return click.option(
        "--env-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help=ENV_FILE_HELP,
    )(function)


def _log_lines(report: RunReport) -> list[str]:
    """One line per step, each stamped with the run's moment, so a log file reads as a timeline."""
    stamp = report.now.isoformat(timespec="seconds")
    if report.locked:
        return [f"{stamp} run locked: {report.message}"]
    lines = [f"{stamp} {step.name} {step.status.value}: {step.message}" for step in report.steps]
    lines += [f"{stamp} newsletter skipped {item['week']}: {item['reason']}" for item in report.skipped_weeks]
    lines.append(f"{stamp} run exit {int(report.exit_code)} in {report.seconds:.2f} s")
    return lines


@click.command(
    epilog=examples(
        "syndicate run                                   # every due step, once; safe every few minutes",
        "syndicate run --quiet --env-file ~/.config/syndicate/secrets.env   # from cron (see cron-line)",
        "syndicate run --json                            # the report for scripts",
        "syndicate run --now 2026-11-27T08:00            # as of another moment (testing a schedule)",
        "syndicate cron-line                             # print the crontab line for this site",
    )
    + "\n\n"
    + RUN_EXIT_CODES
    + "\n\nSecrets file format (dotenv; only you should be able to read it):\n\n\b\n"
    "  SYNDICATE_SECRET=a-long-random-string\n"
    "  SYNDICATE_SMTP_PASSWORD='the relay password'"
)
@site_option
@_env_file_option
@click.option("--now", "now_text", metavar="DATETIME", help="Act as of this moment (ISO 8601, site timezone).")
@click.option(
    "--fetch-every",
    "fetch_minutes",
    type=click.IntRange(min=1),
    default=55,
    show_default=True,
    help="Fetch a source when its last fetch is at least this many minutes old.",
)
@click.option("--quiet", is_flag=True, help="Print nothing when no step had anything to do (for cron logs).")
@json_option
@handle_errors
def run(
    site_dir: str, env_file: Path | None, now_text: str | None, fetch_minutes: int, quiet: bool, as_json: bool
) -> None:
    """Run the site's unattended cycle once: fetch, build, newsletter, send, archive, each only when due.

    \b
    fetch       outside sources not fetched in the last hour (and not backing off)
    build       the feeds, only if an article, a template, the config or the outside stream changed
    newsletter  when a week's issue falls due: render it once, store it, publish its archive copy;
                after missed send days, [newsletter] catch_up decides (digest, latest or each)
    send        each open issue to the subscribers due (new, deferred past their back-off, in flight)
    archive     every sent issue's archive copy, the archive page and its RSS on disk

    A failed step is reported and the independent ones still run; a second run
    while one is going exits 6 at once. Each output line is
    "<time> <step> <status>: <what happened>" (status: done, not-due, partial,
    failed), and a last line "<time> run exit <code>".
    """
    with open_site(site_dir, env_file=env_file) as site:
        now = parse_moment(now_text, site.config.site.tz, "--now")
        report = site.run(now=now, fetch_every=timedelta(minutes=fetch_minutes))
    if as_json:
        print_json(report.as_json())
    elif not (quiet and report.noop):
        for line in _log_lines(report):
            target = err_console if ("failed" in line.split(":")[0] or report.locked) else console
            target.print(line, markup=False, highlight=False)
    sys.exit(report.exit_code)


@click.command(
    "cron-line",
    epilog=examples(
        "syndicate cron-line                        # every 10 minutes, log in .syndicate/run.log",
        "syndicate cron-line --env-file ~/.config/syndicate/secrets.env",
        "syndicate cron-line --every '0 * * * *' --log /var/log/syndicate/reel.log",
        "syndicate cron-line | tail -1 | crontab -   # install it (replaces your crontab!)",
    ),
)
@site_option
@_env_file_option
@click.option("--every", "schedule", default=DEFAULT_SCHEDULE, show_default=True, help="The five crontab time fields.")
@click.option(
    "--log", "log", type=click.Path(dir_okay=False, path_type=Path), help="Log file (default .syndicate/run.log)."
)
@handle_errors
def cron_line(site_dir: str, env_file: Path | None, schedule: str, log: Path | None) -> None:
    """Print the crontab line that runs `syndicate run` for this site, as cron will run it.

    Cron starts jobs in your home folder with a bare environment (PATH is
    /usr/bin:/bin): the line uses the absolute path of this installation's
    executable, changes into the site folder, reads secrets from the env file
    (or [newsletter] secret_file / $SYNDICATE_SECRET_FILE) and appends to a log.
    No flock wrapper is needed: `run` locks itself (exit 6 when overlapping).
    """
    with open_site(site_dir, read_secrets=False) as site:  # printing the line needs no secret
        try:
            cron = site.cron_line(schedule, env_file=env_file, log=log)
        except InvalidArgumentError as exc:
            raise click.BadParameter(str(exc), param_hint="--every") from None
    log_path = cron.log_path
    console.print(f"# syndicate run for {cron.site_root}; log: {log_path}", markup=False)
    console.print(
        f"# rotate the log, e.g. /etc/logrotate.d/syndicate: {log_path} {{ weekly rotate 8 compress "
        "missingok notifempty copytruncate }",
        markup=False,
    )
    if not cron.has_secrets:
        console.print(
            "# no secrets file given: sending needs SYNDICATE_SECRET (add --env-file FILE, "
            "or set [newsletter] secret_file)",
            markup=False,
        )
    console.print(cron.line, markup=False, soft_wrap=True)


__all__ = ["cron_line", "run"]
