"""Spreading per-article work over the machine's cores.

Tokenising (pure Python, per article) and answering blocks of queries (sparse
products, per block of rows) are independent, so a large collection is split
over forked worker processes (which inherit the index without copying it up
front); only compact results travel back. Small collections, one-core
machines and platforms where forking is unsafe run serially, by the rules
of :mod:`syndicate._parallel`, which runs the workers.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from .._parallel import parallel_map, runs_in_parallel, worker_count

R = TypeVar("R")

# Below this many items a process pool costs more than it saves.
PARALLEL_MIN_ITEMS = 3000


def available_workers(requested: int = 0) -> int:
    """``requested`` workers, or every core this process may use when 0 (:func:`syndicate._parallel.worker_count`)."""
    return worker_count(requested)


def _without_gc(job: Callable[[int, int], R], bounds: tuple[int, int]) -> R:
    gc.disable()  # the inherited objects are never garbage here; scanning them would copy their pages
    _keep_freed_memory()
    return job(*bounds)


# glibc's mallopt() parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MAX_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's own ceiling on 64-bit systems


def _keep_freed_memory() -> None:
    """Have this (short-lived, forked) process's C allocator reuse the memory it frees.

    A block of the batch allocates some 10 MB of scipy temporaries and frees them; glibc gave
    them back to the system after each block and took fresh pages for the next, some 2,500
    page faults a block in a worker (0.25 s of system time over 10,000 articles), where the
    parent process reuses its heap. No effect where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MAX_MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, 4 * _MAX_MMAP_THRESHOLD)


def fork_map_ranges(
    job: Callable[[int, int], R],
    count: int,
    workers: int = 0,
    per_process: int = 1000,
    min_items: int = PARALLEL_MIN_ITEMS,
) -> list[R]:
    """``job(start, stop)`` over consecutive ranges covering ``range(count)``, in order.

    In forked processes when worth it (see :func:`fork_map`), a few ranges per
    process so a slow range does not hold the others up; else one call,
    ``job(0, count)``, in this process. A job sees, in a worker, this
    process's state as it was just before the fork.
    """
    processes = min(available_workers(workers), max(1, count // per_process))
    if count < min_items or not runs_in_parallel(count, min_items, processes):
        return [job(0, count)] if count else []
    step = -(-count // (processes * 4))
    ranges = [(start, min(start + step, count)) for start in range(0, count, step)]
    return parallel_map(partial(_without_gc, job), ranges, min_items=0, workers=processes)


def fork_map(
    job: Callable[[int], R], count: int, workers: int = 0, per_process: int = 1000, min_items: int = PARALLEL_MIN_ITEMS
) -> list[R]:
    """``[job(0), ..., job(count - 1)]``, computed in forked processes when worth it.

    ``job`` may close over anything (an index, a list of articles): the workers
    inherit it through ``fork``; only the indexes go out and the results come back.
    A process is started per ``per_process`` items at most, and none below
    ``min_items`` items: not worth it.
    """

    def run(start: int, stop: int) -> list[R]:
        return [job(i) for i in range(start, stop)]

    chunks = fork_map_ranges(run, count, workers, per_process, min_items)
    return [result for chunk in chunks for result in chunk]
