"""What reading a collection's articles costs, cold: the load step of a build alone (issue 15).

Usage::

    .venv/bin/python bench/load_bench.py --site /tmp/site-10000                 # 3 runs of this checkout
    .venv/bin/python bench/load_bench.py --site SITE --baseline /tmp/main-src    # interleaved with another tree
    .venv/bin/python bench/load_bench.py --site SITE --workers 1                 # serial: every parse in one process

Each run is a fresh process (with ``PYTHONPATH`` pointing at ``--baseline`` for
the other code) that reads the site's articles as a cold build does: front
matter only (``with_bodies=False``), into an empty parse cache in a temporary
state database, then builds the :class:`Collection`. It is measured with
``wait4``: wall seconds and CPU seconds (user + system of the process and its
forked workers). Runs alternate between the codes; medians are printed with
the load average before and after. The site folder is only read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# The measured work, run in a fresh interpreter so imports and forks are those of a build.
_CHILD = """
import sys, tempfile
from pathlib import Path
from syndicate._collection import Collection
from syndicate._collection.context import ArticleContext
from syndicate._collection.loader import read_articles
from syndicate._config import load_config
from syndicate._store import Store

site, workers = sys.argv[1], int(sys.argv[2]) or None
config = load_config(site)
with tempfile.TemporaryDirectory() as state, Store(Path(state) / "state.db") as store:
    context = ArticleContext.from_config(config)
    articles, problems = read_articles(
        config.content_dir, config.root, context, store.article_cache, workers=workers, with_bodies=False
    )
    collection = Collection(articles, problems)
    print(len(collection.articles), len(collection.problems))
"""


def measure(site: Path, code: Path | None, workers: int) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, what the child printed) of one cold load."""
    environment = dict(os.environ)
    if code is not None:
        environment["PYTHONPATH"] = str(code)
    command = [sys.executable, "-c", _CHILD, str(site), str(workers)]
    started = time.perf_counter()
    # Started outside any source tree: the interpreter puts its working folder first on the path.
    process = subprocess.Popen(command, env=environment, cwd="/", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"load of {site} failed:\n{output[-3000:]}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, output.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=Path, required=True, help="a site folder (e.g. from build_bench.py)")
    parser.add_argument("--baseline", type=Path, help="a source tree holding another syndicate/ to compare with")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="parse workers (0: one per core, 1: serial)")
    args = parser.parse_args()
    codes: list[tuple[str, Path | None]] = [("this", None)]
    if args.baseline is not None:
        codes.insert(0, ("baseline", args.baseline))
    print("load before:", os.getloadavg())
    results: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in codes}
    for run in range(args.runs):
        for name, code in codes:
            wall, cpu, printed = measure(args.site, code, args.workers)
            results[name].append((wall, cpu))
            print(f"run {run + 1} {name}: wall {wall:.2f} s, CPU {cpu:.2f} s ({printed})")
    print("load after:", os.getloadavg())
    for name, runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name}: median wall {wall:.2f} s, median CPU {cpu:.2f} s over {len(runs)} runs")


if __name__ == "__main__":
    main()
