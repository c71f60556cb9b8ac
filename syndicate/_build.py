"""``syndicate build``: the collection in, every output file out.

A build is a few steps that each take data and return data. Steps that need
the collection call ``loaded()`` inside :func:`build_site`, which loads it
(through the parse cache, bodies left out) on first use.

A rebuild with nothing changed loads nothing: the build manifest (see
:mod:`syndicate._store.outputs`) holds a signature of every input (each article
file's size and mtime, the config, the templates, the code version) and the
window of time in which the set of published articles stays the same (until
the next future-dated article comes due). When the signature matches, ``now``
is inside the window and every output file is as we left it, the feed step is
skipped without reading a single article.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from ._atomicfile import write_atomic, write_atomic_chunks
from ._collection import Collection, load_collection, render_bodies_ahead
from ._collection.authors import author_files
from ._collection.context import PARSER_VERSION, ArticleContext
from ._collection.identity import (
    REDIRECTS_NETLIFY,
    REDIRECTS_NGINX,
    assign_identities,
    netlify_redirects,
    nginx_redirect_map,
    redirects,
)
from ._collection.loader import article_files, is_racy, load_bodies, stat_signature
from ._config import CONFIG_FILE, Config
from ._errors import SourceError
from ._feeds import (
    FEED_FILES,
    STYLESHEET_FILES,
    FeedSet,
    PrebuiltEntry,
    prebuild_entries,
    site_feed_sets,
    write_feed_sets,
    write_stylesheet,
)
from ._feeds.merged import merged_feed_set
from ._feeds.prebuilt import bodies_not_needed
from ._feeds.subscribe import listings, subscribe_page, subscribe_page_path
from ._feeds.websub import WebSubPing
from ._feeds.websub import publish as publish_to_hubs
from ._model import Problem, Severity
from ._sources import FetchReport, SourceResult, merged_stream
from ._sources.window import outside_window
from ._store import Store
from ._store.outputs import BuildManifest

if TYPE_CHECKING:
    from ._related.incremental import PicksUpdate

# Far enough in the future to mean "no article is scheduled".
_NEVER = 1e18


@dataclass
class BuildResult:
    """What a build did; the CLI prints it, ``--json`` dumps it.

    ``up_to_date`` is true when the build manifest showed nothing had changed,
    so no article was loaded; the counts and problems are those of the last
    full build, which are still the truth.
    """

    out_dir: Path
    articles: int = 0
    published: int = 0
    feed_sets: int = 0
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    skipped_sets: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    websub: list[WebSubPing] = field(default_factory=list)  # hubs told about the feeds this build changed
    up_to_date: bool = False
    removed: list[Path] = field(default_factory=list)
    fetch: FetchReport | None = None  # the fetch run first (``site.build(fetch=True)``, ``build --fetch``)

    @property
    def errors(self) -> list[Problem]:
        """The problems that made an article be skipped."""
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def failed_sources(self) -> list[SourceResult]:
        """The outside sources the fetch before the build could not fetch (none without a fetch)."""
        return self.fetch.failed if self.fetch is not None else []

    def as_json(self) -> dict[str, Any]:
        """What ``syndicate build --json`` prints."""
        fetch = self.fetch
        return {
            "out_dir": str(self.out_dir),
            "articles": self.articles,
            "published": self.published,
            "feed_sets": self.feed_sets,
            "written": [str(p) for p in self.written],
            "unchanged": self.unchanged,
            "removed": [str(p) for p in self.removed],
            "up_to_date": self.up_to_date,
            "seconds": round(self.seconds, 3),
            "problems": [p.as_json() for p in self.problems],
            "websub": [{"hub": p.hub, "url": p.url, "status": p.status, "error": p.error} for p in self.websub],
            "fetch": None
            if fetch is None
            else {"new_entries": fetch.new_entries, "failed": [r.failure_json() for r in fetch.failed]},
        }


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


def code_fingerprint() -> str:
    """Size and mtime of syndicate's own modules: an upgrade or a local edit rebuilds everything."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=16)
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(f"{path.relative_to(package)}:{stat_signature(path.stat())}".encode())
    return digest.hexdigest()


def build_salt(config: Config) -> str:
    """What every output depends on besides its items."""
    return f"{code_fingerprint()}:{PARSER_VERSION}:{config.source_hash}:{templates_fingerprint(config)}"


