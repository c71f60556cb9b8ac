"""The fetch stage: ``fetch_sources``, from the OPML list to stored entries and source health.

The stage's steps, each in its own module: :mod:`.decider` says which
sources are due; :mod:`.update` fetches them (through :mod:`.retrieve`,
the only module that talks HTTP) and parses each body as it arrives;
here the entries are stored, the health each outcome leads to is saved
(in one transaction per table), old entries are pruned and settled
permanent redirects renamed in the OPML file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._config import Config
from .._model import SourceHealth
from .._store import Store, StoredEntry
from . import decider
from .decider import FetchOutcome, OutcomeKind, Policy
from .opml import read_opml, write_opml
from .retrieve import FetchSettings, user_agent
from .update import FeedReading, ProgressCallback, SourceResult, fetch_and_read, unexpected_failure

if TYPE_CHECKING:
    from .address_guard import Resolver


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

    def as_json(self) -> dict[str, Any]:
        """What ``syndicate fetch --json`` prints."""
        return {
            "sources": [r.as_json() for r in self.results],
            "failed": [r.failure_json() for r in self.failed],
            "new_entries": self.new_entries,
            "pruned": self.pruned,
            "moved": [{"from": old, "to": new} for old, new in self.moved],
            "seconds": round(self.seconds, 3),
        }


# No configured wait is longer than this (ten years): a typo in syndicate.toml
# must not overflow the date arithmetic of every run.
LONGEST_CONFIGURED_WAIT = timedelta(days=3650)


def _wait(seconds: float) -> timedelta:
    return timedelta(seconds=min(seconds, LONGEST_CONFIGURED_WAIT.total_seconds()))


def policy_from(config: Config) -> Policy:
    s = config.sources
    return Policy(
        backoff=_wait(s.backoff_minutes * 60),
        backoff_max=_wait(s.backoff_max_hours * 3600),
        moved_after_runs=s.moved_after_runs,
        max_wait=_wait(s.max_wait_days * 86400),
    )


def opml_path(config: Config) -> Path:
    return config.path(config.sources.opml)


@dataclass(frozen=True, slots=True)
class NetworkHooks:
    """What tests (and unusual deployments) may change about the network, beyond the config."""

    trusted_addresses: frozenset[str] = frozenset()
    resolver: Resolver | None = None


def fetch_settings(config: Config, hooks: NetworkHooks) -> FetchSettings:
    """The retriever's settings: ``[sources]`` and the network hooks."""
    s = config.sources
    return FetchSettings(
        user_agent=user_agent(config.site.url),
        concurrency=s.concurrency,
        per_host=s.per_host,
        timeout=s.timeout,
        max_bytes=s.max_bytes,
        max_redirects=s.max_redirects,
        root=config.root,
        max_wait=policy_from(config).max_wait,
        allow_private=s.allow_private,
        trusted_addresses=hooks.trusted_addresses,
        resolver=hooks.resolver,
    )


