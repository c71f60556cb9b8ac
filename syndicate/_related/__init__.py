"""Related stories: editor picks first, then stories found by several signals.

The contract other stages rely on:

* :func:`build_related_index` builds a :class:`RelatedIndex` for a collection
  (pass ``cache=store.related_features`` to reuse tokenised text across builds).
* :meth:`RelatedIndex.picks` returns the top-k :class:`~syndicate._model.RelatedPick`
  for an article, editor picks first, never the article itself, drafts or
  future articles, optionally excluding a set of slugs and keeping to stories
  published before a moment.
* :meth:`RelatedIndex.outside_picks` returns the outside stories (the merged
  stream, given as ``outside=``) most related to an article, from an index of
  their own: they never enter the site's own related block.
* :func:`related_json` and :func:`related_links` turn picks into
  ``public/related.json`` and the Atom entries' ``rel="related"`` links.

Modules: :mod:`.text` (tokens and names), :mod:`.documents` (what is indexed),
:mod:`.signals` (the scores), :mod:`.document_index` (``DocumentIndex``: vectors,
inverted lists, candidates), :mod:`.related_index` (``RelatedIndex``: editor picks
and the collection),
:mod:`.outside` (the outside stream), :mod:`.explain` and :mod:`.output`.
"""

from __future__ import annotations

from .document_index import DocumentIndex, Scored
from .documents import Document, Features, article_document, article_features
from .explain import contributions, explain_line, pick_json
from .output import RELATED_JSON, related_json, related_links
from .related_index import RelatedIndex, build_related_index

__all__ = [
    "RELATED_JSON",
    "Document",
    "DocumentIndex",
    "Features",
    "RelatedIndex",
    "Scored",
    "article_document",
    "article_features",
    "build_related_index",
    "contributions",
    "explain_line",
    "pick_json",
    "related_json",
    "related_links",
]
