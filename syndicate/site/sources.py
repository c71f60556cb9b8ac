"""``site.sources``: outside feeds: add, remove, import_opml, export_opml, health."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Site


class SiteSources:
    """The verbs of ``site.sources`` (outside feeds: add, remove, import_opml, export_opml, health)."""

    def __init__(self, site: Site) -> None:
        self._site = site
