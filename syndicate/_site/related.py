"""``site.related(slug)``: an article's related stories (editor's picks, then computed), as one result."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .._errors import ArticleNotFoundError, InvalidArgumentError
from .._model import RelatedPick

if TYPE_CHECKING:
    from . import Site


@dataclass(frozen=True, slots=True)
class RelatedStories:
    """What ``syndicate related SLUG`` shows: the picks for one article, and what did not resolve.

    ``outside`` is None unless outside stories were asked for; ``outside_count``
    is how many outside stories were considered (0 when none are stored).
    """

    slug: str
    title: str
    picks: tuple[RelatedPick, ...]
    unresolved_editor_picks: tuple[str, ...]
    outside: tuple[RelatedPick, ...] | None = None
    outside_count: int = 0
    explain: bool = False

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` shape: picks with ``reasons`` when explaining, ``outside`` only when asked for."""
        from .._related import pick_json

        data: dict[str, Any] = {
            "slug": self.slug,
            "title": self.title,
            "picks": [pick_json(p, self.explain) for p in self.picks],
        }
        if self.outside is not None:
            data["outside"] = [pick_json(p, self.explain) for p in self.outside]
        data["unresolved_editor_picks"] = list(self.unresolved_editor_picks)
        return data


def related_stories(
    site: Site,
    slug: str,
    *,
    count: int | None,
    explain: bool,
    exclude: Iterable[str],
    before: datetime | None,
    outside: bool,
    now: datetime | None,
) -> RelatedStories:
    """The body of :meth:`Site.related` (see there)."""
    # Imported here: the related engine loads numpy and scipy, which `import syndicate` need not pay for.
    from .._related import build_related_index
    from .._sources import merged_stream
    from .._sources.window import outside_window

    if count is not None and count < 1:
        raise InvalidArgumentError(f"count must be at least 1, not {count}")
    config = site.config
    collection = site.collection
    article = collection.get(slug) or collection.resolve(slug)
    if article is None:
        raise ArticleNotFoundError(slug, str(config.content_dir))
    moment = now or datetime.now(UTC)
    stream = merged_stream(config, site.store, *outside_window(config.sources, moment)) if outside else []
    index = build_related_index(collection, config.related, moment, cache=site.store.related_features, outside=stream)
    k = count or config.related.count
    return RelatedStories(
        slug=article.slug,
        title=article.title,
        picks=tuple(index.picks(article, k, exclude=set(exclude), before=before)),
        unresolved_editor_picks=tuple(index.unresolved(article)),
        outside=tuple(index.outside_picks(article, k, before=before)) if outside else None,
        outside_count=len(index.outside) if outside else 0,
        explain=explain,
    )
