"""``site.subscribers``: the list: import_csv, add, unsubscribe, list, export."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Site


class SiteSubscribers:
    """The verbs of ``site.subscribers`` (the list: import_csv, add, unsubscribe, list, export)."""

    def __init__(self, site: Site) -> None:
        self._site = site
