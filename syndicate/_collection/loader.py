"""Read every article file of a site, parsing only what the cache does not have.

The cheap path comes first: a file whose size and mtime are those recorded in
the parse cache is not read at all. A file that changed on disk is read and
hashed; if its bytes hash the same, the cached parse is still used. Only new
or edited files are parsed, in forked worker processes when there are many.

Memory stays flat as the collection grows: the parent never holds the files'
bytes (each worker reads the file it parses), results stream back one at a
time as the pickle the cache stores (one pickle per article, never two) and
go to the cache in batches, and the tags and authors shared by thousands of
articles are kept once.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .._model import Article, Problem, Severity
from .._parallel import parallel_imap, paused_gc
from .._store import ArticleCache
from .._store.articles import PAYLOAD_FORMAT, SharedValues, dump_parse, load_parse
from .authors import AUTHORS_FOLDER
from .context import ArticleContext
from .markdown import complete_markdown, feed_date, load_markdown
from .plaintext import load_plaintext

if TYPE_CHECKING:
    from .ahead import BodiesAhead

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt")
MARKDOWN_SUFFIXES = (".md", ".markdown")
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 400
# Parses written to the cache per transaction (and held in memory at most).
_BATCH = 2000
# Suffix of the cache key of a parse without the body (see load_markdown's with_body).
_STUB = ":stub"

ParseResult = tuple[Article | None, list[Problem]]
# What a worker is given: (relative path, absolute path, mtime as a plain-text date, render the body?)
_ParseJob = tuple[str, str, float, bool]
# What a worker is given to complete a stub: (the stub, absolute path)
_CompleteJob = tuple[Article, str]
_J = TypeVar("_J")


def article_files(
    content_dir: Path, refused: list[tuple[str, str, Severity]] | None = None
) -> list[tuple[str, os.stat_result]]:
    """Article files under ``content_dir`` (as path strings) with their stat, sorted, skipping hidden ones.

    Strings, not ``Path`` objects: building 100,000 of those costs more than
    stat-ing the files, and this runs on every build, changed or not.

    The walk stays inside the content folder: a symlink whose target resolves
    outside it (``leak.txt -> /etc/passwd``) is refused, a symlinked folder is
    never walked (one pointing inside would read its articles twice, and a
    loop would never end), and a broken or looping link is skipped. Each is
    added to ``refused`` as ``(path, reason, severity)`` when a list is given.
    """
    found: list[tuple[str, os.stat_result]] = []
    top = str(content_dir)
    root = os.path.realpath(content_dir)
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            listing = os.scandir(folder)
        except OSError as exc:
            # An unreadable folder (permissions, removed meanwhile) is that folder's problem, not the build's.
            if refused is not None:
                refused.append((folder, f"cannot read folder: {exc.strerror or exc}", Severity.ERROR))
            continue
        with listing as entries:
            for entry in entries:
                if entry.name.startswith((".", "_")):
                    continue
                if folder == top and entry.name == AUTHORS_FOLDER:
                    continue  # the author registry: records of people, not articles
                # is_symlink() comes from the directory listing: no extra system call for ordinary files.
                if entry.is_symlink():
                    reason = _refused_link(entry.path, root, entry.name.endswith(ARTICLE_SUFFIXES))
                    if reason is not None:
                        if refused is not None and reason[0]:
                            refused.append((entry.path, *reason))
                        continue
                if entry.is_dir():
                    stack.append(entry.path)
                elif entry.name.endswith(ARTICLE_SUFFIXES) and entry.is_file():
                    found.append((entry.path, entry.stat()))
    found.sort(key=lambda item: item[0])
    return found


def _refused_link(link: str, root: str, is_article: bool) -> tuple[str, Severity] | None:
    """Why the symlink ``link`` is not followed (an empty reason: skipped without a word), or ``None``."""
    target = os.path.realpath(link)
    if os.path.isdir(target):
        if os.path.commonpath((target, root)) != root:
            return f"symlinked folder points outside the content folder (to {target}): not read", Severity.ERROR
        return "symlinked folder is not walked: its articles are read where they really are", Severity.WARNING
    if not is_article:
        return None if os.path.commonpath((target, root)) == root else ("", Severity.WARNING)
    if not os.path.isfile(target):
        return "broken or looping symlink: skipped", Severity.WARNING
    if os.path.commonpath((target, root)) != root:
        return f"symlink points outside the content folder (to {target}): not published", Severity.ERROR
    return None


def stat_signature(info: os.stat_result) -> str:
    """Size and mtime: any edit of the file changes them."""
    return f"{info.st_size}:{info.st_mtime_ns}"


# How recent an mtime must be, relative to when it was read, for the stat not to be trusted:
# file systems keep mtimes at coarse granularity (a clock tick on Linux, a second or two on
# some network and FAT file systems), so an edit made within this of our read can leave the
# size and mtime exactly as recorded. A module constant so a test can say "much later".
RACY_WINDOW_NS = 2_000_000_000


def is_racy(info: os.stat_result, now_ns: int) -> bool:
    """Whether ``info`` was taken too close to the file's last change to prove later edits (git's racy rule)."""
    return info.st_mtime_ns >= now_ns - RACY_WINDOW_NS


def trusted_stat(info: os.stat_result, now_ns: int) -> str:
    """The stat to record for a file stat-ed at ``now_ns``: its signature, or ``""`` when racy.

    An empty recorded stat matches no file, so the next build hashes the file's
    bytes instead of trusting a size and mtime that an edit might have kept.
    """
    return "" if is_racy(info, now_ns) else stat_signature(info)


def parse_article_bytes(
    path: str, raw: bytes, context: ArticleContext, mtime: float, with_body: bool = True
) -> ParseResult:
    """Parse one file's bytes; the relative ``path`` is used in messages."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, [
            Problem(path, f"not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x}): save it as UTF-8", line=line)
        ]
    if path.endswith(".txt"):
        # Whole seconds: RSS dates cannot carry fractions, and a date must survive a round trip.
        try:
            published = feed_date(datetime.fromtimestamp(int(mtime), context.tz))
        except (ValueError, OverflowError, OSError) as exc:
            return None, [Problem(path, f"file modification time unusable as a date: {exc}", Severity.ERROR)]
        return load_plaintext(text, path, context, published, date_is_guess=True)
    return load_markdown(text, path, context, with_body)


