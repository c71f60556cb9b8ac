"""Outside feeds: listing, fetching, parsing, normalising and merging (placeholder interface).

The contract other stages rely on:

* :func:`merged_stream` returns the merged, de-duplicated, sanitised outside
  entries first seen or published in ``[since, until)``, newest first.
"""

from __future__ import annotations

from datetime import datetime

from ..config import Config
from ..model import OutsideEntry
from ..store import Store


def merged_stream(config: Config, store: Store, since: datetime, until: datetime) -> list[OutsideEntry]:
    """The merged outside stream for a window (placeholder: nothing fetched yet)."""
    return []


__all__ = ["merged_stream"]
