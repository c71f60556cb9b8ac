"""Outside feeds: listing, fetching, parsing, normalising and merging.

The stages, each its own module (after lemon24/reader's split):

* :mod:`.opml`: the list of sources, ``feeds/sources.opml``;
* :mod:`.fetch`: HTTP (the only module that talks it), politely and within limits;
* :mod:`.decider`: which sources are due, and their health after a fetch (no I/O);
* :mod:`.parse`: bytes to raw entries with feedparser, which never fetches;
* :mod:`.normalize`: plain titles, canonical URLs, sanitised summaries, aware dates;
* :mod:`.merge`: keyword filters, de-duplication across sources, caps.

The contract other stages rely on: :func:`merged_stream` returns the merged,
de-duplicated, sanitised outside entries of a window, newest first; an entry
belongs to the window by its date, or by its first-seen time when its feed
gave no date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .._config import Config
from .._model import OutsideEntry, Source
from .._store import Store
from .fetch import FetchReport, fetch_sources, opml_path
from .opml import opml_title, parse_opml, read_opml, render_opml, write_opml
from .update import ProgressCallback, SourceResult

# Merging (rapidfuzz) is imported by the functions that merge: a fetch from cron never does.
if TYPE_CHECKING:
    from .merge import MergeSettings


def merge_settings(config: Config) -> MergeSettings:
    from .merge import MergeSettings

    s = config.sources
    return MergeSettings(
        keywords=tuple(s.keywords),
        max_per_source=s.max_per_source,
        dedupe_window=timedelta(days=s.dedupe_days),
        title_similarity=s.title_similarity,
    )


def list_sources(config: Config) -> list[Source]:
    """The sources listed in the site's OPML file."""
    return read_opml(opml_path(config))


def merged_stream(
    config: Config,
    store: Store,
    since: datetime,
    until: datetime,
    *,
    sources: Sequence[Source] | None = None,
) -> list[OutsideEntry]:
    """The merged outside stream of ``[since, until)``, newest first.

    De-duplicated across sources, filtered by the keywords, capped per
    source; summaries are already sanitised. ``sources`` defaults to the
    site's OPML list.
    """
    listed = list_sources(config) if sources is None else list(sources)
    stored = store.outside_entries.in_window(since, until)
    from .merge import merge_stream

    return merge_stream(stored, listed, merge_settings(config))


__all__ = [
    "FetchReport",
    "ProgressCallback",
    "SourceResult",
    "fetch_sources",
    "list_sources",
    "merged_stream",
    "opml_path",
    "opml_title",
    "parse_opml",
    "read_opml",
    "render_opml",
    "write_opml",
]
