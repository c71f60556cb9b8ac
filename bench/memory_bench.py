"""Memory of a cold ``syndicate build`` of a large collection (issue 15): the whole process tree's peak PSS.

Usage::

    .venv/bin/python bench/memory_bench.py --site /tmp/i15/site-100000 --cold 3

The site is generated with ``bench/build_bench.py``'s generator (100,000 articles by
default) only if ``SITE/content`` does not exist yet, so a slow generation is done once
and reused. Each cold build (state and output removed first) is one sampled run of
``build_bench.run_build``: wall time, CPU (user + sys of the build and its reaped workers),
the peak RSS of the largest process (``wait4``) and the peak of the whole tree's PSS, the
sum of ``/proc/<pid>/smaps_rollup`` Pss over the build and all its descendants, sampled
every 0.2 s (less often than ``build_bench.py``'s 50 ms, so the sampler takes little CPU
from the build and one run gives both time and memory). Then one article is edited and the
site rebuilt, sampled the same way. The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_bench import SYNDICATE, Run, generate_site, run_build, synthetic_articles

TARGET_MB = 1024


def _generate(size: int, site: Path) -> None:
    generate_site(site, synthetic_articles(size))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _row(label: str, run: Run) -> str:
    return (
        f"{label:<24}{run.seconds:>9.2f}{run.cpu_seconds:>9.2f}{run.max_process_mb:>17.0f}"
        f"{run.tree_pss_mb:>13.0f}{run.tree_rss_mb:>13.0f}"
    )


def _process_tree(root: int) -> list[int]:
    """``root`` and its descendants' process ids, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _pss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0  # gone, or a zombie (no pages left)


def timeline(site: Path, interval: float, every: float) -> float:
    """One cold build, its tree's PSS sampled per process: a row every ``every`` seconds, and the peak's processes."""
    for state in (site / "public", site / ".syndicate"):
        shutil.rmtree(state, ignore_errors=True)
    started = time.perf_counter()
    process = subprocess.Popen([str(SYNDICATE), "build", "--site", str(site)], stdout=subprocess.DEVNULL)
    samples: list[tuple[float, dict[int, float]]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            # Zombies (a worker exited, not yet reaped) hold no pages: left out of the count.
            sizes = {pid: mb for pid in _process_tree(process.pid) if (mb := _pss_mb(pid)) > 0}
            samples.append((time.perf_counter() - started, sizes))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process.wait()
    done.set()
    sampler.join()
    print(f"timeline of a cold build (tree PSS, sampled every {interval} s):")
    print(f"{'s':>7}{'tree PSS MB':>13}{'processes':>11}{'build process MB':>18}{'largest other MB':>18}")
    shown = -every
    peak_at, peak = 0.0, {process.pid: 0.0}
    for at, sizes in samples:
        if sum(sizes.values()) > sum(peak.values()):
            peak_at, peak = at, sizes
        if at - shown >= every:
            shown = at
            others = [mb for pid, mb in sizes.items() if pid != process.pid]
            print(
                f"{at:>7.1f}{sum(sizes.values()):>13.0f}{len(sizes):>11}{sizes.get(process.pid, 0):>18.0f}"
                f"{max(others, default=0):>18.0f}"
            )
    parts = ", ".join(f"{'build' if pid == process.pid else 'worker'} {mb:.0f}" for pid, mb in peak.items())
    print(f"peak {sum(peak.values()):.0f} MB at {peak_at:.1f} s of {samples[-1][0] if samples else 0:.1f} s: {parts}")
    return sum(peak.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=Path, default=Path("/tmp/syndicate-memory-100000"))
    parser.add_argument("--size", type=int, default=100_000, help="articles to generate if the site is missing")
    parser.add_argument("--cold", type=int, default=1, help="cold builds to run")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between /proc samples")
    parser.add_argument("--no-edit", action="store_true", help="skip the one-article edit")
    parser.add_argument("--timeline", action="store_true", help="also one cold build's PSS timeline, per process")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between timeline rows")
    args = parser.parse_args()
    site: Path = args.site
    if not (site / "content").is_dir():
        # In a spawned child: a build's wait4 peak includes its parent's RSS at exec.
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            pool.submit(_generate, args.size, site).result()
    articles = sum(1 for _ in (site / "content").glob("*.md"))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {articles:,} articles in {site}")
    print(f"load average before: {_load()}")
    print(f"{'run':<24}{'wall s':>9}{'cpu s':>9}{'largest proc MB':>17}{'tree PSS MB':>13}{'tree RSS MB':>13}")
    cold: list[Run] = []
    for number in range(1, args.cold + 1):
        for state in (site / "public", site / ".syndicate"):
            shutil.rmtree(state, ignore_errors=True)
        run = run_build(site, sampled=True, interval=args.interval)
        cold.append(run)
        print(_row(f"cold {number}", run), flush=True)
    peaks = [run.tree_pss_mb for run in cold]
    if args.timeline:
        peaks.append(timeline(site, args.interval, args.every))
    if not args.no_edit:
        edited = site / "content" / "story-0.md"  # the newest article: in the site feed
        edited.write_text(edited.read_text(encoding="utf-8") + "\nA correction was appended.\n", encoding="utf-8")
        print(_row("one article edited", run_build(site, sampled=True, interval=args.interval)), flush=True)
    print(f"load average after: {_load()}")
    if peaks:
        worst = max(peaks)
        verdict = "met" if worst < TARGET_MB else "not met"
        print(f"cold tree PSS peak {worst:.0f} MB; target under {TARGET_MB} MB: {verdict}")
    if cold and cold[-1].output:
        print("last cold build: " + cold[-1].output.splitlines()[-1])


if __name__ == "__main__":
    main()
