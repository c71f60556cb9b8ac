"""What every command shares: the --site option, exit codes, output helpers."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from enum import IntEnum
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from ..errors import ConfigError, SyndicateError
from ..site import Site

F = TypeVar("F", bound=Callable[..., Any])

console = Console(stderr=False, highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class ExitCode(IntEnum):
    """Exit codes of every command (documented in the README and --help)."""

    OK = 0
    PROBLEMS = 1  # check found errors; build --strict met errors; some items failed
    USAGE = 2  # bad command line (click's own code)
    CONFIG = 3  # syndicate.toml missing or invalid, or a secret unset
    PARTIAL = 4  # some outside sources (or recipients) failed, the rest went through
    NOTHING_TO_DO = 5  # e.g. an empty week produces no newsletter issue
    LOCKED = 6  # another run holds the lock
    FAILED = 10  # an unexpected error stopped the run


EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 problems found (errors, or warnings under --strict); "
    "2 usage error; 3 bad config; 4 partly failed; 5 nothing to do; 6 locked by another run; "
    "10 unexpected failure."
)


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


def open_site(site_dir: str) -> Site:
    """Open the site or exit with code 3 and a message naming the key at fault."""
    try:
        return Site.open(site_dir)
    except ConfigError as exc:
        err_console.print(f"[red]config error:[/red] {escape(str(exc))}", markup=True)
        sys.exit(ExitCode.CONFIG)


def handle_errors(function: F) -> F:
    """Turn our exceptions into a one-line message and a documented exit code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ConfigError as exc:
            err_console.print(f"[red]config error:[/red] {escape(str(exc))}")
            sys.exit(ExitCode.CONFIG)
        except SyndicateError as exc:
            err_console.print(f"[red]error:[/red] {escape(str(exc))}")
            sys.exit(ExitCode.FAILED)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except Exception:
            err_console.print_exception()
            sys.exit(ExitCode.FAILED)

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    """JSON to stdout, for scripts (no colour, no wrapping)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
