"""Related stories from the merged outside stream: what the trade press and critics wrote on the same subject.

The site's own "Related Stories on <Site>" block only ever holds the site's
stories; this answers a different question, for the newsletter editor or a
"around the web" box: which outside stories (from ``syndicate fetch``) are
about the same thing as this article. The same signals score them, less the
ones outside stories lack (tags, an author of ours): similar text (their
title and sanitised summary, title weighted up), the same names in titles,
and closeness in time. They live in an index of their own, so they never
compete with, or crowd out, the site's own stories.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._config import RelatedConfig
from .._model import OutsideEntry, RelatedPick
from .._sources.normalize import plain_text
from .document_index import DocumentIndex
from .documents import Document, Features
from .signals import NAMES, TEXT
from .text import term_id_counts, title_names

# Outside ids are GUIDs or URLs and could, in principle, equal one of our slugs.
_KEY_PREFIX = "outside:"


def outside_document(entry: OutsideEntry) -> Document:
    """The index document of an outside story, keyed by ``outside:`` and its id."""
    text = plain_text(entry.summary_html)  # the summary is all of an outside story's text we keep
    return Document(
        slug=_KEY_PREFIX + entry.id,
        title=entry.title,
        url=entry.url,
        published=entry.published.timestamp(),
        author=None,
        tags=(),
        features=Features.from_id_counts(term_id_counts(entry.title, "", text), title_names(entry.title, "", text)),
    )


# The stream is mostly news on other subjects, and a filler pick is worse than none: an
# outside story counts only if it shares a name in the titles, or this much of the text
# (cosine of the truncated TF-IDF vectors).
MIN_TEXT_SIMILARITY = 0.1
# Candidates ranked for each pick wanted, before that floor thins them out.
OVERFETCH = 4


class OutsideIndex:
    """Outside stories indexed for :meth:`picks`."""

    def __init__(self, entries: Iterable[OutsideEntry], config: RelatedConfig) -> None:
        self.entries = {_KEY_PREFIX + entry.id: entry for entry in entries}
        self.index = DocumentIndex((outside_document(e) for e in self.entries.values()), config)

    def __len__(self) -> int:
        return len(self.entries)

    def picks(self, document: Document, k: int, before: float | None = None) -> list[RelatedPick]:
        """The ``k`` outside stories most related to ``document`` (an article's), best first.

        Only stories on the same subject (see ``MIN_TEXT_SIMILARITY``), so
        there may be fewer than ``k``; never one with the article's own
        headline or URL (a copy of it), never two with one headline or URL;
        with ``before`` (a POSIX time), only stories published before it.
        """
        if k <= 0 or not self.entries:
            return []
        picks = []
        for scored in self.index.related(document, OVERFETCH * k, before=before):
            reasons = dict(scored.reasons)
            if reasons.get(NAMES, 0.0) <= 0 and reasons.get(TEXT, 0.0) < MIN_TEXT_SIMILARITY * self.index.weights.text:
                continue  # only close in time, or a word or two in common: not the same subject
            entry = self.entries[scored.document.slug]
            picks.append(RelatedPick(entry.id, entry.title, entry.url, scored.score, False, scored.reasons))
            if len(picks) == k:
                break
        return picks