def _digest(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _parse(job: _ParseJob, context: ArticleContext) -> tuple[str, ParseResult]:
    """Read, hash and parse one file: (digest, parse)."""
    relative, absolute, mtime, with_body = job
    try:
        with open(absolute, "rb") as file:  # not Path(...): a path object per file costs more than the read
            raw = file.read()
    except OSError as exc:
        return "", (None, [Problem(relative, f"cannot read: {exc.strerror or exc}")])
    digest = _digest(raw)
    article, problems = parse_article_bytes(relative, raw, context, mtime, with_body)
    if article is not None:
        # Made a moment ago and held nowhere else: set in place (dataclasses.replace rebuilds every field).
        object.__setattr__(article, "content_hash", digest)
    return digest, (article, problems)


def _parse_job(job: _ParseJob, context: ArticleContext) -> tuple[str, bytes]:
    """Read, hash and parse one file: (digest, pickled parse)."""
    digest, parsed = _parse(job, context)
    return digest, dump_parse(parsed)


def complete_stub(job: _CompleteJob, context: ArticleContext) -> tuple[str, ParseResult]:
    """Render a stub's body: (digest, parse); a file edited since the stub was read is parsed again in full."""
    stub, absolute = job
    try:
        raw = Path(absolute).read_bytes()
    except OSError:
        return stub.content_hash, (stub, [])  # gone meanwhile: published as it is
    digest = _digest(raw)
    if digest != stub.content_hash:
        return _parse((stub.source_path, absolute, 0.0, True), context)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _parse((stub.source_path, absolute, 0.0, True), context)
    return digest, (complete_markdown(stub, text, context), [])


def _complete_job(job: _CompleteJob, context: ArticleContext) -> tuple[str, bytes]:
    """:func:`complete_stub`, the parse pickled (as the cache stores it)."""
    digest, parsed = complete_stub(job, context)
    return digest, dump_parse(parsed)


def _run(
    jobs: Sequence[_J],
    run: Callable[[_J, ArticleContext], tuple[str, bytes]],
    context: ArticleContext,
    workers: int | None,
) -> Iterator[tuple[str, bytes]]:
    """``run`` over ``jobs`` in order, in forked workers when there are many; results stream."""
    return parallel_imap(
        lambda job: run(job, context), jobs, min_items=PARALLEL_THRESHOLD, workers=workers, chunksize=32
    )


class _Shared:
    """One instance of each equal tag and author across the collection (thousands of articles share them)."""

    def __init__(self) -> None:
        self._pool: dict[object, object] = {}

    def article(self, article: Article) -> Article:
        pool = self._pool
        tags = tuple(pool.setdefault(tag, tag) for tag in article.tags)
        author = pool.setdefault(article.author, article.author) if article.author is not None else None
        # The article was unpickled a moment ago and nothing else refers to it yet.
        object.__setattr__(article, "tags", tags)
        object.__setattr__(article, "author", author)
        return article


def read_articles(
    content_dir: Path,
    site_root: Path,
    context: ArticleContext,
    cache: ArticleCache | None = None,
    workers: int | None = None,
    with_bodies: bool = True,
) -> tuple[list[Article], list[Problem]]:
    """Parse every article file; reuse cached parses of unchanged files.

    ``with_bodies=False`` returns Markdown articles as stubs without their
    rendered body (see :func:`load_markdown`); :func:`load_bodies` completes
    the ones that are needed. Plain-text articles are cheap and always whole.
    """
    if not content_dir.is_dir():
        return [], [Problem(str(content_dir), "content folder does not exist", Severity.ERROR)]
    context_key = _context_key(context)
    known = cache.index() if cache is not None else {}
    prefix = os.path.relpath(content_dir, site_root)
    content_root = str(content_dir)
    refused: list[tuple[str, str, Severity]] = []
    walked_at = time.time_ns()
    listed = article_files(content_dir, refused)
    keys: dict[str, str] = {}
    stats: dict[str, str] = {}
    jobs: list[_ParseJob] = []
    stubbed: dict[str, bool] = {}
    touched: list[tuple[str, str]] = []
    for absolute, info in listed:
        relative = os.path.join(prefix, absolute[len(content_root) + 1 :])
        stat = trusted_stat(info, walked_at)
        # A plain-text file's date comes from its mtime, so the mtime is part of its key.
        mtime = info.st_mtime if absolute.endswith(".txt") else 0.0
        stub = not with_bodies and absolute.endswith(MARKDOWN_SUFFIXES)
        stats[relative] = stat
        stubbed[relative] = stub
        stored_key, stored_stat = known.get(relative, ("", ""))
        if stored_key:
            key = f"{stored_key.split(':', 1)[0]}:{mtime}:{context_key}"
            if stat and stored_stat == stat and _usable(stored_key, key, stub):
                keys[relative] = stored_key
                continue
            if stored_stat != stat or not stat:
                # Touched, or edited? Hash it: a file saved without change keeps its parse.
                try:
                    key = f"{_digest(Path(absolute).read_bytes())}:{mtime}:{context_key}"
                except OSError:
                    key = ""  # unreadable now: the parse job reports it, naming the file
                if key and _usable(stored_key, key, stub):
                    keys[relative] = stored_key
                    touched.append((stat, relative))
                    continue
        jobs.append((relative, absolute, mtime, not stub))

    shared = _Shared()
    # One table of unpickled tags and authors for every parse: each distinct one is unpickled once.
    values: SharedValues = {}
    parsed: dict[str, ParseResult] = {}
    batch: list[tuple[str, str, str, bytes]] = []
    for job, (digest, payload) in zip(jobs, _run(jobs, _parse_job, context, workers), strict=True):
        relative, _, mtime, _ = job
        keys[relative] = f"{digest}:{mtime}:{context_key}" + (_STUB if stubbed[relative] else "")
        article, found = load_parse(payload, values)
        parsed[relative] = (shared.article(article) if article is not None else None, found)
        if cache is not None and digest:
            batch.append((relative, keys[relative], stats[relative], payload))
            if len(batch) >= _BATCH:
                cache.put_many(batch)
                batch = []
    if cache is not None:
        cache.put_many(batch)
        cache.update_stats(touched)
        if not known.keys() <= keys.keys():  # a file is gone since the last build (else there is nothing to drop)
            cache.forget_missing(keys)
    # Every path asked for here matched ``known`` (rows written since are the parsed ones, not asked for).
    asked = {p: keys[p] for p in keys if p not in parsed}
    cached = cache.get_many(asked, values, known) if cache is not None else {}

    articles: list[Article] = []
    problems = [
        Problem(os.path.join(prefix, link[len(content_root) + 1 :]), reason, severity)
        for link, reason, severity in refused
    ]
    for path in keys:
        article, found = parsed.get(path) or cached[path]
        problems.extend(found)
        if article is not None:
            articles.append(shared.article(article) if path in cached else article)
    return articles, problems


def _context_key(context: ArticleContext) -> str:
    return hashlib.blake2b(f"{context.fingerprint()}\0{PAYLOAD_FORMAT}".encode(), digest_size=8).hexdigest()


def _usable(stored_key: str, key: str, stub_is_enough: bool) -> bool:
    """A cached parse serves if it was made from these bytes, whole, or as a stub when a stub will do."""
    return stored_key == key or (stub_is_enough and stored_key == key + _STUB)


def _rendered_for(done: Mapping[str, tuple[str, str, bytes]], stub: Article) -> bool:
    found = done.get(stub.source_path)
    return found is not None and found[0] == stub.content_hash


def is_stub(article: Article) -> bool:
    """True for a Markdown article read without its body (``with_bodies=False``)."""
    return article.source_path.endswith(MARKDOWN_SUFFIXES) and not article.content_html


def load_bodies(
    articles: list[Article],
    site_root: Path,
    context: ArticleContext,
    cache: ArticleCache | None = None,
    workers: int | None = None,
    ahead: BodiesAhead | None = None,
    bodiless: Container[tuple[str, str]] = (),
) -> dict[str, Article]:
    """The whole articles for the stubs among ``articles``, by source path.

    Each comes from the parse cache when a whole parse of the same bytes is
    there, or from ``ahead`` when it was rendered in the background; else
    only its body is rendered (the front matter was read already), in worker
    processes when there are many. A file edited since its stub was read is
    parsed again in full.

    A stub whose (source path, content hash) is in ``bodiless`` is left out
    unless it came from the parse cache (the caller does not need it whole):
    its new parse goes to the cache as it came, never unpickled here.
    """
    context_key = _context_key(context)
    stubs = {a.source_path: a for a in articles if is_stub(a)}
    # One table of unpickled tags and authors for every parse read here: each distinct one is built once.
    values: SharedValues = {}
    wanted = {p: f"{a.content_hash}:0.0:{context_key}" for p, a in stubs.items()}
    # The stat recorded when the stub's bytes were read: it belongs to those bytes. A stat taken
    # now, after the body was read, could be that of an edit made since, recorded with the old
    # content, and every later build would trust it (the in-place edit lost for good).
    recorded = cache.index() if cache is not None else {}
    whole = cache.get_many(wanted, values, recorded) if cache else {}
    missing = [stub for path, stub in stubs.items() if path not in whole]
    # Bodies rendered in the background (see .ahead) for these very stubs are taken as they are.
    done = ahead.rendered() if ahead is not None else {}
    ready = [((stub, ""), done[stub.source_path][1:]) for stub in missing if _rendered_for(done, stub)]
    root = str(site_root)
    todo = [(stub, os.path.join(root, stub.source_path)) for stub in missing if not _rendered_for(done, stub)]
    results = chain(ready, zip(todo, _run(todo, _complete_job, context, workers), strict=True))
    batch: list[tuple[str, str, str, bytes]] = []
    with paused_gc():  # thousands of whole articles, all kept: a full collection would only walk them
        for (stub, _), (digest, payload) in results:
            if digest != stub.content_hash or (stub.source_path, digest) not in bodiless:
                whole[stub.source_path] = load_parse(payload, values)
            if cache is not None and digest:
                # Bytes other than the stub's (edited meanwhile): no stat is known to match them.
                stat = recorded.get(stub.source_path, ("", ""))[1] if digest == stub.content_hash else ""
                batch.append((stub.source_path, f"{digest}:0.0:{context_key}", stat, payload))
    if cache is not None:
        cache.put_many(batch)
    return {path: article for path, (article, _) in whole.items() if article is not None}
