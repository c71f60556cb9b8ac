"""What every command shares: the --site option, exit codes, output helpers."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime, tzinfo
from enum import IntEnum
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from .._dates import parse_date
from .._errors import (
    ArticleNotFoundError,
    ConfigError,
    DatabaseError,
    DiskFullError,
    LockedError,
    NotWritableError,
    StateDamagedError,
    SyndicateError,
    TargetExistsError,
    as_syndicate_error,
)
from .._site import Site

F = TypeVar("F", bound=Callable[..., Any])

console = Console(stderr=False, highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class ExitCode(IntEnum):
    """Exit codes of every command (documented in docs/reference/exit-codes.md and --help)."""

    OK = 0
    PROBLEMS = 1  # check found errors; build --strict met errors; some items failed
    USAGE = 2  # bad command line (click's own code)
    CONFIG = 3  # syndicate.toml missing or invalid, or a secret unset
    PARTIAL = 4  # some outside sources (or recipients) failed, the rest went through
    NOTHING_TO_DO = 5  # e.g. an empty week produces no newsletter issue
    LOCKED = 6  # another run holds the lock
    STATE_DAMAGED = 7  # the state database is corrupt, truncated or not SQLite (or `state check` found damage)
    NOT_WRITABLE = 8  # an output or state folder is read-only or not ours to write
    DISK_FULL = 9  # no space left (or a file-size limit) while writing
    FAILED = 10  # an unexpected error stopped the run


EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 problems found (errors, or warnings under --strict); "
    "2 usage error; 3 bad config; 4 partly failed; 5 nothing to do; 6 locked by another run; "
    "7 state database damaged; 8 folder not writable; 9 disk full; 10 unexpected failure."
)

# Set to see the traceback behind any error (for a bug report); cron mail gets one line otherwise.
TRACEBACK_ENV = "SYNDICATE_TRACEBACK"


def examples(*lines: str) -> str:
    """A command's --help epilog: example command lines, then the exit codes."""
    listed = "\n".join(f"  {line}" for line in lines)
    return f"Examples:\n\n\b\n{listed}\n\n{EXIT_CODES_HELP}"


def site_option(function: F) -> F:
    """Add ``--site DIR`` (default: the current folder)."""
    return click.option(
        "--site",
        "site_dir",
        type=click.Path(file_okay=False, path_type=str),
        default=".",
        show_default=True,
        help="The site folder (holding syndicate.toml).",
    )(function)


def json_option(function: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(function)


def parse_moment(text: str | None, tz: tzinfo, param_hint: str | None = None) -> datetime | None:
    """A ``--now``/``--before`` style option as an aware datetime (None when not given); a usage error if unparsable."""
    if not text:
        return None
    try:
        return parse_date(text, tz)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=param_hint) from None


def open_site(site_dir: str, *, env_file: Path | None = None, read_secrets: bool = True) -> Site:
    """Open the site or exit with code 3 and a message naming the key at fault."""
    try:
        return Site.open(site_dir, env_file=env_file, read_secrets=read_secrets)
    except ConfigError as exc:
        err_console.print(f"[red]config error:[/red] {escape(str(exc))}", markup=True)
        sys.exit(ExitCode.CONFIG)


def exit_code_for(exc: BaseException) -> tuple[str, ExitCode]:
    """The one-line message and documented exit code for an exception that stopped a command.

    The single place that decides this, so every command (and any added
    later) reports a damaged database, a read-only folder or a full disk the
    same way.
    """
    exc = as_syndicate_error(exc)
    if isinstance(exc, DatabaseError):
        return f"state database: {exc}", ExitCode.FAILED
    if isinstance(exc, ConfigError):
        return f"config error: {exc}", ExitCode.CONFIG
    if isinstance(exc, StateDamagedError):
        return f"error: {exc}", ExitCode.STATE_DAMAGED
    if isinstance(exc, DiskFullError):
        return f"error: {exc}", ExitCode.DISK_FULL
    if isinstance(exc, NotWritableError):
        return f"error: {exc}", ExitCode.NOT_WRITABLE
    if isinstance(exc, LockedError):
        return f"error: {exc}", ExitCode.LOCKED
    if isinstance(exc, (TargetExistsError, ArticleNotFoundError)):
        return f"error: {exc}", ExitCode.USAGE
    if isinstance(exc, SyndicateError):
        return f"error: {exc}", ExitCode.FAILED
    hint = "" if os.environ.get(TRACEBACK_ENV) else f" (set {TRACEBACK_ENV}=1 to see where)"
    return f"unexpected error: {type(exc).__name__}: {exc}{hint}", ExitCode.FAILED


def exit_with_error(exc: BaseException) -> NoReturn:
    """Print ``exc`` as one line on stderr and exit with its documented code."""
    message, code = exit_code_for(exc)
    if os.environ.get(TRACEBACK_ENV):
        err_console.print_exception()
    label, _, rest = message.partition(": ")
    err_console.print(f"[red]{escape(label)}:[/red] {escape(rest)}")
    sys.exit(code)


PASS_THROUGH = (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit, KeyboardInterrupt)


def handle_errors(function: F) -> F:
    """Turn any exception into a one-line message and a documented exit code (see :func:`exit_code_for`)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except PASS_THROUGH:
            raise
        except Exception as exc:
            exit_with_error(exc)

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    """JSON to stdout, for scripts (no colour, no wrapping)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
