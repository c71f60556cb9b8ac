"""Rendering article bodies in the background while the build does other work.

A cold build renders thousands of Markdown bodies for its feeds and computes
related stories, which does not need them. Both are CPU work, and both leave
a core idle part of the time (the parent's serial steps: building the index,
ranking, writing the cache). So :class:`BodiesAhead` forks processes that
render the bodies the feeds will need *before* the related step starts, and
:func:`~syndicate._collection.loader.load_bodies` picks their work up when the
feeds are written.

The children are plain forked processes (:func:`syndicate._parallel.fork_background`),
not a pool: no helper threads in this process, nothing that outlives the
build. Each renders its share, writes the results to a file in a private
temporary folder and leaves with ``os._exit`` (the inherited database
connection and buffers are never touched). The parent reads a child's file only if it exited cleanly; a part
that failed is simply rendered the usual way, later.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path

from .._model import Article
from .._parallel import can_fork, fork_background, worker_count
from .._store import ArticleCache
from .._store.articles import dump_parse
from .context import ArticleContext
from .loader import PARALLEL_THRESHOLD, _CompleteJob, _context_key, complete_stub, is_stub

# What a child renders: {source path: (the stub's content hash, digest, pickled parse)}.
Rendered = dict[str, tuple[str, str, bytes]]
# Work the child does next with the whole articles it rendered: {slug: result}.
FollowUp = Callable[[list[Article]], Mapping[str, object]]


class BodiesAhead:
    """Bodies of body-less articles, being rendered by forked processes (or nothing, when not worth it)."""

    def __init__(self) -> None:
        self._children: list[tuple[int, Path]] = []
        self._folder: Path | None = None
        self._rendered: Rendered | None = None
        self._followed: dict[tuple[str, str], object] = {}

    @classmethod
    def start(
        cls,
        articles: Iterable[Article],
        site_root: Path,
        context: ArticleContext,
        cache: ArticleCache | None = None,
        workers: int | None = None,
        follow_up: FollowUp | None = None,
    ) -> BodiesAhead:
        """Start rendering the bodies of ``articles`` that the parse cache does not hold whole.

        Below ``PARALLEL_THRESHOLD`` bodies, or where no process may be forked
        (see :mod:`syndicate._parallel`), nothing is started: :func:`load_bodies`
        renders them when asked, as without this.
        ``follow_up`` then runs in the child on the whole articles it rendered;
        see :meth:`followed`.
        """
        ahead = cls()
        key = _context_key(context)
        stored = cache.index() if cache is not None else {}
        jobs: list[_CompleteJob] = [
            (stub, str(site_root / stub.source_path))
            for stub in {a.source_path: a for a in articles if is_stub(a)}.values()
            if stored.get(stub.source_path, ("",))[0] != f"{stub.content_hash}:0.0:{key}"
        ]
        # Half the cores: the work this overlaps with keeps the others busy part of the time.
        processes = workers or max(1, worker_count() // 2)
        # fork_background follows the platform rule of all our workers (see syndicate._parallel).
        if len(jobs) < PARALLEL_THRESHOLD or not can_fork():
            return ahead
        # Work ahead is only a head start: when it cannot be had (no temporary folder, no
        # more processes), whatever was not started is rendered the usual way, later.
        try:
            ahead._folder = Path(tempfile.mkdtemp(prefix="syndicate-bodies-"))
        except OSError:
            return ahead
        for number in range(processes):
            out = ahead._folder / f"part-{number}.pickle"
            pid = fork_background(partial(_render_part, jobs[number::processes], context, out, follow_up))
            if pid is None:
                break
            ahead._children.append((pid, out))
        return ahead

    def rendered(self) -> Rendered:
        """What the children rendered, by source path (waits for them; once)."""
        if self._rendered is None:
            rendered: Rendered = {}
            for pid, out in self._children:
                _, status = os.waitpid(pid, 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    continue  # its part is rendered the usual way
                with contextlib.suppress(OSError, EOFError, pickle.UnpicklingError):
                    for part, followed in _batches(out):
                        rendered.update(part)
                        self._followed.update(followed)
            self._children = []
            self._rendered = rendered
            self._remove_folder()
        return self._rendered

    def followed(self) -> dict[tuple[str, str], object]:
        """What ``follow_up`` made, by (source path, content hash) of the whole article it was given.

        A whole article is a pure function of its file's bytes (given the
        build's settings), so the result fits any article with the same path
        and hash, however it was loaded.
        """
        self.rendered()
        return self._followed

    def close(self) -> None:
        """Stop children whose work was never collected, and remove their files."""
        for pid, _ in self._children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self._children = []
        self._remove_folder()

    def _remove_folder(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> BodiesAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Articles a child renders and follows up before writing them out: it never holds more than these.
_BATCH = 200


def _batches(out: Path) -> list[tuple[Rendered, dict[tuple[str, str], object]]]:
    """A child's file, batch by batch: all of them, or an error (a damaged file is not used at all)."""
    found = []
    with out.open("rb") as handle:
        while handle.peek(1):
            found.append(pickle.load(handle))
    return found


def _render_part(
    jobs: list[_CompleteJob], context: ArticleContext, out: Path, follow_up: FollowUp | None
) -> None:  # pragma: no cover - runs in a child, whose coverage is not collected
    """In a child: render ``jobs``, follow up, and write it all to ``out`` whole (or not at all).

    A batch at a time, each pickled into the file as soon as it is done: at 100,000 articles,
    holding every body and feed piece until the end made this child the largest process
    beside the related step's workers.
    """
    partial_file = out.with_suffix(".partial")
    with partial_file.open("wb") as handle:
        for start in range(0, len(jobs), _BATCH):
            rendered: Rendered = {}
            whole: list[Article] = []
            for stub, absolute in jobs[start : start + _BATCH]:
                digest, parsed = complete_stub((stub, absolute), context)
                rendered[stub.source_path] = (stub.content_hash, digest, dump_parse(parsed))
                # The follow-up takes the article as made (not unpickled again from the payload: 25 us each).
                if follow_up is not None and parsed[0] is not None:
                    whole.append(parsed[0])
            followed: dict[tuple[str, str], object] = {}
            if follow_up is not None:
                made = follow_up(whole)
                followed = {(a.source_path, a.content_hash): made[a.slug] for a in whole if a.slug in made}
            pickle.dump((rendered, followed), handle, pickle.HIGHEST_PROTOCOL)
    partial_file.rename(out)
