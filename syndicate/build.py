"""``syndicate build``: the collection in, every output file out."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from . import __version__
from .atomicfile import write_atomic
from .collection import Collection, load_collection
from .config import Config
from .feeds import site_feed_sets, write_feed_sets, write_stylesheet
from .model import Problem, Severity
from .related import RELATED_JSON, build_related_index, related_json, related_links
from .sources import film_news_feed_set
from .store import Store


@dataclass
class BuildResult:
    """What a build did; the CLI prints it, ``--json`` dumps it."""

    out_dir: Path
    articles: int = 0
    published: int = 0
    feed_sets: int = 0
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    skipped_sets: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]


def templates_fingerprint(config: Config) -> str:
    """A hash of every template that shapes output: the site's and the packaged ones."""
    digest = hashlib.blake2b(digest_size=16)
    folders: list[Path] = [config.path(config.site.templates_dir)]
    packaged = resources.files("syndicate")
    for name in ("templates", "feeds"):
        folder = Path(str(packaged.joinpath(name)))
        if folder.is_dir():
            folders.append(folder)
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".xsl", ".mjml", ".j2", ".jinja", ".html", ".txt", ".css"):
                digest.update(str(path.relative_to(folder)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def build_salt(config: Config) -> str:
    """What every output depends on besides its items."""
    return f"{__version__}:{config.source_hash}:{templates_fingerprint(config)}"


def build_site(
    config: Config,
    *,
    out_dir: Path | None = None,
    now: datetime | None = None,
    store: Store | None = None,
    collection: Collection | None = None,
) -> BuildResult:
    """Load the collection (through the parse cache) and write every feed."""
    started = time.perf_counter()
    moment = now or datetime.now(UTC)
    target = (out_dir or config.output_dir).resolve()
    owns_store = store is None
    state = store or Store(config.database_path)
    try:
        loaded = collection or load_collection(config, state.article_cache)
        result = BuildResult(out_dir=target, articles=len(loaded), problems=list(loaded.problems))
        result.published = len(loaded.published(moment))
        related = build_related_index(loaded, config.related, moment, cache=state.related_features).all_picks()
        if write_atomic(target / RELATED_JSON, related_json(related)):
            result.written.append(target / RELATED_JSON)
        feed_sets = site_feed_sets(config, loaded, moment, related_links(related, config.related.feed_links))
        if config.sources.film_news:
            feed_sets.append(film_news_feed_set(config, loaded, state, moment, result.problems))
        result.feed_sets = len(feed_sets)
        # Fingerprints are per output folder: building into another folder must not skip.
        report = write_feed_sets(feed_sets, target, build_salt(config), state.outputs)
        result.written.extend(report.written)
        result.unchanged = len(report.unchanged)
        result.skipped_sets = report.skipped_sets
        if config.feeds.stylesheet and write_stylesheet(target):
            result.written.append(target / "feed.xsl")
    finally:
        if owns_store:
            state.close()
    result.seconds = time.perf_counter() - started
    return result
