"""Related stories (placeholder interface; the related-stories issue replaces the scoring).

The contract other stages rely on:

* :func:`build_related_index` builds a :class:`RelatedIndex` for a collection.
* :meth:`RelatedIndex.picks` returns the top-k :class:`~syndicate.model.RelatedPick`
  for an article, editor picks first, never the article itself, drafts or
  future articles, optionally excluding a set of slugs and preferring stories
  published before a moment.
"""

from __future__ import annotations

from collections.abc import Collection as AbstractSet
from datetime import datetime

from ..collection import Collection
from ..config import RelatedConfig
from ..model import Article, RelatedPick


class RelatedIndex:
    def __init__(self, collection: Collection, config: RelatedConfig, now: datetime) -> None:
        self.collection = collection
        self.config = config
        self.now = now
        self._pool = collection.published(now)

    def picks(
        self,
        article: Article,
        k: int = 5,
        exclude: AbstractSet[str] = (),
        before: datetime | None = None,
    ) -> list[RelatedPick]:
        """Top ``k`` related stories for ``article`` (placeholder: editor picks, then shared tags)."""
        chosen: list[RelatedPick] = []
        seen = {article.slug, *exclude}
        for ref in self.collection.editor_picks(article):
            target = ref.article
            if target is None or target.slug in seen or not target.is_published(self.now):
                continue
            seen.add(target.slug)
            chosen.append(RelatedPick(target.slug, target.title, target.url, 1.0, editor_pick=True))
        tags = {t.slug for t in article.tags}
        scored = sorted(
            (
                (-len(tags & {t.slug for t in other.tags}), -other.published.timestamp(), other.slug, other)
                for other in self._pool
                if other.slug not in seen and (before is None or other.published < before)
            ),
        )
        for score, _, _, other in scored:
            if len(chosen) >= k:
                break
            chosen.append(RelatedPick(other.slug, other.title, other.url, float(-score)))
        return chosen[:k]


def build_related_index(collection: Collection, config: RelatedConfig, now: datetime) -> RelatedIndex:
    """Build the related-stories index of a collection as of ``now``."""
    return RelatedIndex(collection, config, now)


__all__ = ["RelatedIndex", "build_related_index"]
