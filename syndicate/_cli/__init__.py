"""The ``syndicate`` command: a thin skin over the library.

Commands parse arguments, call the library and print; anything a Python
user would also need lives in the library, not here.
"""

from __future__ import annotations

import importlib
import signal
from typing import Any

import click

from .. import __version__
from .build import build, check, import_
from .common import EXIT_CODES_HELP, PASS_THROUGH, exit_with_error
from .sources import fetch, sources


class LazyGroup(click.Group):
    """A group whose heavier commands are imported when used (or listed), not at start-up.

    ``syndicate build`` runs from cron every few minutes on some sites; it need
    not load the newsletter's templates, MJML and SMTP code, or the related
    engine's numpy and scipy when nothing changed, each time.
    """

    def __init__(self, *args: object, lazy_commands: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_commands = lazy_commands  # name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module, __name__), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        # The one top-level handler: a command without @handle_errors (or an error raised while
        # a lazy command is imported) still ends in one line and a documented exit code.
        try:
            return super().invoke(ctx)
        except PASS_THROUGH:
            raise
        except Exception as exc:
            exit_with_error(exc)


@click.group(
    cls=LazyGroup,
    lazy_commands={
        "bounces": ".bounces:bounces",
        "feeds": ".feeds:feeds",
        "newsletter": ".newsletter:newsletter",
        "related": ".related:related",
        "subscribers": ".subscribers:subscribers",
        "serve": ".serve:serve",
        "state": ".state:state",
        "run": ".run:run",
        "cron-line": ".run:cron_line",
    },
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="syndicate")
def main() -> None:
    """syndicate: turn a publisher's article collection into feeds, related stories and newsletters.

    \b
    Typical use, from the site folder (the one holding syndicate.toml):
      syndicate check            # report every problem at once
      syndicate build            # write public/rss.xml, atom.xml, feed.json, tags/, authors/
      syndicate run              # the cron job: fetch, build, newsletter, send, archive, when due
      syndicate cron-line        # print the crontab line for it
    """
    if hasattr(signal, "SIGXFSZ"):
        # Past a file-size limit (ulimit -f) the kernel would kill us with no word; ignored, the write
        # fails with EFBIG and the command reports "disk full" naming the file.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


main.add_command(build)
main.add_command(check)
main.add_command(import_)
main.add_command(fetch)
main.add_command(sources)

__all__ = ["LazyGroup", "main"]
