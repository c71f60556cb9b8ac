"""Benchmark the no-op cron cycle: ``syndicate run`` at 10,000 articles, beside the separate commands.

Usage::

    .venv/bin/python bench/run_bench.py                 # 10,000 articles, 7 interleaved rounds
    .venv/bin/python bench/run_bench.py --size 2000 --rounds 3 --keep

It generates a synthetic site with ``bench/build_bench.py``'s generator (into
``bench/out/run-<size>/``, git-ignored), adds the demo's outside sources, and
warms it up (a first ``syndicate run`` builds everything and opens the due
issue; a first round of the separate commands does the same for them). Then,
in interleaved rounds so a change in the machine's load hits both alike:

* ``syndicate run --quiet`` as cron starts it (a new process: interpreter,
  imports, lock, every step's due check), with nothing to do;
* the same cycle as separate commands, as the old crontab ran them:
  ``syndicate fetch``, ``syndicate build``, ``syndicate newsletter send``;
* ``Site.run(now=...)`` in-process, for the cycle's own cost without start-up.

It prints the median wall time and CPU time (user + sys of the process and its
children) of each, and the load average before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from build_bench import OUT, generate_site, synthetic_articles  # noqa: E402

SYNDICATE = Path(sys.executable).with_name("syndicate")
DEMO = HERE.parent
ENV = {**os.environ, "SYNDICATE_SECRET": "bench-secret-0123456789abcdef"}


def prepare(size: int, keep: bool) -> Path:
    site = OUT / f"run-{size}"
    if not (keep and (site / "syndicate.toml").is_file()):
        generate_site(site, synthetic_articles(size))
        shutil.copytree(DEMO / "feeds", site / "feeds")
        with (site / "syndicate.toml").open("a", encoding="utf-8") as config:
            config.write('\n[newsletter]\npostal_address = "Bench Dispatch, 1 Bench St, Chicago"\n')
    return site


def timed(command: list[str], site: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the child and its workers, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=site, env=ENV, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode not in (0, 4, 5):
        raise SystemExit(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return wall, cpu, result.returncode


RUN = [str(SYNDICATE), "run", "--quiet"]
SEPARATE = [
    [str(SYNDICATE), "fetch"],
    [str(SYNDICATE), "build"],
    [str(SYNDICATE), "newsletter", "send", "--quiet"],
]


def in_process(site: Path) -> tuple[float, float]:
    import syndicate

    with syndicate.Site.open(site) as opened:
        cpu0, started = time.process_time(), time.perf_counter()
        report = opened.run()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    assert report.noop, report.as_json()
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="reuse bench/out/run-<size> if it exists")
    args = parser.parse_args()
    load_before = os.getloadavg()
    site = prepare(args.size, args.keep)
    print(f"site: {site} ({args.size:,} articles); warming up (first build, first fetch, the due issue opened)...")
    warm = timed(RUN, site)
    print(f"  first `syndicate run`: {warm[0]:.1f} s wall, {warm[1]:.1f} s CPU (exit {warm[2]})")
    for command in SEPARATE:
        timed(command, site)
    timed(RUN, site)
    runs: list[tuple[float, float]] = []
    separate: list[tuple[float, float]] = []
    per_command: dict[str, list[float]] = {" ".join(c[1:]): [] for c in SEPARATE}
    library: list[tuple[float, float]] = []
    for _ in range(args.rounds):
        wall, cpu, code = timed(RUN, site)
        assert code == 0, f"the no-op run exited {code}"
        runs.append((wall, cpu))
        total_wall = total_cpu = 0.0
        for command in SEPARATE:
            wall, cpu, _ = timed(command, site)
            per_command[" ".join(command[1:])].append(wall)
            total_wall += wall
            total_cpu += cpu
        separate.append((total_wall, total_cpu))
        library.append(in_process(site))

    def median(values: list[tuple[float, float]], index: int) -> float:
        return statistics.median(v[index] for v in values)

    load_after = os.getloadavg()
    print(f"\nno-op cycle at {args.size:,} articles, median of {args.rounds} interleaved rounds:")
    print(f"{'':46} {'wall':>8} {'CPU':>8}")
    print(f"{'syndicate run --quiet (new process, as cron)':46} {median(runs, 0):7.3f}s {median(runs, 1):7.3f}s")
    print(f"{'sum of fetch + build + newsletter send':46} {median(separate, 0):7.3f}s {median(separate, 1):7.3f}s")
    for name, walls in per_command.items():
        print(f"{'  syndicate ' + name:46} {statistics.median(walls):7.3f}s")
    print(f"{'Site.run() in-process (no interpreter start)':46} {median(library, 0):7.3f}s {median(library, 1):7.3f}s")
    print(f"target: the no-op `syndicate run` under 1 s: {'met' if median(runs, 0) < 1.0 else 'NOT met'}")
    print(
        "load average (1, 5, 15 min) before: "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + "; after: "
        + ", ".join(f"{x:.2f}" for x in load_after)
        + f" on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