def input_signature(config: Config, salt: str) -> tuple[str, dict[str, str]]:
    """A hash of every input of a build, by file stat (no article is read), and the racy files' digests.

    A file changed too recently for its stat to prove anything (see
    :func:`~syndicate._collection.loader.is_racy`) is hashed as well: an edit
    that keeps its size and mtime (made within the file system's clock tick
    of this build) is then caught by the next build, which compares those
    digests before trusting the manifest. They are kept apart from the
    signature, so a file merely ageing out of the window does not rebuild.
    """
    digest = hashlib.blake2b(salt.encode(), digest_size=16)
    digest.update(str(config.content_dir).encode())
    racy: dict[str, str] = {}
    if config.content_dir.is_dir():
        now_ns = time.time_ns()
        listed = [*article_files(config.content_dir), *author_files(config.content_dir)]
        listing = "\0".join(f"{path}\0{info.st_size}:{info.st_mtime_ns}" for path, info in listed)
        digest.update(listing.encode())
        racy = {path: _file_digest(path) for path, info in listed if is_racy(info, now_ns)}
    return digest.hexdigest(), racy


def _file_digest(path: str) -> str:
    try:
        return hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.errno}"


def _outside_signature(config: Config, state: Store, moment: datetime) -> str:
    """What the merged feeds take from outside the content folder: the merged outside stream.

    It changes when sources are fetched, when entries age out of the retention
    window, or when the OPML list changes; any of those makes the build manifest
    miss. (The window is the one :func:`~syndicate._feeds.merged.merged_feed_set` uses.)
    """
    if not config.merged.enabled:
        return ""
    try:
        stream = merged_stream(config, state, *outside_window(config.sources, moment))
    except SourceError as exc:
        return f"error: {exc}"
    return hashlib.blake2b(repr(stream).encode(), digest_size=16).hexdigest()


def _outputs_intact(out_dir: Path, recorded: dict[str, str]) -> bool:
    for relative, signature in recorded.items():
        try:
            if stat_signature(os.stat(out_dir / relative)) != signature:
                return False
        except OSError:
            return False
    return True


def _problem_record(problem: Problem) -> dict[str, object]:
    return {"path": problem.path, "message": problem.message, "severity": problem.severity.value, "line": problem.line}


def _skipped_build(manifest: BuildManifest, target: Path, moment: datetime) -> BuildResult | None:
    """The result of a build that has nothing to do, or ``None`` if it has."""
    if not manifest.valid_from <= moment.timestamp() < manifest.valid_until:
        return None
    summary = json.loads(manifest.summary)
    outputs: dict[str, str] = summary["outputs"]
    if not _outputs_intact(target, outputs):
        return None
    # Files whose stat was too fresh to trust when the manifest was made: their bytes must still match.
    racy: dict[str, str] = summary.get("racy", {})
    if any(_file_digest(path) != recorded for path, recorded in racy.items()):
        return None
    return BuildResult(
        out_dir=target,
        articles=summary["articles"],
        published=summary["published"],
        feed_sets=summary["feed_sets"],
        unchanged=len(outputs),
        skipped_sets=summary["feed_sets"],
        problems=[Problem(p["path"], p["message"], Severity(p["severity"]), p["line"]) for p in summary["problems"]],
        up_to_date=True,
    )


def _page_unchanged(manifest: BuildManifest | None, target: Path, page: Path, key: str) -> bool:
    """Whether the last build wrote ``page`` from the same inputs (``key``) and the file is still as it left it."""
    if manifest is None:
        return False
    summary = json.loads(manifest.summary)
    recorded: str | None = summary["outputs"].get(str(page.relative_to(target)))
    if summary.get("subscribe_page") != key or recorded is None:
        return False
    try:
        return stat_signature(page.stat()) == recorded
    except OSError:
        return False


def _remove_stale_outputs(target: Path, previous: dict[str, str], current: list[Path]) -> list[Path]:
    """Delete files the last build wrote that this one no longer produces (a tag or author gone).

    Only files recorded in our own manifest are touched, so whatever else
    lives in the output folder is left alone; emptied folders go too.
    """
    keep = {str(p.relative_to(target)) for p in current}
    removed = []
    for relative in sorted(set(previous) - keep):
        path = target / relative
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
        for parent in path.parents:
            if parent == target or not parent.is_relative_to(target):
                break
            try:
                parent.rmdir()
            except OSError:
                break
    return removed


