"""Related stories for a collection: editor picks first, then computed ones.

:func:`build_related_index` indexes the published articles of a collection
once; :meth:`RelatedIndex.picks` answers for any article. With a
:class:`~syndicate._store.RelatedFeatureCache`, the text of an article is
tokenised only when its content hash changes, so rebuilding after a few edits
re-reads only those articles; :meth:`RelatedIndex.refresh` updates a live
index in place.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping, Set
from collections.abc import Collection as AbstractSet
from dataclasses import replace
from datetime import datetime

from .._collection import Collection
from .._collection.loader import is_stub
from .._config import RelatedConfig
from .._model import Article, OutsideEntry, RelatedPick
from .._parallel import paused_gc
from .._slugs import headline_key
from .._store import RelatedFeatureCache
from .._store.related import PackedFeatures
from .document_index import DocumentIndex, Scored
from .documents import Document, Features, Prepare, article_document, features_key, features_of_all
from .outside import OutsideIndex
from .signals import EDITOR
from .text import VOCABULARY

EDITOR_SCORE = 1.0
# Appended to the cache key of features read from a Markdown source file rather than rendered text.
SOURCE_BASIS = ":source"
# How Features holds term numbers and counts, and the feature cache packs them: 4-byte unsigned integers.
UINT32 = "I"
# Cached rows whose term numbers are mapped in one array pass.
_UNPACK_GROUP = 4096


class RelatedIndex:
    """The related-stories index of a collection's published articles as of ``now``."""

    def __init__(
        self,
        collection: Collection,
        config: RelatedConfig,
        now: datetime,
        documents: Iterable[Document] | None = None,
        outside: Iterable[OutsideEntry] = (),
    ) -> None:
        self.collection = collection
        self.config = config
        self.now = now
        if documents is None:
            documents = (article_document(a) for a in collection.published(now))
        self.index = DocumentIndex(documents, config)
        self.outside = OutsideIndex(outside, config)

    # -- answers ------------------------------------------------------------
    def picks(
        self,
        article: Article,
        k: int = 5,
        exclude: AbstractSet[str] = (),
        before: datetime | None = None,
    ) -> list[RelatedPick]:
        """Top ``k`` related stories for ``article``: editor picks in the editor's order, then computed ones.

        Only published stories (no drafts, nothing dated after the index's
        ``now``), never the article itself or a second copy of a story, never
        a slug in ``exclude``; with ``before``, only stories published before it.
        """
        chosen: list[RelatedPick] = []
        skip = {article.slug, *exclude}
        titles = {headline_key(article.title)}
        urls = {article.url}
        for slug in exclude:  # an excluded story's copies under other slugs are excluded too
            excluded = self.index.documents.get(slug)
            if excluded is not None:
                titles.add(excluded.title_key)
                urls.add(excluded.url)
        for ref in self.collection.editor_picks(article):
            target = ref.article
            if target is None or target.slug in skip or not target.is_published(self.now):
                continue
            if before is not None and target.published >= before:
                continue
            key = headline_key(target.title)
            if key in titles or target.url in urls:
                continue
            skip.add(target.slug)
            titles.add(key)
            urls.add(target.url)
            chosen.append(
                RelatedPick(target.slug, target.title, target.url, EDITOR_SCORE, True, ((EDITOR, EDITOR_SCORE),))
            )
            if len(chosen) >= k:
                return chosen
        for scored in self.computed(article, k - len(chosen), skip, before, titles, urls):
            chosen.append(_computed_pick(scored.document, scored.score, scored.reasons))
        return chosen

    def computed(
        self,
        article: Article,
        k: int,
        exclude: AbstractSet[str] = (),
        before: datetime | None = None,
        taken_titles: Iterable[str] = (),
        taken_urls: Iterable[str] = (),
    ) -> list[Scored]:
        """The ``k`` best computed picks only (what the quality benchmark measures)."""
        if k <= 0:
            return []
        return self.index.related(
            self.document(article),
            k,
            exclude=exclude,
            before=before.timestamp() if before else None,
            taken_titles=taken_titles,
            taken_urls=taken_urls,
        )

    def outside_picks(self, article: Article, k: int = 3, before: datetime | None = None) -> list[RelatedPick]:
        """The ``k`` stories of the outside stream (given to :func:`build_related_index`) most related to ``article``.

        Never the site's own stories (see :meth:`picks` for those); ``slug`` of
        each pick is the outside story's id, ``url`` its address elsewhere.
        """
        return self.outside.picks(self.document(article), k, before.timestamp() if before else None)

    def unresolved(self, article: Article) -> list[str]:
        """The editor's related headlines of ``article`` that match no article."""
        return [ref.text for ref in self.collection.editor_picks(article) if ref.article is None]

    def document(self, article: Article) -> Document:
        """The index document of ``article`` (reused when indexed and unchanged)."""
        known = self.index.documents.get(article.slug)
        if known is not None and known.content_key.startswith(features_key(article)) and known.title == article.title:
            return known
        return article_document(article)

    def all_picks(self, k: int | None = None, only: Set[str] | None = None) -> dict[str, list[RelatedPick]]:
        """Picks for every published article, by slug (sorted); with ``only``, for those slugs alone.

        Articles without editor picks (most) get their computed picks from one
        batch over the whole index (:meth:`DocumentIndex.related_all`); the
        others go through :meth:`picks`, whose exclusions differ per article.
        An article's picks are the same whether asked alone or with all others.
        """
        count = k or self.config.count
        articles = sorted(self.collection.published(self.now), key=_slug)
        if only is not None:
            articles = [a for a in articles if a.slug in only]
        batch = self.index.related_all_as(count, _computed_pick, only)
        out: dict[str, list[RelatedPick]] = {}
        for article in articles:
            known = self.index.documents.get(article.slug)
            scored = batch.get(article.slug)
            batched = scored is not None and known is not None and known is self.document(article)
            if scored is None or not batched or self.collection.editor_picks(article):
                out[article.slug] = self.picks(article, count)
                continue
            out[article.slug] = scored
        return out

    # -- keeping up to date --------------------------------------------------
    def refresh(
        self, collection: Collection, now: datetime | None = None, cache: RelatedFeatureCache | None = None
    ) -> tuple[int, int]:
        """Bring the index up to date with ``collection``; return (added or changed, removed).

        Only articles whose content, metadata or publication state changed are
        re-indexed; the rest keep their vectors.
        """
        self.collection = collection
        self.now = now or self.now
        current = {a.slug: a for a in collection.published(self.now)}
        gone = [slug for slug in self.index.documents if slug not in current]
        changed = [
            article
            for slug, article in current.items()
            if (known := self.index.documents.get(slug)) is None or known != _metadata_only(article, known)
        ]
        self.index.remove(gone)
        self.index.add(_documents(changed, cache, self.config.workers))
        return len(changed), len(gone)


