"""Read every article file of a site, parsing only what the cache does not have."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from ..model import Article, Problem, Severity
from ..store import ArticleCache
from .context import ArticleContext
from .markdown import load_markdown
from .plaintext import load_plaintext

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt")
# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 400

ParseResult = tuple[Article | None, list[Problem]]
_Job = tuple[str, bytes, ArticleContext, float]


def article_files(content_dir: Path) -> list[Path]:
    """Article files under ``content_dir``, sorted, skipping hidden ones."""
    found = []
    for root, dirs, files in os.walk(content_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in files:
            if name.endswith(ARTICLE_SUFFIXES) and not name.startswith((".", "_")):
                found.append(Path(root) / name)
    return sorted(found)


def parse_article_bytes(path: str, raw: bytes, context: ArticleContext, mtime: float) -> ParseResult:
    """Parse one file's bytes; the relative ``path`` is used in messages."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(path, f"not UTF-8 text (byte {exc.start}): save it as UTF-8")]
    if path.endswith(".txt"):
        published = datetime.fromtimestamp(mtime, context.tz)
        return load_plaintext(text, path, context, published, date_is_guess=True)
    return load_markdown(text, path, context)


def _parse_job(job: _Job) -> ParseResult:
    return parse_article_bytes(*job)


def _with_hash(result: ParseResult, digest: str) -> ParseResult:
    article, problems = result
    if article is not None:
        article = replace(article, content_hash=digest)
    return article, problems


def read_articles(
    content_dir: Path,
    site_root: Path,
    context: ArticleContext,
    cache: ArticleCache | None = None,
    workers: int | None = None,
) -> tuple[list[Article], list[Problem]]:
    """Parse every article file; reuse cached parses whose file bytes are unchanged."""
    if not content_dir.is_dir():
        return [], [Problem(str(content_dir), "content folder does not exist", Severity.ERROR)]
    fingerprint = context.fingerprint()
    jobs: dict[str, _Job] = {}
    keys: dict[str, str] = {}
    digests: dict[str, str] = {}
    for file in article_files(content_dir):
        relative = os.path.relpath(file, site_root)
        raw = file.read_bytes()
        digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
        mtime = file.stat().st_mtime if file.suffix == ".txt" else 0.0
        digests[relative] = digest
        # A plain-text file's date comes from its mtime, so the mtime is part of its key.
        keys[relative] = f"{digest}:{mtime}:{hashlib.blake2b(fingerprint.encode(), digest_size=8).hexdigest()}"
        jobs[relative] = (relative, raw, context, mtime)

    cached = cache.get_many(keys) if cache is not None else {}
    missing = [path for path in jobs if path not in cached]
    parsed: dict[str, ParseResult] = {}
    if len(missing) >= PARALLEL_THRESHOLD and (workers or os.cpu_count() or 1) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = pool.map(_parse_job, [jobs[p] for p in missing], chunksize=64)
            parsed = {path: _with_hash(result, digests[path]) for path, result in zip(missing, results, strict=False)}
    else:
        parsed = {path: _with_hash(_parse_job(jobs[path]), digests[path]) for path in missing}
    if cache is not None:
        cache.put_many((path, keys[path], parsed[path]) for path in missing)
        cache.forget_missing(jobs)

    articles: list[Article] = []
    problems: list[Problem] = []
    for path in jobs:
        article, found = cached.get(path) or parsed[path]
        problems.extend(found)
        if article is not None:
            articles.append(article)
    return articles, problems