def _publication_window(collection: Collection, moment: datetime) -> tuple[float, float]:
    """While ``now`` stays inside this window, the same articles are published."""
    stamp = moment.timestamp()
    valid_from = -_NEVER
    valid_until = _NEVER
    for article in collection.articles:
        if article.draft:
            continue
        published = article.published.timestamp()
        if published <= stamp:
            valid_from = max(valid_from, published)
        else:
            valid_until = min(valid_until, published)
    return valid_from, valid_until


def _related_picks(config: Config, collection: Collection, moment: datetime, state: Store, salt: str) -> PicksUpdate:
    """Every published article's related stories.

    Only articles whose words are not cached yet are read, from their source
    files: the feed step's rule that only published bodies are rendered holds.
    Only the picks an edit can change are computed again (see
    :mod:`syndicate._related.incremental`); the others are the last build's.
    """
    from ._related import build_related_index
    from ._related.documents import source_bodies
    from ._related.incremental import current_picks

    index = build_related_index(
        collection,
        config.related,
        moment,
        cache=state.related_features,
        bodies=lambda stubs: source_bodies(config.root, stubs),
    )
    return current_picks(index, state.related_last_picks, salt)


def _ping_hubs(config: Config, target: Path, written: list[Path], problems: list[Problem]) -> list[WebSubPing]:
    """Tell the WebSub hubs about each feed file this build changed; failures become warnings."""
    urls = [
        f"{config.site.base_url}/{path.relative_to(target).as_posix()}" for path in written if path.name in FEED_FILES
    ]
    pings = publish_to_hubs(config.feeds.websub_hubs, urls, f"syndicate/{__version__} (+{config.site.base_url}/)")
    for hub in config.feeds.websub_hubs:
        failed = [p for p in pings if p.hub == hub and not p.ok]
        if failed:
            first = failed[0]
            reason = f"HTTP {first.status}" if first.status is not None else first.error
            message = f"WebSub hub {hub}: {len(failed)} of {len(urls)} pings failed ({reason})"
            problems.append(Problem(CONFIG_FILE, message, Severity.WARNING))
    return pings


