"""``syndicate subscribers ...``: the mailing list."""

from __future__ import annotations

import click


@click.group()
def subscribers() -> None:
    """Manage newsletter subscribers."""
