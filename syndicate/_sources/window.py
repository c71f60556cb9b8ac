"""The window of the merged outside stream: which stored outside entries count "now".

The merged feed, the build's change signature and ``site.related(outside=True)``
all read the same entries, so they share this one definition: from
``[sources] retention_days`` ago up to and including the moment itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .._config import SourcesConfig

# merged_stream's upper bound is exclusive; a second past "now" includes entries stamped at exactly now.
_INCLUSIVE_END = timedelta(seconds=1)


def outside_window(settings: SourcesConfig, now: datetime) -> tuple[datetime, datetime]:
    """``(since, until)`` to pass to :func:`~syndicate._sources.merged_stream` for the stream as of ``now``."""
    return now - timedelta(days=settings.retention_days), now + _INCLUSIVE_END
