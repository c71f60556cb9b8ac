"""Running a stage's work in worker processes: one platform rule, one start method, one fallback.

Every stage that spreads CPU work over the cores (parsing articles, rendering
feed sets, tokenising and ranking related stories, rendering bodies ahead)
goes through this module, so they agree on when processes are used at all:

* **Start method: fork.** The workers inherit the job and its inputs (a
  collection, an index of thousands of articles) from the parent's memory;
  only an index goes out and a compact result comes back. ``spawn`` would
  pickle all of it to each worker and import the package again, which costs
  more than the work for most of our stages.
* **Platform rule: Linux only.** ``fork`` is missing on Windows, and on macOS
  it is not safe once system frameworks are loaded in the process (Python
  itself defaults to ``spawn`` there since 3.8). On Linux it is safe for
  what our workers do: they run our own pure-Python and numpy code on
  inherited data, and never take a lock another thread of the parent may
  have held at the fork (they do no logging, HTTP or SQLite). So a thread
  running elsewhere in the parent (a test's HTTP server, a web app's) does
  not stop the workers; a stage whose parent *is* threaded in its own work,
  like the fetcher's event loop, uses ``spawn`` instead (below).
* **Fallback: serial, in this process**, with the same results in the same
  order, when processes would not pay or cannot be had: fewer items than the
  stage's threshold, one worker, another platform, a daemon process (a
  pool's own worker may not have children: work nested in a worker runs
  there, serially), or a parallel map already under way in this process.
* **Worker count: one rule.** A stage's configured count when it has one
  (``[related] workers``), else every core this process may run on
  (:func:`worker_count`).

A job may close over anything: it is inherited through ``fork``, never
pickled. An exception raised by a job in a worker reaches the caller as the
same exception (type and arguments), as it would serially.

Work that must use ``spawn`` instead (a parent with threads, such as the
fetcher's event loop) takes :func:`spawn_context` and :func:`worker_count`
from here, so its pool follows the same worker rule.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.context import SpawnContext
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")
R = TypeVar("R")

START_METHOD = "fork"

# The job and its items, set in the parent just before the pool forks; the workers read them from
# the memory they inherited, so neither is pickled. A module global because a forked worker
# can be handed only something picklable, and a function in a module is.
_job: Callable[[Any], Any] | None = None
_items: Sequence[Any] = ()


def available_cpus() -> int:
    """The cores this process may run on (its affinity where the platform tells it, else every core)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(requested: int | None = 0) -> int:
    """``requested`` workers when positive (a stage's configured count), else one per available core."""
    if requested is not None and requested > 0:
        return requested
    return available_cpus()


def can_fork() -> bool:
    """Whether this process may start forked workers: on Linux, and not itself a pool's daemon worker."""
    return (
        sys.platform.startswith("linux")
        and START_METHOD in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


def runs_in_parallel(items: int, min_items: int, workers: int) -> bool:
    """Whether ``items`` pieces of work go to ``workers`` processes, or run serially here.

    ``min_items`` is the stage's threshold: below it, starting processes costs
    more than they save.
    """
    return items >= min_items and workers > 1 and items > 1 and can_fork()


def _run_item(index: int) -> Any:
    assert _job is not None
    return _job(_items[index])


def parallel_imap(
    job: Callable[[T], R], items: Sequence[T], *, min_items: int, workers: int | None = 0, chunksize: int = 1
) -> Iterator[R]:
    """``job(item)`` for each item, in order, streaming; in forked workers when worth it.

    ``workers`` follows :func:`worker_count`; with fewer than ``min_items``
    items (or see :func:`runs_in_parallel`) every item runs in this process.
    Results are yielded as they are ready, in the order of ``items``, so the
    caller may consume them a batch at a time. ``chunksize`` items go to a
    worker at once: larger for many cheap items.
    """
    global _job, _items
    processes = min(worker_count(workers), len(items))
    # One map at a time per process: the job and items sit in one module global (a caller
    # consuming one map slowly may start another; that one runs here).
    if _job is not None or not runs_in_parallel(len(items), min_items, processes):
        for item in items:
            yield job(item)
        return
    _job, _items = job, items
    # Objects made so far stay out of the workers' collections (no copy-on-write by the GC).
    gc.freeze()
    try:
        with multiprocessing.get_context(START_METHOD).Pool(processes) as pool:
            yield from pool.imap(_run_item, range(len(items)), chunksize=chunksize)
    finally:
        _job, _items = None, ()
        gc.unfreeze()


def parallel_map(
    job: Callable[[T], R], items: Sequence[T], *, min_items: int, workers: int | None = 0, chunksize: int = 1
) -> list[R]:
    """The list of ``job(item)`` for each item, in order (see :func:`parallel_imap`)."""
    return list(parallel_imap(job, items, min_items=min_items, workers=workers, chunksize=chunksize))


def fork_background(work: Callable[[], None]) -> int | None:
    """Run ``work`` in a forked child that leaves when it is done; its process id, or ``None``.

    For work that overlaps with the parent's (no pool, no helper thread): the
    child exits with status 0 when ``work`` returns, 1 when it raises, through
    ``os._exit``, so it never runs the parent's clean-up (inherited database
    connections, buffers, ``atexit``). The parent must ``os.waitpid`` it.
    ``None`` when no process could be started (or the platform rule says
    no): the caller does the work itself, later.
    """
    if not can_fork():
        return None
    # Objects made so far stay out of the child's collections, so the pages it shares with this
    # process stay shared instead of being copied. Unfrozen in the parent only: in the child,
    # unfreezing would touch every object's header, copying the very pages freezing spared.
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        return None
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        _run_and_exit(work)
    gc.unfreeze()
    return pid


def _run_and_exit(work: Callable[[], None]) -> NoReturn:  # pragma: no cover - runs in the child
    code = 1
    try:
        gc.disable()  # nothing inherited is garbage worth scanning the heap for
        work()
        code = 0
    finally:
        os._exit(code)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many long-lived objects.

    Indexing creates millions of dicts and tuples and frees almost none; each
    full collection would walk all of them again. Reference counting still
    frees everything that is dropped.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def spawn_context() -> SpawnContext:
    """The start method for a pool in a process with threads, where forking is unsafe (see the module docs)."""
    return multiprocessing.get_context("spawn")


__all__ = [
    "START_METHOD",
    "available_cpus",
    "can_fork",
    "fork_background",
    "parallel_imap",
    "parallel_map",
    "paused_gc",
    "runs_in_parallel",
    "spawn_context",
    "worker_count",
]
