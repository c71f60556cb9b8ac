"""What the newsletter stages read of a site: its config, its state database and its collection.

The stages take a :class:`SiteParts` rather than the :class:`~syndicate.Site`
facade, so this package never imports the facade (the facade imports it).
Any object with these three attributes will do; ``Site`` is one, and its
collection is read only when a stage first asks for it, which keeps a cron
cycle with nothing due from parsing every article.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .._collection import Collection
    from .._config import Config
    from .._store import Store


class SiteParts(Protocol):
    """A site's config, state database and collection (read lazily by the facade)."""

    @property
    def config(self) -> Config: ...

    @property
    def store(self) -> Store: ...

    @property
    def collection(self) -> Collection: ...
