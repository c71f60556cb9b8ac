"""What one edited or added article costs a build: an incremental build against the same build of another checkout.

Usage::

    .venv/bin/python bench/incremental_bench.py                       # 10,000 articles, 3 rounds
    .venv/bin/python bench/incremental_bench.py --size 2000 --rounds 2
    .venv/bin/python bench/incremental_bench.py --baseline /tmp/main-src   # a tree holding another syndicate/

One collection from ``bench/build_bench.py``'s generator is copied once per
code under test (this checkout, and ``--baseline`` if given, run with
``PYTHONPATH`` pointing at it), each copy built cold first. Then, round after
round and code after code (interleaved), one article is edited (a sentence
appended; the newest, or with ``--edit middle`` the middle one by date), a
build runs; a new article is added, a build runs. Each
build is a fresh process measured with ``wait4``: wall time and CPU seconds
(user + system of it and its reaped children). The medians are printed with
the load average before and after, and, with ``--baseline``, whether both
copies' outputs are byte-identical at the end (they went through the same
changes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_bench  # noqa: E402  (a sibling script, not a package)

Measured = tuple[float, float]  # wall seconds, CPU seconds


def build(site: Path, code: Path | None) -> Measured:
    environment = dict(os.environ)
    if code is not None:
        environment["PYTHONPATH"] = str(code)
    # -P: no current folder at the head of sys.path, which in a checkout would import its syndicate/
    # ahead of PYTHONPATH's (the baseline would then measure this checkout's code).
    command = [sys.executable, "-P", "-c", "from syndicate.cli import main; main()", "build", "--site", str(site)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"build of {site} failed:\n{output[-3000:]}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def added_article(number: int) -> str:
    return (
        f"---\ntitle: A late story number {number}\ndate: 2020-01-01 09:00\nauthor: Late Writer\n"
        f"tags: [late-news]\nsummary: Added by the benchmark.\n---\n\nA story added after the build, round {number}.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="a folder holding another checkout's syndicate/ package")
    parser.add_argument(
        "--edit", choices=("newest", "middle"), default="newest", help="which article is edited (by date)"
    )
    args = parser.parse_args()
    codes: dict[str, Path | None] = {"this checkout": None}
    if args.baseline:
        codes["baseline"] = args.baseline.resolve()
    articles = build_bench.synthetic_articles(args.size)
    by_date = sorted(articles, key=lambda a: a.published)
    edited_slug = by_date[-1 if args.edit == "newest" else len(by_date) // 2].slug
    build_bench.OUT.mkdir(exist_ok=True)
    sites: dict[str, Path] = {}
    for number, name in enumerate(codes):
        site = build_bench.OUT / f"incremental-{args.size}-{number}"
        shutil.rmtree(site, ignore_errors=True)
        build_bench.generate_site(site, articles)
        _backdate(site / "content")
        sites[name] = site
    del articles
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.size:,} articles")
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    for name, code in codes.items():
        wall, cpu = build(sites[name], code)
        print(f"  cold build, {name}: {cpu:.2f} s CPU, {wall:.2f} s wall")
    edits: dict[str, list[Measured]] = {name: [] for name in codes}
    adds: dict[str, list[Measured]] = {name: [] for name in codes}
    for round_number in range(args.rounds):
        for name, code in codes.items():
            edited = sites[name] / "content" / f"{edited_slug}.md"
            with edited.open("a", encoding="utf-8") as file:
                file.write(f"\nCorrection {round_number} appended.\n")
            edits[name].append(build(sites[name], code))
            added = sites[name] / "content" / f"late-{round_number}.md"
            added.write_text(added_article(round_number), encoding="utf-8")
            adds[name].append(build(sites[name], code))
    for label, runs in ((f"one article edited ({args.edit})", edits), ("one article added", adds)):
        for name, measured in runs.items():
            cpu = statistics.median(m[1] for m in measured)
            wall = statistics.median(m[0] for m in measured)
            listed = ", ".join(f"{m[1]:.2f}/{m[0]:.2f}" for m in measured)
            print(f"  {label}, {name}: median {cpu:.2f} s CPU, {wall:.2f} s wall (CPU/wall: {listed})")
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if len(sites) > 1:
        # Every copy went through the same edits and additions: their outputs must be the same bytes.
        differing = differing_outputs(*(site / "public" for site in sites.values()))
        verdict = "byte-identical" if not differing else f"DIFFER: {differing[:5]}"
        print(f"outputs of {' and '.join(sites)}: {verdict}")
    for site in sites.values():
        shutil.rmtree(site)


def _backdate(folder: Path) -> None:
    """Give the generated files a real site's age (an hour).

    A file changed within two seconds of a build has a racy stat, which the
    build does not trust: the build after it hashes the file again. Freshly
    generated, all 10,000 would be hashed by the first edit's build.
    """
    hour_ago = time.time() - 3600
    for path in folder.iterdir():
        os.utime(path, (hour_ago, hour_ago))


def differing_outputs(*folders: Path) -> list[str]:
    """Files (relative paths) not present in every folder, or whose bytes differ between them."""
    trees = [{str(p.relative_to(folder)): p for p in folder.rglob("*") if p.is_file()} for folder in folders]
    names = sorted(set().union(*trees))
    first = trees[0]
    return [
        name
        for name in names
        if any(name not in tree for tree in trees)
        or any(tree[name].read_bytes() != first[name].read_bytes() for tree in trees[1:])
    ]


if __name__ == "__main__":
    main()
