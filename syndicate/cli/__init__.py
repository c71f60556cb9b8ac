"""The ``syndicate`` command: a thin skin over the library.

Commands parse arguments, call the library and print; anything a Python
user would also need lives in the library, not here.
"""

from __future__ import annotations

import click

from .. import __version__
from .build import build, check, import_
from .common import EXIT_CODES_HELP
from .newsletter import newsletter
from .send import send
from .serve import serve
from .sources import fetch, sources
from .subscribers import subscribers


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="syndicate")
def main() -> None:
    """syndicate: turn a publisher's article collection into feeds, related stories and newsletters.

    \b
    Typical use, from the site folder (the one holding syndicate.toml):
      syndicate check            # report every problem at once
      syndicate build            # write public/rss.xml, atom.xml, feed.json, tags/, authors/
    """


main.add_command(build)
main.add_command(check)
main.add_command(import_)
main.add_command(newsletter)
main.add_command(subscribers)
newsletter.add_command(send)
main.add_command(serve)
main.add_command(fetch)
main.add_command(sources)

__all__ = ["main"]