def _computed_pick(document: Document, score: float, reasons: tuple[tuple[str, float], ...]) -> RelatedPick:
    return RelatedPick(document.slug, document.title, document.url, score, False, reasons)


def _slug(article: Article) -> str:
    return article.slug


def _metadata_only(article: Article, known: Document) -> Document:
    """``article`` as a document reusing ``known``'s features if the text is unchanged (for comparing)."""
    if not known.content_key.startswith(features_key(article)):
        return article_document(article, Features.from_counts({}))
    return replace(article_document(article, known.features), content_key=known.content_key)


BodyLoader = Callable[[list[Article]], Mapping[str, Article]]


def _documents(
    articles: list[Article], cache: RelatedFeatureCache | None, workers: int = 0, bodies: BodyLoader | None = None
) -> list[Document]:
    """Documents of ``articles``, taking features from ``cache`` where the content hash matches.

    Articles loaded without their body (``load_collection(with_bodies=False)``)
    are completed with ``bodies`` only when their features are not cached; a
    body-less article's features are never cached, so they cannot stand in
    for the whole article's later.
    """
    # Features of body-less articles come from their source file (``bodies``), a
    # different basis from rendered text: their own key keeps the two apart.
    keys = {a.slug: features_key(a) + (SOURCE_BASIS if bodies is not None and is_stub(a) else "") for a in articles}
    cached: dict[str, Features] = {}
    if cache is not None:
        # A whole article also takes the features ``syndicate build`` read from its source file
        # (same content hash), so the newsletter and the CLI never re-tokenise what a build did.
        accepted: dict[str, tuple[str, ...]] = {
            slug: (key,) if key.endswith(SOURCE_BASIS) else (key, key + SOURCE_BASIS) for slug, key in keys.items()
        }
        packed, older = cache.packed_matching(accepted)
        cached.update(_unpacked(packed))
        repacked: list[tuple[str, str, dict[str, object]]] = []
        for slug, (key, payload) in older.items():
            try:
                cached[slug] = Features.from_json(payload)
            except (KeyError, ValueError, TypeError, OverflowError):
                continue  # an unreadable row is recomputed and overwritten
            repacked.append((slug, key, cached[slug].to_json()))
        if repacked:
            cache.put_many(repacked)  # rows from before packing: packed once, read quickly from now on
    missing = [a for a in articles if a.slug not in cached]
    computed = features_of_all(missing, workers, _completing(bodies) if bodies is not None else None)
    cached.update((a.slug, f) for a, (f, _) in zip(missing, computed, strict=True))
    # A body-less article whose file could not be read is indexed by its title and summary
    # alone; such features are never cached, so they cannot stand in for the whole article's.
    documents = [article_document(a, cached[a.slug], keys[a.slug]) for a in articles]
    if cache is not None and missing:
        # Encoded as they are written, a batch at a time.
        cache.put_many(
            (a.slug, keys[a.slug], f.to_json())
            for a, (f, read) in zip(missing, computed, strict=True)
            if not is_stub(a) or read
        )
    return documents


