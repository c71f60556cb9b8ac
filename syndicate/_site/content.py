"""The site's own articles, checked and imported: what ``site.check()`` and ``site.import_plaintext()`` do."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._model import Problem, Severity

if TYPE_CHECKING:
    from .._collection.importer import ImportResult
    from . import Site


@dataclass(frozen=True, slots=True)
class SiteCheck:
    """Every problem of the config and the articles (``syndicate check``); nothing was written."""

    articles: int
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    def as_json(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "errors": len(self.errors),
            "warnings": len(self.problems) - len(self.errors),
            "problems": [p.as_json() for p in self.problems],
        }


def import_result_json(result: ImportResult) -> dict[str, Any]:
    """One file's entry in ``syndicate import --json``."""
    return {
        "source": str(result.source),
        "written": str(result.written) if result.written else None,
        "slug": result.slug,
        "moved_to": str(result.moved_to) if result.moved_to else None,
        "authors": [str(p) for p in result.authors],
        "problems": [p.as_json() for p in result.problems],
    }


def check_site(site: Site) -> SiteCheck:
    collection = site.collection
    return SiteCheck(len(collection), (*site.config.problems, *collection.problems))


def import_desk_copy(
    site: Site,
    files: Iterable[str | os.PathLike[str]],
    *,
    date: datetime | None,
    overwrite: bool,
    slug: str | None,
    keep: bool,
) -> list[ImportResult]:
    config = site.config
    # Imported here: the CLI loads this module at start-up for every command.
    from .._collection import ArticleContext
    from .._collection.importer import import_plaintext

    return import_plaintext(
        [Path(f) for f in files],
        config.content_dir,
        ArticleContext.from_config(config),
        site.collection,
        date,
        overwrite,
        slug=slug,
        keep=keep,
        root=config.root,
    )


__all__ = ["SiteCheck", "check_site", "import_desk_copy", "import_result_json"]
