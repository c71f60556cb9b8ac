"""``site.sources``: the outside feeds of a site, as a Python user and ``syndicate sources`` see them.

The list lives in the site's OPML file (``[sources] opml``, ``feeds/sources.opml``);
these verbs read it, change it (atomically, through the one OPML writer) and
report the health the fetcher keeps in the state database::

    site = syndicate.Site.open("path/to/site")
    site.sources.add("https://variety.example/feed", title="Variety", weight=2)
    site.sources.import_opml("subscriptions.opml")
    for status in site.sources.health().sources:
        print(status.source.title, status.health.failures)

A change that cannot be made (a URL already listed, an unknown one, a bad
value, an unreadable OPML file) raises a
:class:`~syndicate._errors.SourceListError` naming the URL or file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomicfile import write_atomic
from .._errors import DuplicateSourceError, SourceListError, UnknownSourceError
from .._model import Source, SourceHealth
from .._sources import list_sources, opml_path, opml_title, parse_opml, render_opml, write_opml
from .._sources.opml import KEYWORD_LIMIT, KEYWORDS_LIMIT, URL_LIMIT

if TYPE_CHECKING:
    from . import Site


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass(frozen=True, slots=True)
class SourceChange:
    """One source added to or removed from the OPML list."""

    action: str  # "added" or "removed"
    source: Source
    opml: Path

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "url": self.source.url, "title": self.source.title, "opml": str(self.opml)}


@dataclass(frozen=True, slots=True)
class OpmlImport:
    """What importing another OPML list did: the sources it added, and how many were listed already."""

    added: tuple[Source, ...]
    already_listed: int
    opml: Path

    def as_json(self) -> dict[str, Any]:
        return {"added": [s.url for s in self.added], "already_listed": self.already_listed}


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One listed source with the health the fetcher recorded and the stories stored from it."""

    source: Source
    health: SourceHealth
    stored_entries: int

    def as_json(self) -> dict[str, Any]:
        source, h = self.source, self.health
        return {
            "url": source.url,
            "title": source.title,
            "html_url": source.html_url,
            "category": source.category,
            "weight": source.weight,
            "max_items": source.max_items,
            "keywords": list(source.keywords),
            "stored_entries": self.stored_entries,
            "last_success": _iso(h.last_success),
            "last_attempt": _iso(h.last_attempt),
            "last_status": h.last_status,
            "last_error": h.last_error,
            "consecutive_failures": h.failures,
            "next_attempt": _iso(h.next_attempt),
            "disabled": h.disabled,
            "moved_to": h.moved_to,
        }


@dataclass(frozen=True, slots=True)
class SourcesHealth:
    """Every listed source's status, in the OPML file's order (``syndicate sources list``)."""

    opml: Path
    sources: tuple[SourceStatus, ...]

    def as_json(self) -> dict[str, Any]:
        return {"opml": str(self.opml), "sources": [status.as_json() for status in self.sources]}


def _checked_source(
    url: str,
    title: str | None,
    html_url: str,
    category: str,
    weight: float,
    max_items: int | None,
    keywords: Iterable[str],
) -> Source:
    """A :class:`Source` from a caller's values, within the bounds an OPML file may set."""
    url = url.strip()
    if not url:
        raise SourceListError("(empty URL)", "a source needs a feed URL or a path relative to the site")
    if len(url) > URL_LIMIT:
        raise SourceListError(url[:80] + "…", f"the URL is longer than {URL_LIMIT} characters")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) or weight <= 0:
        raise SourceListError(url, f"weight={weight!r} must be a number greater than 0")
    if max_items is not None and (isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1):
        raise SourceListError(url, f"max_items={max_items!r} must be a whole number of at least 1")
    words = tuple(k.strip() for k in keywords if k.strip())
    if len(words) > KEYWORDS_LIMIT or any(len(k) > KEYWORD_LIMIT for k in words):
        raise SourceListError(
            url, f"keywords: at most {KEYWORDS_LIMIT} keywords of at most {KEYWORD_LIMIT} characters each"
        )
    return Source(
        url=url,
        title=title or url,
        html_url=html_url,
        category=category,
        max_items=max_items,
        keywords=words,
        weight=float(weight),
    )