def _feed_step(
    config: Config,
    target: Path,
    moment: datetime,
    state: Store,
    loaded: Callable[[], Collection],
    use_manifest: bool,
) -> BuildResult:
    """Write every feed set and the stylesheet, or nothing when the manifest shows nothing changed."""
    salt = build_salt(config)
    signature, racy = input_signature(config, salt + _outside_signature(config, state, moment))
    manifest = state.outputs.manifest(str(target))
    if use_manifest and manifest is not None and manifest.signature == signature:
        skipped = _skipped_build(manifest, target, moment)
        if skipped is not None:
            return skipped

    # Imported here: a build with nothing to do never loads the related engine (numpy, scipy).
    from ._related import RELATED_JSON

    collection = assign_identities(loaded(), state.identities, moment)
    result = BuildResult(out_dir=target, articles=len(collection), problems=list(collection.problems))
    result.published = len(collection.published(moment))
    # The feeds' items do not depend on the related stories (only their Atom links do), so
    # their bodies start rendering in the background now, while the related step runs.
    # feedgen's entries are built there too, once per article (they need the body, not the picks).
    feed_sets = site_feed_sets(config, collection, moment)
    feed_articles = {a.slug: a for feed_set in feed_sets for a in feed_set.items.articles}
    site_meta = feed_sets[0].meta  # the site-wide set comes first; tag and author sets share its base URL
    with render_bodies_ahead(
        config,
        feed_articles.values(),
        state.article_cache,
        follow_up=lambda whole: prebuild_entries(whole, site_meta),
    ) as ahead:

        def with_bodies(pending: list[FeedSet]) -> list[FeedSet]:
            needed = {a.slug: a for feed_set in pending for a in feed_set.items.articles}
            prebuilt = {key: made for key, made in ahead.followed().items() if isinstance(made, PrebuiltEntry)}
            # An article every feed takes from its prebuilt pieces stays a stub here: its body is never unpickled.
            enough = bodies_not_needed(((s.meta, s.items.articles) for s in pending), prebuilt)
            context = ArticleContext.from_config(config)
            cache = state.article_cache
            by_path = load_bodies(list(needed.values()), config.root, context, cache, ahead=ahead, bodiless=enough)
            whole = {a.slug: by_path[a.source_path] for a in needed.values() if a.source_path in by_path}
            return [feed_set.with_articles(whole).with_prebuilt_entries(prebuilt) for feed_set in pending]

        related = _related_picks(config, collection, moment, state, salt)
        if write_atomic_chunks(target / RELATED_JSON, related.related_json_chunks()):
            result.written.append(target / RELATED_JSON)
        links = related.related_links(config.related.feed_links, only=feed_articles.keys())
        feed_sets = [feed_set.with_related_links(links) for feed_set in feed_sets]
        del related, links  # every article's new picks and related.json entries: the feeds need only their links
        if config.merged.enabled:
            feed_sets.append(merged_feed_set(config, collection, state, moment, result.problems))
        result.feed_sets = len(feed_sets)
        # Fingerprints are per output file: building into another folder must not skip.
        report = write_feed_sets(feed_sets, target, salt, state.outputs, prepare=with_bodies)
    result.written.extend(report.written)
    if config.feeds.websub_hubs:
        result.websub = _ping_hubs(config, target, report.written, result.problems)
    result.unchanged = len(report.unchanged)
    result.skipped_sets = report.skipped_sets
    outputs = [*report.written, *report.unchanged, target / RELATED_JSON]
    if config.feeds.stylesheet:
        result.written.extend(write_stylesheet(target))
        outputs.extend(target / name for name in STYLESHEET_FILES)
    moved = redirects(state.identities, collection)
    # Only once a permalink has moved; the manifest removes them again if none is left.
    documents = ((REDIRECTS_NETLIFY, netlify_redirects(moved)), (REDIRECTS_NGINX, nginx_redirect_map(moved)))
    for name, document in documents if moved else ():
        if write_atomic(target / name, document):
            result.written.append(target / name)
        outputs.append(target / name)
    page_key = ""
    if config.feeds.subscribe_page:
        page = subscribe_page_path(target)
        metas = [s.meta for s in feed_sets]
        page_key = hashlib.blake2b(f"{salt}\0{metas!r}".encode(), digest_size=16).hexdigest()
        # The page is a function of the build's salt and the feed sets' metadata: when neither
        # changed and the file is as the last build left it, it is not rendered (nor Jinja imported).
        unchanged = use_manifest and _page_unchanged(manifest, target, page, page_key)
        if not unchanged and write_atomic(page, subscribe_page(config, listings(metas, config.merged.folder_path))):
            result.written.append(page)
        outputs.append(page)
    if manifest is not None:
        result.removed = _remove_stale_outputs(target, json.loads(manifest.summary)["outputs"], outputs)
    if use_manifest:
        valid_from, valid_until = _publication_window(collection, moment)
        summary = {
            "articles": result.articles,
            "published": result.published,
            "feed_sets": result.feed_sets,
            "problems": [_problem_record(p) for p in result.problems],
            "outputs": {str(p.relative_to(target)): stat_signature(p.stat()) for p in outputs},
            "racy": racy,
            "subscribe_page": page_key,
        }
        state.outputs.record_manifest(
            BuildManifest(str(target), signature, valid_from, valid_until, json.dumps(summary))
        )
    else:
        state.outputs.forget_manifest(str(target))
    return result


def build_site(
    config: Config,
    *,
    out_dir: Path | None = None,
    now: datetime | None = None,
    store: Store | None = None,
    collection: Collection | None = None,
) -> BuildResult:
    """Load the collection (through the parse cache) and write every feed.

    Warnings about ``syndicate.toml`` itself (deprecated keys) are among the
    result's problems.

    With ``collection`` given, that collection is published as is and the
    build manifest is not used (it describes files, not objects in memory).
    """
    started = time.perf_counter()
    moment = now or datetime.now(UTC)
    target = (out_dir or config.output_dir).resolve()
    owns_store = store is None
    state = store or Store(config.database_path)
    try:
        loaded_collection: Collection | None = collection

        def loaded() -> Collection:
            # Without bodies: the feed step renders only the bodies it publishes
            # (a step that needs every body calls load_bodies on what it needs).
            nonlocal loaded_collection
            if loaded_collection is None:
                loaded_collection = load_collection(config, state.article_cache, with_bodies=False)
            return loaded_collection

        result = _feed_step(config, target, moment, state, loaded, use_manifest=collection is None)
        # Further steps go here; one that needs the collection calls loaded() (a
        # no-change rebuild then pays for loading it, so check freshness first).
    finally:
        if owns_store:
            state.close()
    # Warnings about syndicate.toml itself (deprecated keys) are the build's too, however it is called;
    # added here, after the summary a no-change build restores, so they are counted once.
    result.problems[:0] = config.problems
    result.seconds = time.perf_counter() - started
    return result
