"""``site.newsletter``: the weekly issue: build, preview, send, due."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Site


class SiteNewsletter:
    """The verbs of ``site.newsletter`` (the weekly issue: build, preview, send, due)."""

    def __init__(self, site: Site) -> None:
        self._site = site