class SiteSources:
    """The outside feeds of one site: all, add, remove, import_opml, export_opml, health."""

    def __init__(self, site: Site) -> None:
        self._site = site

    @property
    def opml(self) -> Path:
        """The site's OPML list (it need not exist yet)."""
        return opml_path(self._site.config)

    def all(self) -> list[Source]:
        """The sources of the OPML list, in its order (none when the file does not exist)."""
        return list_sources(self._site.config)

    def _save(self, sources: list[Source]) -> None:
        write_opml(self.opml, sources, self._site.config.site.title)

    def add(
        self,
        url: str,
        *,
        title: str | None = None,
        html_url: str = "",
        category: str = "",
        weight: float = 1.0,
        max_items: int | None = None,
        keywords: Iterable[str] = (),
    ) -> SourceChange:
        """List a feed URL (or a path relative to the site) in the OPML file.

        ``title`` defaults to the URL; ``weight`` decides which copy of a
        duplicate story wins (the higher); ``max_items`` caps the source's
        stories per window; ``keywords`` keep only stories mentioning one.
        Raises :class:`~syndicate._errors.DuplicateSourceError` if the URL is
        listed already, :class:`~syndicate._errors.SourceListError` for a bad value.
        """
        source = _checked_source(url, title, html_url, category, weight, max_items, keywords)
        listed = self.all()
        if any(s.url == source.url for s in listed):
            raise DuplicateSourceError(source.url, f"already listed in {self.opml}")
        self._save([*listed, source])
        return SourceChange("added", source, self.opml)

    def remove(self, url: str) -> SourceChange:
        """Take a source off the OPML list; its stored stories are no longer merged and age out.

        Raises :class:`~syndicate._errors.UnknownSourceError` if the URL is not listed.
        """
        listed = self.all()
        kept = [s for s in listed if s.url != url]
        if len(kept) == len(listed):
            raise UnknownSourceError(url, f"not listed in {self.opml}")
        self._save(kept)
        removed = next(s for s in listed if s.url == url)
        return SourceChange("removed", removed, self.opml)

    def import_opml(self, opml: str | os.PathLike[str] | bytes) -> OpmlImport:
        """Add every feed of another OPML list (a file's path, or its bytes) that is not listed yet.

        Feed readers export such lists. Raises
        :class:`~syndicate._errors.SourceListError` if the file cannot be read,
        and :class:`~syndicate._errors.SourceError` naming it if it is not OPML.
        """
        if isinstance(opml, bytes):
            incoming = parse_opml(opml, "imported OPML")
        else:
            path = Path(opml)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise SourceListError(str(path), f"cannot read: {exc.strerror or exc}") from None
            incoming = parse_opml(data, str(path))
        listed = self.all()
        known = {s.url for s in listed}
        added = tuple(s for s in incoming if s.url not in known)
        if added:
            self._save([*listed, *added])
        return OpmlImport(added, len(incoming) - len(added), self.opml)

    def export_opml(self, to: str | os.PathLike[str] | None = None) -> bytes:
        """The sources as an OPML 2.0 document, for any feed reader to import; also written to ``to`` if given."""
        data = render_opml(self.all(), opml_title(self._site.config.site.title))
        if to is not None:
            write_atomic(Path(to), data)
        return data

    def health(self) -> SourcesHealth:
        """Every source with its health: last success, last error, failures, next attempt, stories stored."""
        listed = self.all()
        store = self._site.store
        healths = store.source_health.all()
        stored = store.outside_entries.count_by_source()
        statuses = tuple(
            SourceStatus(s, healths.get(s.url) or SourceHealth(s.url), stored.get(s.url, 0)) for s in listed
        )
        return SourcesHealth(self.opml, statuses)


__all__ = ["OpmlImport", "SiteSources", "SourceChange", "SourceStatus", "SourcesHealth"]
