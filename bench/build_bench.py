"""Benchmark ``syndicate build`` on synthetic collections of 10,000 and 100,000 articles.

Usage::

    .venv/bin/python bench/build_bench.py            # 10,000 and 100,000 articles
    .venv/bin/python bench/build_bench.py --quick    # 10,000 only
    .venv/bin/python bench/build_bench.py --sizes 2000 --keep
    .venv/bin/python bench/build_bench.py --site SITE --baseline /tmp/main-src --pairs 5

For each size it generates a realistic site deterministically (about 800 words
of Markdown per article, 3-5 tags from 300, 50 authors, one article in five
with an image) under ``bench/out/`` (git-ignored), then runs ``syndicate build``
as a subprocess in three states: cold (no state, no output), with nothing
changed, and after editing one article. Per state: wall time, CPU time (user +
sys of the build and its workers: steadier than wall time when the machine is
shared), the peak RSS of the largest process (``wait4``), and the peak memory
of the whole process tree sampled from /proc every 50 ms, as PSS (shared pages
split between the forked workers: the memory really used) and as RSS (shared
pages counted once per process: an overstatement). Sampling takes CPU from the
build, so each state is built twice: once timed, once sampled (its wall time
is shown too).

Side by side, in the same run, a floor: the same site feed (its 50 newest items)
written directly with lxml from data already in memory, which is what writing a
feed costs without parsing, caching or feedgen.

With ``--site`` and ``--baseline`` (another checkout's folder holding ``syndicate/``,
e.g. ``git archive main syndicate | tar -x -C /tmp/main-src``), it compares cold
builds of an existing site instead: a copy of the site, state and output removed
before every build, ``python -P -m syndicate build --now 2026-12-01T00:00:00Z``
with ``PYTHONPATH`` at this checkout or the baseline, the two alternating (which
goes first alternates too); the medians of CPU (user + sys, workers included) and
wall, and whether the two codes' last outputs are byte-identical.
"""

from __future__ import annotations

import argparse
import filecmp
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOW = "2026-12-01T00:00:00Z"  # the moment cold_pairs builds as of: every run publishes the same articles
OUT = HERE / "out"
SYNDICATE = Path(sys.executable).with_name("syndicate")

CONFIG = """\
[site]
title = "Bench Dispatch"
url = "https://bench.example.com"
timezone = "America/Chicago"
description = "A synthetic collection for benchmarking."

[feeds]
limit = 50
"""

WORDS = [
    "film",
    "festival",
    "director",
    "premiere",
    "screening",
    "cinema",
    "documentary",
    "restoration",
    "archive",
    "studio",
    "critic",
    "audience",
    "jury",
    "prize",
    "actor",
    "actress",
    "season",
    "streaming",
    "release",
    "box",
    "office",
    "trailer",
    "sequel",
    "adaptation",
    "score",
    "composer",
    "cinematographer",
    "editor",
    "producer",
    "distributor",
    "retrospective",
    "programme",
    "silent",
    "noir",
    "western",
    "horror",
    "comedy",
    "drama",
    "animation",
    "independent",
    "debut",
    "feature",
    "short",
    "lineup",
    "gala",
    "opening",
    "closing",
    "night",
    "award",
    "nomination",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "on",
    "for",
    "with",
    "from",
    "at",
    "by",
    "about",
    "after",
    "before",
    "during",
    "while",
    "between",
    "under",
    "over",
    "city",
    "year",
    "week",
    "story",
    "history",
    "culture",
    "camera",
    "light",
    "shadow",
    "frame",
    "reel",
    "print",
    "negative",
    "celluloid",
    "digital",
    "theatre",
    "venue",
    "crowd",
    "applause",
    "interview",
    "panel",
    "script",
    "writer",
    "novel",
    "memoir",
    "source",
    "rights",
    "deal",
    "slate",
]


@dataclass(frozen=True)
class SyntheticArticle:
    slug: str
    title: str
    published: datetime
    author: str
    tags: tuple[str, ...]
    paragraphs: tuple[str, ...]
    image: str | None