def _unpacked(packed: PackedFeatures) -> dict[str, Features]:
    """The features of packed cache rows: what ``Features.from_json`` gives for the same rows.

    The stored term numbers are turned into this process's ``VOCABULARY`` numbers
    with one array pass per group of rows, instead of looking up each row's terms as
    strings; groups keep the temporary arrays small (100,000 articles hold 30 million terms).
    """
    if not packed.slugs:
        return {}
    import numpy as np

    ours = np.array(VOCABULARY.ids(packed.terms), dtype=np.uint32)  # by stored number
    out: dict[str, Features] = {}
    for start in range(0, len(packed.slugs), _UNPACK_GROUP):
        rows = range(start, min(start + _UNPACK_GROUP, len(packed.slugs)))
        stored = np.frombuffer(b"".join(packed.numbers[row] for row in rows), dtype=np.uint32)
        if stored.size and int(stored.max()) >= len(ours):
            return {}  # a damaged table of terms: every row is recomputed and overwritten
        numbers = ours[stored].tobytes()
        offset = 0
        for row in rows:
            size = len(packed.numbers[row])
            ids, counts = array(UINT32), array(UINT32)
            ids.frombytes(numbers[offset : offset + size])
            offset += size
            counts.frombytes(packed.counts[row])
            out[packed.slugs[row]] = Features(ids, counts, tuple(map(str, packed.names[row])))
    return out


def _completing(bodies: BodyLoader) -> Prepare:
    """Completes the body-less articles of a batch with ``bodies`` (run in the tokenising workers)."""

    def prepare(batch: list[Article]) -> list[Article]:
        whole = bodies([a for a in batch if is_stub(a)]) if any(map(is_stub, batch)) else {}
        return [whole.get(a.slug, a) if is_stub(a) else a for a in batch]

    return prepare


def build_related_index(
    collection: Collection,
    config: RelatedConfig,
    now: datetime,
    *,
    cache: RelatedFeatureCache | None = None,
    bodies: BodyLoader | None = None,
    outside: Iterable[OutsideEntry] = (),
) -> RelatedIndex:
    """Build the related-stories index of a collection as of ``now``.

    With ``cache`` (``Store.related_features``), each article's tokenised text
    is read back when its content hash is unchanged and stored otherwise;
    rows of articles no longer published are dropped. ``bodies`` completes
    articles loaded without their body (``syndicate build`` loads stubs), and
    is called only for those whose features are not cached. ``outside`` (the
    merged outside stream) is indexed apart, for :meth:`RelatedIndex.outside_picks`.
    """
    published = collection.published(now)
    with paused_gc():
        documents = _documents(published, cache, config.workers, bodies)
    if cache is not None:
        # Rows of articles not yet published (a newsletter of a past week) stay for later builds.
        cache.forget_missing(a.slug for a in collection.articles)
    return RelatedIndex(collection, config, now, documents, outside)
