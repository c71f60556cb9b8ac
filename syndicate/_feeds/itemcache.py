"""A per-process cache of what is built from a feed item, by the item's identity.

An article sits in several feeds (the site's, each of its tags', its
author's), and the feed sets share the article objects, so a built entry is
found again by ``id(item)``. Keyed by identity because hashing a whole article
on every lookup cost more than the lookup saved; the item is kept with its
value, so its id cannot be reused by another object while the entry lives.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ItemCache(Generic[V]):
    """Values by (item identity, what else shapes them); emptied when it reaches ``limit`` entries."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: dict[tuple[int, Hashable], tuple[object, V]] = {}

    def get(self, item: object, shape: Hashable) -> V | None:
        found = self._entries.get((id(item), shape))
        return found[1] if found is not None and found[0] is item else None

    def put(self, item: object, shape: Hashable, value: V) -> V:
        if len(self._entries) >= self.limit:
            self._entries.clear()
        self._entries[(id(item), shape)] = (item, value)
        return value
