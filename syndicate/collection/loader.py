"""Read every article file of a site, parsing only what the cache does not have.

The cheap path comes first: a file whose size and mtime are those recorded in
the parse cache is not read at all. A file that changed on disk is read and
hashed; if its bytes hash the same, the cached parse is still used. Only new
or edited files are parsed, in worker processes when there are many of them.
Workers are forked, so they inherit the file bytes instead of receiving them
through a pipe, and they send back the pickled parse, which is exactly what
the cache stores: one pickle per article, never two.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from ..model import Article, Problem, Severity
from ..store import ArticleCache
from ..store.articles import dump_parse, load_parse
from .context import ArticleContext
from .markdown import complete_markdown, load_markdown
from .plaintext import load_plaintext

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt")
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 400

ParseResult = tuple[Article | None, list[Problem]]
# (relative path, bytes, mtime used as a plain-text file's date, content digest, render the body?)
_Job = tuple[str, bytes, float, str, bool]
# Suffix of the cache key of a parse without the body (see load_markdown's with_body).
_STUB = ":stub"
MARKDOWN_SUFFIXES = (".md", ".markdown")

# Set in the parent just before forking; the workers read it, nothing is pickled.
_FORK_JOBS: list[_Job] = []
_FORK_CONTEXT: ArticleContext | None = None


def article_files(content_dir: Path) -> list[tuple[Path, os.stat_result]]:
    """Article files under ``content_dir`` with their stat, sorted, skipping hidden ones."""
    found = []
    for root, dirs, files in os.walk(content_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in files:
            if name.endswith(ARTICLE_SUFFIXES) and not name.startswith((".", "_")):
                path = os.path.join(root, name)
                found.append((Path(path), os.stat(path)))
    return sorted(found)


def stat_signature(info: os.stat_result) -> str:
    """Size and mtime: any edit of the file changes them."""
    return f"{info.st_size}:{info.st_mtime_ns}"


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
        published = datetime.fromtimestamp(int(mtime), context.tz)
        return load_plaintext(text, path, context, published, date_is_guess=True)
    return load_markdown(text, path, context, with_body)


def _parse_to_payload(job: _Job, context: ArticleContext) -> bytes:
    path, raw, mtime, digest, with_body = job
    article, problems = parse_article_bytes(path, raw, context, mtime, with_body)
    if article is not None:
        article = replace(article, content_hash=digest)
    return dump_parse((article, problems))


def _forked_parse(index: int) -> bytes:
    assert _FORK_CONTEXT is not None
    return _parse_to_payload(_FORK_JOBS[index], _FORK_CONTEXT)


def _parse_all(jobs: list[_Job], context: ArticleContext, workers: int | None) -> list[bytes]:
    processes = workers or os.cpu_count() or 1
    if len(jobs) < PARALLEL_THRESHOLD or processes < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [_parse_to_payload(job, context) for job in jobs]
    global _FORK_JOBS, _FORK_CONTEXT
    _FORK_JOBS, _FORK_CONTEXT = jobs, context
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return pool.map(_forked_parse, range(len(jobs)), chunksize=32)
    finally:
        _FORK_JOBS, _FORK_CONTEXT = [], None


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
    keys: dict[str, str] = {}
    stats: dict[str, str] = {}
    jobs: list[_Job] = []
    touched: list[tuple[str, str]] = []
    for file, info in article_files(content_dir):
        relative = os.path.relpath(file, site_root)
        stat = stat_signature(info)
        # A plain-text file's date comes from its mtime, so the mtime is part of its key.
        mtime = info.st_mtime if file.suffix == ".txt" else 0.0
        stubbed = not with_bodies and file.suffix in MARKDOWN_SUFFIXES
        stats[relative] = stat
        stored_key, stored_stat = known.get(relative, ("", ""))
        if stored_stat == stat:
            key = f"{stored_key.split(':', 1)[0]}:{mtime}:{context_key}"
            if _usable(stored_key, key, stubbed):
                keys[relative] = stored_key
                continue
        raw = file.read_bytes()
        key = f"{hashlib.blake2b(raw, digest_size=16).hexdigest()}:{mtime}:{context_key}"
        if _usable(stored_key, key, stubbed):
            keys[relative] = stored_key
            touched.append((stat, relative))
            continue
        keys[relative] = key + _STUB if stubbed else key
        jobs.append((relative, raw, mtime, key.split(":", 1)[0], not stubbed))

    payloads = _parse_all(jobs, context, workers)
    parsed = {job[0]: load_parse(payload) for job, payload in zip(jobs, payloads, strict=True)}
    cached = cache.get_many({path: keys[path] for path in keys if path not in parsed}) if cache is not None else {}
    if cache is not None:
        cache.put_many(
            (job[0], keys[job[0]], stats[job[0]], payload) for job, payload in zip(jobs, payloads, strict=True)
        )
        cache.update_stats(touched)
        cache.forget_missing(keys)
    del payloads

    articles: list[Article] = []
    problems: list[Problem] = []
    for path in keys:
        article, found = parsed.get(path) or cached[path]
        problems.extend(found)
        if article is not None:
            articles.append(article)
    return articles, problems


def _context_key(context: ArticleContext) -> str:
    return hashlib.blake2b(context.fingerprint().encode(), digest_size=8).hexdigest()


def _usable(stored_key: str, key: str, stub_is_enough: bool) -> bool:
    """A cached parse serves if it was made from these bytes, whole, or as a stub when a stub will do."""
    return stored_key == key or (stub_is_enough and stored_key == key + _STUB)


def is_stub(article: Article) -> bool:
    """True for a Markdown article read without its body (``with_bodies=False``)."""
    return article.source_path.endswith(MARKDOWN_SUFFIXES) and not article.content_html


_FORK_STUBS: list[tuple[Article, bytes]] = []


def _complete_to_payload(stub: Article, raw: bytes, context: ArticleContext) -> bytes:
    return dump_parse((complete_markdown(stub, raw.decode("utf-8"), context), []))


def _forked_complete(index: int) -> bytes:
    assert _FORK_CONTEXT is not None
    stub, raw = _FORK_STUBS[index]
    return _complete_to_payload(stub, raw, _FORK_CONTEXT)


def _complete_all(work: list[tuple[Article, bytes]], context: ArticleContext, workers: int | None) -> list[bytes]:
    processes = workers or os.cpu_count() or 1
    if len(work) < PARALLEL_THRESHOLD or processes < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [_complete_to_payload(stub, raw, context) for stub, raw in work]
    global _FORK_STUBS, _FORK_CONTEXT
    _FORK_STUBS, _FORK_CONTEXT = work, context
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return pool.map(_forked_complete, range(len(work)), chunksize=32)
    finally:
        _FORK_STUBS, _FORK_CONTEXT = [], None


def load_bodies(
    articles: list[Article],
    site_root: Path,
    context: ArticleContext,
    cache: ArticleCache | None = None,
    workers: int | None = None,
) -> dict[str, Article]:
    """The whole articles for the stubs among ``articles``, by source path.

    Each comes from the parse cache when a whole parse of the same bytes is
    there; else only its body is rendered (the front matter was read already),
    in worker processes when there are many. A file edited since its stub was
    read is parsed again in full.
    """
    context_key = _context_key(context)
    stubs = {a.source_path: a for a in articles if is_stub(a)}
    keys = {path: f"{a.content_hash}:0.0:{context_key}" for path, a in stubs.items()}
    whole = cache.get_many(keys) if cache is not None else {}
    work: list[tuple[Article, bytes]] = []
    jobs: list[_Job] = []
    stats: dict[str, str] = {}
    for path, stub in stubs.items():
        if path in whole:
            continue
        file = site_root / path
        try:
            raw = file.read_bytes()
            stats[path] = stat_signature(file.stat())
        except OSError:
            continue  # gone since the stub was read: the stub is published as it is
        digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
        if digest == stub.content_hash:
            work.append((stub, raw))
        else:
            keys[path] = f"{digest}:0.0:{context_key}"
            jobs.append((path, raw, 0.0, digest, True))
    done = [
        (stub.source_path, payload)
        for (stub, _), payload in zip(work, _complete_all(work, context, workers), strict=True)
    ]
    done += [(job[0], payload) for job, payload in zip(jobs, _parse_all(jobs, context, workers), strict=True)]
    if cache is not None:
        cache.put_many((path, keys[path], stats[path], payload) for path, payload in done)
    for path, payload in done:
        whole[path] = load_parse(payload)
    return {path: article for path, (article, _) in whole.items() if article is not None}
