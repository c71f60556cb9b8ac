"""``syndicate newsletter ...``: build, preview and send the weekly issue."""

from __future__ import annotations

import click


@click.group()
def newsletter() -> None:
    """Assemble, preview and send the weekly email newsletter."""