def synthetic_articles(count: int, seed: int = 20261126) -> list[SyntheticArticle]:
    """``count`` articles, the same for the same seed."""
    rng = random.Random(seed)
    tags = [f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}" for i in range(300)]
    authors = [f"{first} {last}" for first, last in zip(_names(rng, 50), _names(rng, 50), strict=True)]
    start = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    articles = []
    for index in range(count):
        words = rng.choices(WORDS, k=800)
        paragraphs = []
        position = 0
        while position < len(words):
            size = rng.randint(50, 120)
            chunk = words[position : position + size]
            chunk[0] = chunk[0].capitalize()
            if rng.random() < 0.3:
                chunk[len(chunk) // 2] = f"[{chunk[len(chunk) // 2]}](/story-{rng.randrange(count)}/)"
            if rng.random() < 0.2 and len(chunk) > 2:
                chunk[1] = f"**{chunk[1]}**"
            paragraphs.append(" ".join(chunk) + ".")
            position += size
        title_words = rng.choices(WORDS, k=rng.randint(5, 10))
        articles.append(
            SyntheticArticle(
                slug=f"story-{index}",
                title=" ".join(title_words).capitalize() + f" ({index})",
                published=start - timedelta(minutes=37 * index),
                author=rng.choice(authors),
                tags=tuple(rng.sample(tags, rng.randint(3, 5))),
                paragraphs=tuple(paragraphs),
                image=f"/images/story-{index}.jpg" if index % 5 == 0 else None,
            )
        )
    return articles


def _names(rng: random.Random, count: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ra", "ne", "to", "sa", "vi", "do", "re", "an", "el"]
    return ["".join(rng.choices(syllables, k=3)).capitalize() for _ in range(count)]


def markdown_document(article: SyntheticArticle) -> str:
    front = [
        "---",
        f"id: tag:bench.example.com,{article.published.date().isoformat()}:{article.slug}",
        f'title: "{article.title}"',
        f"date: {article.published.isoformat()}",
        f"author: {article.author}",
        "tags: [" + ", ".join(article.tags) + "]",
    ]
    if article.image:
        front.append(f"image: {article.image}")
    front.append("---")
    body = "\n\n".join(("## " + p[:40]) if i == 3 else p for i, p in enumerate(article.paragraphs))
    return "\n".join(front) + "\n\n" + body + "\n"


def generate_site(folder: Path, articles: list[SyntheticArticle]) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    content = folder / "content"
    content.mkdir(parents=True)
    (folder / "syndicate.toml").write_text(CONFIG, encoding="utf-8")
    for article in articles:
        (content / f"{article.slug}.md").write_text(markdown_document(article), encoding="utf-8")


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    max_process_mb: float
    tree_rss_mb: float
    tree_pss_mb: float
    output: str


def _tree_memory_kb(root: int) -> tuple[int, int]:
    """Summed RSS and PSS of ``root`` and its descendants, from /proc.

    RSS counts a page shared by forked workers once per process; PSS splits it
    between them, so the PSS sum is the memory the build really takes.
    """
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    rss = pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


def run_build(site: Path, sampled: bool = False, interval: float = 0.05) -> Run:
    """``syndicate build`` as a subprocess: wall time, CPU, largest process and, if ``sampled``, the tree's peak.

    Sampling /proc every 50 ms costs a good part of a core (it walks every
    process's page tables), which a 2-core machine takes from the build: so
    times come from unsampled runs and the tree's memory from sampled ones.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(SYNDICATE), "build", "--site", str(site)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    peak_rss = peak_pss = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_rss, peak_pss
        while not done.is_set():
            rss, pss = _tree_memory_kb(process.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    if sampled:
        sampler.start()
    output = process.stdout.read().decode() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    if sampled:
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"syndicate build failed ({process.returncode}):\n{output}")
    cpu = usage.ru_utime + usage.ru_stime  # the build and its reaped workers
    return Run(seconds, cpu, usage.ru_maxrss / 1024, peak_rss / 1024, peak_pss / 1024, output.strip())


def lxml_floor(articles: list[SyntheticArticle], limit: int = 50) -> tuple[float, int]:
    """Seconds to write the site RSS feed of the ``limit`` newest items with lxml, from parsed data."""
    import pyromark

    newest = sorted(articles, key=lambda a: a.published, reverse=True)[:limit]
    bodies = [pyromark.html("\n\n".join(a.paragraphs)) for a in newest]  # parsed before the clock starts
    started = time.perf_counter()
    rss = etree.Element("rss", version="2.0", nsmap={"content": "http://purl.org/rss/1.0/modules/content/"})
    channel = etree.SubElement(rss, "channel")
    etree.SubElement(channel, "title").text = "Bench Dispatch"
    etree.SubElement(channel, "link").text = "https://bench.example.com/"
    etree.SubElement(channel, "description").text = "A synthetic collection for benchmarking."
    for article, body in zip(newest, bodies, strict=True):
        item = etree.SubElement(channel, "item")
        etree.SubElement(item, "title").text = article.title
        etree.SubElement(item, "link").text = f"https://bench.example.com/{article.slug}/"
        etree.SubElement(item, "guid", isPermaLink="false").text = article.slug
        etree.SubElement(item, "pubDate").text = article.published.strftime("%a, %d %b %Y %H:%M:%S +0000")
        for tag in article.tags:
            etree.SubElement(item, "category").text = tag
        etree.SubElement(item, "{http://purl.org/rss/1.0/modules/content/}encoded").text = body
    data = etree.tostring(rss, xml_declaration=True, encoding="UTF-8")
    target = OUT / "floor-rss.xml"
    target.write_bytes(data)
    return time.perf_counter() - started, len(data)


def _generate(size: int, site: Path) -> tuple[int, int, list[SyntheticArticle]]:
    """Write the site; return (tags, authors, the 50 newest articles for the floor)."""
    articles = synthetic_articles(size)
    generate_site(site, articles)
    newest = sorted(articles, key=lambda a: a.published, reverse=True)[:50]
    return len({t for a in articles for t in a.tags}), len({a.author for a in articles}), newest


def bench(size: int, keep: bool) -> None:
    started = time.perf_counter()
    site = OUT / f"site-{size}"
    # Generated in a child process: a build's peak RSS (wait4) includes its parent's
    # RSS at fork/exec time, so the parent must not hold 100,000 articles then.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        tags, authors, newest = pool.submit(_generate, size, site).result()
    print(
        f"\n== {size:,} articles ({tags} tags, {authors} authors; {tags + authors + 1} feed sets, "
        f"{3 * (tags + authors + 1)} files); generated in {time.perf_counter() - started:.1f} s"
    )
    # Each state is built twice: timed, and sampled for the tree's memory (see run_build).
    cold_sampled = run_build(site, sampled=True)
    shutil.rmtree(site / "public")
    shutil.rmtree(site / ".syndicate")
    cold = run_build(site)
    warm = run_build(site)
    warm_sampled = run_build(site, sampled=True)
    # One article edited: only the feeds holding it are rendered again.
    edited = site / "content" / f"{newest[0].slug}.md"

    def edit(correction: str) -> None:
        edited.write_text(edited.read_text(encoding="utf-8") + f"\n{correction}\n", encoding="utf-8")

    edit("A correction was appended.")
    one_edit = run_build(site)
    edit("A second correction was appended.")
    one_edit_sampled = run_build(site, sampled=True)
    floor_seconds, floor_bytes = lxml_floor(newest)
    print(
        f"{'run':<34}{'wall s':>9}{'cpu s':>9}{'largest proc MB':>17}{'tree PSS MB':>13}{'tree RSS MB':>13}"
        f"{'wall s, sampled':>17}"
    )
    runs = (
        ("syndicate build, cold", cold, cold_sampled),
        ("syndicate build, no change", warm, warm_sampled),
        ("  … after editing one article", one_edit, one_edit_sampled),
    )
    for label, run, sampled in runs:
        print(
            f"{label:<34}{run.seconds:>9.2f}{run.cpu_seconds:>9.2f}{run.max_process_mb:>17.0f}"
            f"{sampled.tree_pss_mb:>13.0f}{sampled.tree_rss_mb:>13.0f}{sampled.seconds:>17.2f}"
        )
    print(f"{'floor: site RSS (50) with lxml':<34}{floor_seconds:>9.3f}  (from parsed data; {floor_bytes:,} bytes)")
    for label, run in (("cold", cold), ("no change", warm), ("one edit", one_edit)):
        print(f"  {label + ':':<11}{run.output.splitlines()[-1] if run.output else ''}")
    if not keep:
        shutil.rmtree(site)


def _cold_build(site: Path, source: Path, out: Path) -> tuple[float, float]:
    """One cold build of ``site`` by the code in ``source`` (fresh state and output): (CPU s, wall s)."""
    shutil.rmtree(site / ".syndicate", ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-P", "-m", "syndicate", "build", "--site", str(site), "--out", str(out), "--now", NOW]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env={**os.environ, "PYTHONPATH": str(source)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    errors = process.stderr.read().decode() if process.stderr else ""
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"syndicate build failed with {source}:\n{errors}")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - started


def _same_tree(one: filecmp.dircmp[str]) -> bool:
    if one.left_only or one.right_only or one.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(one.left, one.right, one.common_files, shallow=False)
    return not mismatch and not errors and all(_same_tree(sub) for sub in one.subdirs.values())


def cold_pairs(site: Path, baseline: Path, pairs: int) -> None:
    """Cold builds of ``site``, this checkout's code against ``baseline``'s, interleaved (see the module notes)."""
    codes = {"this checkout": ROOT, "baseline": baseline.resolve()}
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in codes}
    with tempfile.TemporaryDirectory(prefix="cold-pairs-") as folder:
        copy = Path(folder) / "site"
        shutil.copytree(site, copy, ignore=shutil.ignore_patterns(".syndicate"))
        outs = {name: Path(folder) / f"out-{number}" for number, name in enumerate(codes)}
        for pair in range(pairs):
            for name, source in codes.items() if pair % 2 == 0 else reversed(codes.items()):
                cpu, wall = _cold_build(copy, source, outs[name])
                runs[name].append((cpu, wall))
                print(f"  pair {pair + 1} {name}: {cpu:.2f} s CPU, {wall:.2f} s wall", flush=True)
        same = _same_tree(filecmp.dircmp(outs["this checkout"], outs["baseline"]))
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    for name, measured in runs.items():
        cpu = statistics.median(c for c, _ in measured)
        wall = statistics.median(w for _, w in measured)
        print(f"{name}: median {cpu:.2f} s CPU, {wall:.2f} s wall")
    print("outputs byte-identical" if same else "OUTPUTS DIFFER")
    if not same:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the 10,000-article size")
    parser.add_argument("--sizes", type=int, nargs="+", help="sizes to run (default: 10000 100000)")
    parser.add_argument("--keep", action="store_true", help="keep the generated sites under bench/out/")
    parser.add_argument("--site", type=Path, help="with --baseline: an existing site to build cold (only read)")
    parser.add_argument("--baseline", type=Path, help="another checkout's folder holding syndicate/")
    parser.add_argument("--pairs", type=int, default=3, help="with --baseline: interleaved pairs of builds")
    args = parser.parse_args()
    if args.baseline is not None or args.site is not None:
        if args.baseline is None or args.site is None:
            parser.error("--site and --baseline go together")
        cold_pairs(args.site, args.baseline, args.pairs)
        return
    sizes = args.sizes or ([10_000] if args.quick else [10_000, 100_000])
    OUT.mkdir(exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, syndicate at {SYNDICATE}")
    # Other work on the machine slows the wall times; cpu s (user + sys, workers included) is steadier.
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    for size in sizes:
        bench(size, args.keep)


if __name__ == "__main__":
    main()
