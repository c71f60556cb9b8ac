"""One fetch run's work: every due source requested, each body parsed as it arrives.

Fetching overlaps parsing: each body goes to a parser as soon as it arrives.
Big runs parse in a process pool (feedparser is pure Python and holds the
GIL); small ones in a thread; a run with nothing to parse (all 304) starts
neither. What the results mean for the state is :mod:`.fetch`'s business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .._config import Config
from .._errors import SourceError
from .._model import Source, SourceHealth
from .._parallel import spawn_context, worker_count
from .._store import StoredEntry
from .decider import FetchOutcome, OutcomeKind
from .retrieve import Fetcher, FetchRequest, FetchResponse, FetchSettings

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
    # Imported here, in the worker: a warm fetch (every answer 304) parses nothing and skips them.
    from .normalize import normalize_feed
    from .parse import parse_feed

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

    def as_json(self) -> dict[str, Any]:
        """One source's line of ``syndicate fetch --json``."""
        outcome = self.outcome
        return {
            "url": self.source.url,
            "title": self.source.title,
            "status": self.status,
            "http_status": outcome.status if outcome else None,
            "failed": self.failed,
            "error": outcome.error if outcome else "",
            "entries": self.entries,
            "new_entries": self.new_entries,
            "problems": self.problems,
            "next_attempt": self.health.next_attempt.isoformat() if self.health and self.health.next_attempt else None,
            "seconds": round(self.seconds, 3),
        }

    def failure_json(self) -> dict[str, Any]:
        """A failed source as the ``failed`` lists of ``fetch --json`` and ``build --fetch --json`` show it."""
        return {"url": self.source.url, "title": self.source.title, "error": self.outcome.error if self.outcome else ""}


ProgressCallback = Callable[[SourceResult, int, int], None]


def unexpected_failure(stage: str, exc: BaseException) -> str:
    """A one-line reason for an exception nobody expected in ``stage`` of one source."""
    return f"unexpected {type(exc).__name__} while {stage}: {exc}"


def _executor(config: Config, jobs: int) -> Executor:
    if jobs < PROCESS_POOL_THRESHOLD:
        return ThreadPoolExecutor(max_workers=1)
    # spawn, not fork: the parent has threads (asyncio, rich), which fork copies badly (see _parallel).
    return ProcessPoolExecutor(max_workers=worker_count(config.sources.parse_workers), mp_context=spawn_context())


async def fetch_and_read(
    config: Config,
    settings: FetchSettings,
    due: list[Source],
    healths: dict[str, SourceHealth],
    now: datetime,
    progress: ProgressCallback | None,
) -> list[tuple[SourceResult, FeedReading | None]]:
    """Fetch ``due`` within ``settings``; each source's result, with its reading when a body was parsed."""
    s = config.sources
    by_url = {source.url: source for source in due}
    requests = []
    for source in due:
        health = healths.get(source.url) or SourceHealth(source.url)
        requests.append(FetchRequest(source.url, health.etag, health.last_modified))
    loop = asyncio.get_running_loop()
    done: list[tuple[SourceResult, FeedReading | None]] = []
    total = len(requests)

    # Made on the first body to parse: a warm run (all 304) starts no pool, no worker process.
    executors: list[Executor] = []

    async def read(response: FetchResponse, result: SourceResult) -> None:
        job = ReadJob(
            result.source,
            response.body,
            response.headers,
            response.final_url or response.request.url,
            now,
            max_entries=s.max_entries_per_fetch,
        )
        if not executors:
            executors.append(_executor(config, len(requests)))
        try:
            reading = await loop.run_in_executor(executors[0], read_feed, job)
        except Exception as exc:  # a crashed worker, or a parser bug one feed found: that source's failure
            reading = FeedReading(error=unexpected_failure("parsing", exc))
        done.append((result, reading))
        if progress:
            progress(result, len(done), total)

    try:
        fetcher = Fetcher(settings)
        pending: list[asyncio.Task[None]] = []
        async for response in fetcher.fetch_each(requests):
            result = SourceResult(by_url[response.request.url], response.outcome, seconds=response.seconds)
            if response.outcome.kind is OutcomeKind.FETCHED:
                pending.append(asyncio.ensure_future(read(response, result)))
            else:
                done.append((result, None))
                if progress:
                    progress(result, len(done), total)
        await asyncio.gather(*pending)
    finally:
        for executor in executors:
            executor.shutdown(wait=True, cancel_futures=True)
    return done
