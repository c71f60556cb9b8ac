"""The one parallel helper (syndicate._parallel): same results in workers as serially, and the fallback rules.

A test of internals by name: the helper is what every stage's pool runs on, so
it is tested here once rather than through each stage.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate import SyndicateError
from syndicate import _parallel as parallel

needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")


def _pid_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


class _Refused(SyndicateError):
    """An exception of our own, with arguments, raised in a worker."""


@needs_fork
def test_workers_give_the_serial_results_in_order_from_other_processes() -> None:
    items = list(range(50))
    forked = parallel.parallel_map(_pid_and_square, items, min_items=2, workers=2, chunksize=3)
    serial = parallel.parallel_map(_pid_and_square, items, min_items=len(items) + 1, workers=2)
    assert [square for _, square in forked] == [square for _, square in serial] == [n * n for n in items]
    assert os.getpid() not in {pid for pid, _ in forked}  # really in workers
    assert {pid for pid, _ in serial} == {os.getpid()}


@needs_fork
def test_a_job_closing_over_unpicklable_state_runs_in_workers() -> None:
    # Inherited through fork, never pickled: a lambda over a lock would not survive pickling.
    lock = threading.Lock()
    results = parallel.parallel_map(lambda n: (n, lock.locked()), range(10), min_items=2, workers=2)
    assert results == [(n, False) for n in range(10)]


@needs_fork
def test_results_stream_in_order() -> None:
    stream = parallel.parallel_imap(lambda n: -n, range(100), min_items=2, workers=2, chunksize=7)
    assert isinstance(stream, Iterator)
    assert list(stream) == [-n for n in range(100)]


def _refuse(n: int) -> int:
    if n == 7:
        raise _Refused("no seven", 7)
    return n


@pytest.mark.parametrize("min_items", [2, 1000], ids=["workers", "serial"])
def test_an_exception_in_a_job_reaches_the_caller_as_the_same_exception(min_items: int) -> None:
    with pytest.raises(_Refused) as caught:
        parallel.parallel_map(_refuse, range(20), min_items=min_items, workers=2)
    assert caught.value.args == ("no seven", 7)


def test_the_worker_count_is_the_request_or_every_available_core() -> None:
    assert parallel.worker_count(3) == 3
    assert parallel.worker_count(0) == parallel.worker_count(None) == parallel.available_cpus() >= 1


@needs_fork
def test_fallback_rules() -> None:
    assert parallel.runs_in_parallel(100, 10, 2)
    assert not parallel.runs_in_parallel(9, 10, 2)  # below the stage's threshold
    assert not parallel.runs_in_parallel(100, 10, 1)  # one worker
    assert not parallel.runs_in_parallel(1, 0, 2)  # one item


def test_no_workers_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not parallel.can_fork() and parallel.fork_background(lambda: None) is None
    pids = {pid for pid, _ in parallel.parallel_map(_pid_and_square, range(10), min_items=2, workers=2)}
    assert pids == {os.getpid()}


def _nested(n: int) -> tuple[bool, set[int]]:
    # In a pool's worker (a daemon process, which may not have children), nested work runs there.
    inner = parallel.parallel_map(_pid_and_square, range(5), min_items=2, workers=2)
    return multiprocessing.current_process().daemon, {pid for pid, _ in inner} | {os.getpid()}


@needs_fork
def test_work_nested_in_a_worker_runs_serially_there() -> None:
    for daemon, pids in parallel.parallel_map(_nested, range(4), min_items=2, workers=2):
        assert daemon and len(pids) == 1


@needs_fork
def test_a_background_child_exits_cleanly_or_not_and_the_parent_sees_which(tmp_path: Path) -> None:
    done = tmp_path / "done"

    def work() -> None:
        done.write_text("yes")

    def failing() -> None:
        raise _Refused("no")

    pid = parallel.fork_background(work)
    assert pid is not None
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0 and done.read_text() == "yes"
    pid = parallel.fork_background(failing)
    assert pid is not None
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 1


def test_a_spawn_pool_follows_the_same_worker_rule() -> None:
    # For a parent with threads (the fetcher): spawn, sized by worker_count.
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=parallel.worker_count(2), mp_context=parallel.spawn_context()) as pool:
        assert list(pool.map(abs, [-1, -2, 3])) == [1, 2, 3]
