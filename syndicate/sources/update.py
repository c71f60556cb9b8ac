"""One fetch run: due sources in, stored entries and new health out.

Fetching overlaps parsing: each body goes to a parser as soon as it arrives.
Big runs parse in a process pool (feedparser is pure Python and holds the
GIL); small ones in a thread. Results are written to the state database in
one transaction per table at the end of the run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomicfile import write_atomic
from ..config import Config
from ..errors import SourceError
from ..model import Source, SourceHealth
from ..store import Store, StoredEntry
from . import decider
from .decider import FetchOutcome, OutcomeKind, Policy
from .fetch import Fetcher, FetchRequest, FetchResponse, FetchSettings, user_agent
from .normalize import normalize_feed
from .opml import read_opml, render_opml
from .parse import parse_feed

if TYPE_CHECKING:
    import httpx

# At or above this many sources to fetch, parsing moves to a process pool.
PROCESS_POOL_THRESHOLD = 24


@dataclass(frozen=True, slots=True)
class ReadJob:
    """What a parser process needs to turn one body into entries."""

    source: Source
    body: bytes
    headers: dict[str, str]
    url: str
    now: datetime
    default_zone: str = "UTC"
    max_entries: int = 1000


@dataclass(frozen=True, slots=True)
class FeedReading:
    entries: tuple[StoredEntry, ...] = ()
    problems: tuple[str, ...] = ()
    error: str = ""


def read_feed(job: ReadJob) -> FeedReading:
    """Parse and normalise one fetched feed (runs in a worker process)."""
    try:
        parsed = parse_feed(job.body, job.headers, job.url)
    except SourceError as exc:
        return FeedReading(error=exc.reason)
    normal = normalize_feed(parsed, job.source, job.now, job.default_zone, job.max_entries)
    stored = tuple(StoredEntry(job.source.url, entry, dated) for entry, dated in normal.entries)
    return FeedReading(stored, parsed.problems + normal.problems)


@dataclass
class SourceResult:
    """How one source fared in a run."""

    source: Source
    outcome: FetchOutcome | None = None  # None: not due (back-off, or disabled)
    health: SourceHealth | None = None
    entries: int = 0
    new_entries: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def status(self) -> str:
        if self.outcome is None:
            if self.health is not None and self.health.disabled:
                return "disabled"
            return "waiting"
        return self.outcome.kind.value

    @property
    def failed(self) -> bool:
        return self.outcome is not None and not self.outcome.ok


@dataclass
class FetchReport:
    """What ``syndicate fetch`` did, source by source."""

    results: list[SourceResult] = field(default_factory=list)
    pruned: int = 0
    moved: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[SourceResult]:
        return [r for r in self.results if r.failed]

    @property
    def new_entries(self) -> int:
        return sum(r.new_entries for r in self.results)


ProgressCallback = Callable[[SourceResult, int, int], None]


def policy_from(config: Config) -> Policy:
    s = config.sources
    return Policy(
        backoff=timedelta(minutes=s.backoff_minutes),
        backoff_max=timedelta(hours=s.backoff_max_hours),
        moved_after_runs=s.moved_after_runs,
    )


def opml_path(config: Config) -> Path:
    return config.path(config.sources.opml)


def _executor(config: Config, jobs: int) -> Executor:
    if jobs < PROCESS_POOL_THRESHOLD:
        return ThreadPoolExecutor(max_workers=1)
    workers = config.sources.parse_workers or os.cpu_count() or 1
    # spawn, not fork: the parent has threads (asyncio, rich), which fork copies badly.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


async def _run(
    config: Config,
    due: list[Source],
    healths: dict[str, SourceHealth],
    now: datetime,
    progress: ProgressCallback | None,
    transport: httpx.AsyncBaseTransport | None,
) -> list[tuple[SourceResult, FeedReading | None]]:
    s = config.sources
    settings = FetchSettings(
        user_agent=user_agent(config.site.url),
        concurrency=s.concurrency,
        per_host=s.per_host,
        timeout=s.timeout,
        max_bytes=s.max_bytes,
        max_redirects=s.max_redirects,
        root=config.root,
    )
    by_url = {source.url: source for source in due}
    requests = []
    for source in due:
        health = healths.get(source.url) or SourceHealth(source.url)
        requests.append(FetchRequest(source.url, health.etag, health.last_modified))
    loop = asyncio.get_running_loop()
    done: list[tuple[SourceResult, FeedReading | None]] = []
    total = len(requests)

    async def read(response: FetchResponse, result: SourceResult, executor: Executor) -> None:
        job = ReadJob(
            result.source,
            response.body,
            response.headers,
            response.final_url or response.request.url,
            now,
            max_entries=s.max_entries_per_fetch,
        )
        try:
            reading = await loop.run_in_executor(executor, read_feed, job)
        except Exception as exc:  # a crashed worker must not sink the run
            reading = FeedReading(error=f"parser failed: {type(exc).__name__}: {exc}")
        done.append((result, reading))
        if progress:
            progress(result, len(done), total)

    executor = _executor(config, len(requests))
    try:
        fetcher = Fetcher(settings, transport)
        pending: list[asyncio.Task[None]] = []
        async for response in fetcher.fetch_each(requests):
            result = SourceResult(by_url[response.request.url], response.outcome, seconds=response.seconds)
            if response.outcome.kind is OutcomeKind.FETCHED:
                pending.append(asyncio.ensure_future(read(response, result, executor)))
            else:
                done.append((result, None))
                if progress:
                    progress(result, len(done), total)
        await asyncio.gather(*pending)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return done


def fetch_sources(
    config: Config,
    store: Store,
    *,
    now: datetime | None = None,
    force: bool = False,
    only: list[str] | None = None,
    progress: ProgressCallback | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FetchReport:
    """Fetch every due source, store new entries and health; one failure never stops the rest.

    ``force`` fetches sources that are backing off (never those disabled by
    410 Gone); ``only`` limits the run to the listed URLs.
    """
    started = time.perf_counter()
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    policy = policy_from(config)
    sources = read_opml(opml_path(config))
    if only:
        sources = [s for s in sources if s.url in set(only)]
    healths = store.source_health.all()
    due = decider.due_sources(sources, healths, moment, force=force)
    due_urls = {s.url for s in due}
    report = FetchReport()
    ran = asyncio.run(_run(config, due, healths, moment, progress, transport)) if due else []
    new_healths: list[SourceHealth] = []
    entries: list[StoredEntry] = []
    for result, reading in ran:
        outcome = result.outcome
        assert outcome is not None
        if reading is not None:
            result.problems.extend(reading.problems)
            if reading.error:
                outcome = FetchOutcome(OutcomeKind.FAILED, outcome.status, reading.error)
            else:
                outcome = dataclasses.replace(outcome, entries=len(reading.entries))
                entries.extend(reading.entries)
                result.entries = len(reading.entries)
            result.outcome = outcome
        health = decider.next_health(
            healths.get(result.source.url) or SourceHealth(result.source.url), outcome, moment, policy
        )
        result.health = health
        new_healths.append(health)
    store.source_health.save_many(new_healths)
    new_by_source = store.outside_entries.add_many(entries)
    for result, _ in ran:
        result.new_entries = new_by_source.get(result.source.url, 0)
    report.results = [r for r, _ in ran]
    for source in sources:
        if source.url not in due_urls:
            report.results.append(SourceResult(source, None, healths.get(source.url)))
    order = {source.url: index for index, source in enumerate(sources)}
    report.results.sort(key=lambda r: order.get(r.source.url, 0))
    report.pruned = store.outside_entries.prune(moment - timedelta(days=config.sources.retention_days))
    report.moved = _apply_settled_moves(config, store, new_healths, policy)
    report.seconds = time.perf_counter() - started
    return report


def _apply_settled_moves(
    config: Config, store: Store, healths: list[SourceHealth], policy: Policy
) -> list[tuple[str, str]]:
    """Rename sources whose permanent redirect has held long enough, in the OPML file and the state."""
    settled = [(h.url, h.moved_to) for h in healths if decider.move_is_settled(h, policy)]
    if not settled:
        return []
    path = opml_path(config)
    sources = read_opml(path)
    listed = {s.url for s in sources}
    # A source that moved onto another listed source is left alone: merging
    # two sources' state is a decision for the editor, not the fetcher.
    moves = [(old, new) for old, new in settled if old in listed and new not in listed]
    if not moves:
        return []
    renamed = dict(moves)
    updated = [dataclasses.replace(s, url=renamed[s.url]) if s.url in renamed else s for s in sources]
    write_atomic(path, render_opml(updated, f"{config.site.title}: outside sources"))
    for old, new in moves:
        store.source_health.rename(old, new)
        store.outside_entries.rename_source(old, new)
    return moves