def fetch_sources(
    config: Config,
    store: Store,
    *,
    now: datetime | None = None,
    force: bool = False,
    only: list[str] | None = None,
    progress: ProgressCallback | None = None,
    trusted_addresses: Collection[str] = (),
    resolver: Resolver | None = None,
) -> FetchReport:
    """Fetch every due source, store new entries and health; one failure never stops the rest.

    ``force`` fetches sources that are backing off (never those disabled by
    410 Gone); ``only`` limits the run to the listed URLs.

    Whatever goes wrong with one source (an error status, a hostile header,
    an exception in parsing, normalising or storing its entries) is that
    source's failure: its health records a one-line reason and backs off,
    and every other source's result is kept. Only a broken OPML list or an
    unusable state database stop the run, with a :class:`SyndicateError`.

    For tests: ``trusted_addresses`` are IP addresses treated as public
    although they are not (a loopback server standing in for the internet),
    ``resolver`` replaces the system's DNS resolver.
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
    hooks = NetworkHooks(frozenset(trusted_addresses), resolver)
    ran: list[tuple[SourceResult, FeedReading | None]] = []
    if due:
        settings = fetch_settings(config, hooks)
        ran = asyncio.run(fetch_and_read(config, settings, due, healths, moment, progress))
    entries: dict[str, list[StoredEntry]] = {}
    for result, reading in ran:
        outcome = result.outcome
        assert outcome is not None
        if reading is not None:
            result.problems.extend(reading.problems)
            if reading.error:
                outcome = FetchOutcome(OutcomeKind.FAILED, outcome.status, reading.error)
            else:
                outcome = dataclasses.replace(outcome, entries=len(reading.entries))
                entries[result.source.url] = list(reading.entries)
                result.entries = len(reading.entries)
            result.outcome = outcome
    new_by_source = _store_entries(store, ran, entries)
    new_healths: list[SourceHealth] = []
    for result, _ in ran:
        result.new_entries = new_by_source.get(result.source.url, 0)
        result.health = _next_health(healths.get(result.source.url), result, moment, policy)
        new_healths.append(result.health)
    store.source_health.save_many(new_healths)
    report.results = [r for r, _ in ran]
    for source in sources:
        if source.url not in due_urls:
            report.results.append(SourceResult(source, None, healths.get(source.url)))
    order = {source.url: index for index, source in enumerate(sources)}
    report.results.sort(key=lambda r: order.get(r.source.url, 0))
    report.pruned = store.outside_entries.prune(moment - timedelta(days=config.sources.retention_days))
    report.moved = _apply_settled_moves(config, store, new_healths, policy, report)
    report.seconds = time.perf_counter() - started
    return report


def _store_entries(
    store: Store, ran: list[tuple[SourceResult, FeedReading | None]], entries: dict[str, list[StoredEntry]]
) -> dict[str, int]:
    """Store every source's entries; how many were new, per source.

    One transaction for all, the fast path. If it fails, each source is
    stored on its own, so the entries that broke it fail only their source.
    """
    if not entries:
        return {}
    try:
        return store.outside_entries.add_many(e for group in entries.values() for e in group)
    except Exception:  # which source broke it is found out below, one by one
        pass
    new: dict[str, int] = {}
    for result, _ in ran:
        group = entries.get(result.source.url)
        if not group:
            continue
        try:
            new.update(store.outside_entries.add_many(group))
        except Exception as exc:  # this source's entries broke the store: its failure, not the run's
            status = result.outcome.status if result.outcome else None
            result.outcome = FetchOutcome(OutcomeKind.FAILED, status, unexpected_failure("storing entries", exc))
            result.entries = 0
    return new


def _next_health(health: SourceHealth | None, result: SourceResult, now: datetime, policy: Policy) -> SourceHealth:
    outcome = result.outcome
    assert outcome is not None
    current = health or SourceHealth(result.source.url)
    try:
        return decider.next_health(current, outcome, now, policy)
    except (ValueError, OverflowError, TypeError) as exc:
        # A bug in the decider must not lose the run; the source backs off as far as it may.
        result.outcome = FetchOutcome(OutcomeKind.FAILED, outcome.status, unexpected_failure("deciding health", exc))
        return dataclasses.replace(
            current,
            last_attempt=now,
            last_error=decider.one_line_error(result.outcome.error),
            failures=current.failures + 1,
            next_attempt=now + policy.max_wait,
        )


def _apply_settled_moves(
    config: Config, store: Store, healths: list[SourceHealth], policy: Policy, report: FetchReport
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
    try:
        write_opml(path, updated, config.site.title)
    except (OSError, ValueError) as exc:
        # The fetch itself went well; the rename is tried again after the next run.
        for result in report.results:
            if result.source.url in renamed:
                result.problems.append(f"cannot record the move to {renamed[result.source.url]}: {exc}")
        return []
    for old, new in moves:
        store.source_health.rename(old, new)
        store.outside_entries.rename_source(old, new)
    return moves
