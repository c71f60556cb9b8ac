"""syndicate beside the tools a publisher would pick instead: Hugo for feeds, lemon24/reader for fetching.

Usage::

    .venv/bin/python bench/peers.py                     # 10,000 articles; 500 feeds x 50 entries
    .venv/bin/python bench/peers.py --quick             # 2,000 articles; 100 feeds, 2 pairs
    .venv/bin/python bench/peers.py --sizes 10000 100000 --feeds 500 --pairs 3
    .venv/bin/python bench/peers.py --fetch-only        # only the fetch rows (500 feeds, 3 pairs)

It installs nothing. It detects Hugo (``hugo`` on PATH: ``apt-get install hugo``)
and reader through a separate interpreter (``--reader-python``, default
``/tmp/peers-venv/bin/python``, or ``$PEERS_READER_PYTHON``; made with
``python3 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install reader
sgmllib3k``), so reader never becomes one of the project's dependencies. A peer
that is missing is reported and its rows are left out.

Builds: one collection, written by ``bench/build_bench.py``'s generator (same
seed, same stories, tags and authors), that both tools read: syndicate from its
``content/`` with ``syndicate.toml``, Hugo from the same ``content/`` with its
own config (50 items per feed, a ``tags`` and an ``author`` taxonomy, an RSS
template with full content like syndicate's). Hugo runs twice: feeds only
(every regular page ``_build.render = "link"`` through a config cascade, RSS the
only output of the lists) and a full site (a page per story, HTML lists and
RSS). syndicate runs cold (no state, no output), after one article is edited,
and with nothing changed.

Fetch: ``bench/fetch_bench.py``'s loopback server (its own process, 50 ms per
response, 50 loopback hosts) serves N feeds of 50 entries;
``syndicate._sources.fetch_sources`` (through ``fetch_bench.py --phase
syndicate``) runs cold and warm (all 304) beside reader's
``update_feeds(workers=16, scheduled=False)`` cold and warm, each a fresh process.

Every run is a subprocess measured with ``wait4``: wall time, and CPU seconds
(user + system of the process and all its reaped children and threads). The
syndicate run and its peer alternate (interleaved pairs), and each row shows the
median of the pairs; ratios are syndicate / peer (below 1: syndicate is faster).
The load average is printed before and after: on a shared machine wall times
mislead, CPU seconds less so.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_bench  # noqa: E402  (a sibling script, not a package)
import fetch_bench  # noqa: E402

SYNDICATE = Path(sys.executable).with_name("syndicate")
# Requests in flight: syndicate's default [sources] concurrency, and reader's workers=16.
FETCH_CONCURRENCY = 16
DEFAULT_READER_PYTHON = os.environ.get("PEERS_READER_PYTHON", "/tmp/peers-venv/bin/python")

HUGO_COMMON = """\
baseURL = "https://bench.example.com/"
title = "Bench Dispatch"
languageCode = "en"
rssLimit = 50
disableKinds = ["sitemap", "robotsTXT", "404"]
[taxonomies]
tag = "tags"
author = "author"
"""

# Feeds only: no page is rendered (they are still read and linked), lists are RSS only.
HUGO_FEEDS_ONLY = (
    HUGO_COMMON
    + """\
[outputs]
home = ["RSS"]
section = ["RSS"]
taxonomy = ["RSS"]
term = ["RSS"]
[[cascade]]
[cascade._build]
render = "link"
list = "always"
[cascade._target]
kind = "page"
"""
)

HUGO_FULL = HUGO_COMMON

# Full content in every item, as syndicate writes it (Hugo's built-in template has only the summary).
HUGO_RSS = """\
<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>{{ .Title }} on {{ .Site.Title }}</title><link>{{ .Permalink }}</link>
<description>{{ .Site.Title }}</description>
{{ range first .Site.Config.Services.RSS.Limit .Pages }}<item><title>{{ .Title }}</title>
<link>{{ .Permalink }}</link><pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
<guid>{{ .Permalink }}</guid>{{ range .Params.tags }}<category>{{ . }}</category>{{ end }}
<description>{{ .Content | html }}</description></item>
{{ end }}</channel></rss>
"""

HUGO_SINGLE = """\
<!doctype html><html><head><title>{{ .Title }}</title></head><body>
<h1>{{ .Title }}</h1><p>{{ .Date.Format "2006-01-02" }} {{ .Params.author }}</p>{{ .Content }}</body></html>
"""

HUGO_LIST = """\
<!doctype html><html><head><title>{{ .Title }}</title></head><body><h1>{{ .Title }}</h1>
<ul>{{ range first 50 .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></body></html>
"""

READER_SCRIPT = """\
import json, sys, time
from reader import make_reader
db, urls_file, add = sys.argv[1], sys.argv[2], sys.argv[3] == "add"
reader = make_reader(db)
if add:
    for url in json.load(open(urls_file)):
        reader.add_feed(url, exist_ok=True)
started = time.perf_counter()
reader.update_feeds(workers=16, scheduled=False)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "entries": reader.get_entry_counts().total}))
"""


@dataclass(frozen=True)
class Measured:
    seconds: float
    cpu_seconds: float


def measure(command: list[str], cwd: Path | None = None) -> tuple[Measured, str]:
    """Run ``command``; wall time and CPU (user + sys, the process and its reaped children) with its output."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return Measured(seconds, usage.ru_utime + usage.ru_stime), output


def hugo_site(site: Path) -> None:
    """Hugo's configs and templates beside syndicate's, reading the same ``content/``."""
    (site / "hugo-feeds.toml").write_text(HUGO_FEEDS_ONLY, encoding="utf-8")
    (site / "hugo-full.toml").write_text(HUGO_FULL, encoding="utf-8")
    layouts = site / "layouts" / "_default"
    layouts.mkdir(parents=True, exist_ok=True)
    (layouts / "rss.xml").write_text(HUGO_RSS, encoding="utf-8")
    (layouts / "single.html").write_text(HUGO_SINGLE, encoding="utf-8")
    (layouts / "list.html").write_text(HUGO_LIST, encoding="utf-8")


def run_hugo(site: Path, config: str) -> tuple[Measured, int]:
    """A full Hugo build into a fresh folder; returns the measurement and the number of RSS files written."""
    destination = site / f"hugo-public-{config}"
    shutil.rmtree(destination, ignore_errors=True)
    shutil.rmtree(site / "resources", ignore_errors=True)
    command = ["hugo", "--source", str(site), "--config", f"hugo-{config}.toml", "--destination", str(destination)]
    measured, _ = measure([*command, "--quiet"])
    return measured, sum(1 for _ in destination.rglob("index.xml"))


def run_syndicate(site: Path) -> Measured:
    measured, _ = measure([str(SYNDICATE), "build", "--site", str(site)])
    return measured


def median(runs: list[Measured]) -> Measured:
    return Measured(statistics.median(r.seconds for r in runs), statistics.median(r.cpu_seconds for r in runs))


Row = tuple[str, list[Measured], str, list[Measured]]


def bench_builds(size: int, pairs: int, hugo: bool) -> list[Row]:
    site = build_bench.OUT / f"peers-{size}"
    articles = build_bench.synthetic_articles(size)
    build_bench.generate_site(site, articles)
    hugo_site(site)
    newest = max(articles, key=lambda a: a.published)
    edited = site / "content" / f"{newest.slug}.md"
    del articles
    cold: list[Measured] = []
    one_edit: list[Measured] = []
    no_change: list[Measured] = []
    feeds_only: list[Measured] = []
    full: list[Measured] = []
    for pair in range(pairs):
        shutil.rmtree(site / "public", ignore_errors=True)
        shutil.rmtree(site / ".syndicate", ignore_errors=True)
        cold.append(run_syndicate(site))
        if hugo:
            measured, hugo_feeds = run_hugo(site, "feeds")
            feeds_only.append(measured)
        edited.write_text(edited.read_text(encoding="utf-8") + f"\nCorrection {pair} appended.\n", encoding="utf-8")
        one_edit.append(run_syndicate(site))
        if hugo:
            measured, _ = run_hugo(site, "full")
            full.append(measured)
        no_change.append(run_syndicate(site))
    written = sum(1 for _ in (site / "public").rglob("*") if _.suffix in (".xml", ".json"))
    print(f"  {size:,} articles: syndicate wrote {written} feed and JSON files", end="")
    print(f"; Hugo wrote {hugo_feeds} RSS files feeds-only" if hugo else " (Hugo not found: no peer)")
    shutil.rmtree(site)
    feeds_label = 'Hugo, feeds only (render = "link")'
    rows: list[Row] = [(f"{size:,}: cold build", cold, feeds_label, feeds_only)]
    rows.append((f"{size:,}: cold build", cold, "Hugo, full site", full))
    rows.append((f"{size:,}: one article edited", one_edit, feeds_label + ", a full rebuild", feeds_only))
    rows.append((f"{size:,}: nothing changed", no_change, feeds_label, feeds_only))
    return rows


def bench_fetch(feeds: int, pairs: int, port: int, reader_python: str | None) -> list[Row]:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    server = context.Process(target=fetch_bench.serve, args=(port, feeds, ready), daemon=True)
    server.start()
    if not ready.wait(30):
        raise SystemExit("the fetch bench server did not start")
    cold: list[Measured] = []
    warm: list[Measured] = []
    reader_cold: list[Measured] = []
    reader_warm: list[Measured] = []
    # Warm runs timed inside the process, around the fetch call alone (no interpreter start, no imports),
    # with the practical floor: minimal clients making the same requests within the same bounds.
    inside: dict[str, list[float]] = {"syndicate": [], "reader": [], "floor-asyncio": [], "floor-httpx": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            from syndicate._model import Source
            from syndicate._sources import render_opml

            targets = fetch_bench.urls(port, feeds)
            urls_file = Path(tmp) / "urls.json"
            urls_file.write_text(json.dumps(targets), encoding="utf-8")
            script = Path(tmp) / "reader_phase.py"
            script.write_text(READER_SCRIPT, encoding="utf-8")
            for pair in range(pairs):
                site = Path(tmp) / f"site-{pair}"
                (site / "feeds").mkdir(parents=True)
                (site / "syndicate.toml").write_text(
                    '[site]\ntitle = "Bench"\nurl = "https://bench.example.com"\n[sources]\nallow_private = true\n',
                    encoding="utf-8",
                )
                (site / "feeds" / "sources.opml").write_bytes(render_opml([Source(u, u) for u in targets], "bench"))
                syndicate_phase = [sys.executable, str(HERE / "fetch_bench.py"), "--phase", "syndicate"]
                reader_db = str(Path(tmp) / f"reader-{pair}.sqlite")
                reader_phase = [reader_python or "", str(script), reader_db, str(urls_file)]
                cold.append(measure([*syndicate_phase, "--target", str(site)])[0])
                if reader_python:
                    reader_cold.append(_reader([*reader_phase, "add"], feeds))
                measured, output = measure([*syndicate_phase, "--target", str(site)])
                warm.append(measured)
                inside["syndicate"].append(json.loads(output.strip().splitlines()[-1])["seconds"])
                if reader_python:
                    reader_warm.append(_reader([*reader_phase, "again"], feeds, inside["reader"]))
                for client in ("floor-asyncio", "floor-httpx"):
                    command = [sys.executable, str(HERE / "fetch_bench.py"), "--phase", client]
                    output = measure([*command, "--target", str(urls_file)])[1]
                    inside[client].append(json.loads(output.strip().splitlines()[-1])["seconds"])
    finally:
        server.terminate()
        server.join()
    what = f"fetch {feeds} feeds x {fetch_bench.ENTRIES} entries, {fetch_bench.LATENCY * 1000:.0f} ms latency"
    floor = feeds / FETCH_CONCURRENCY * fetch_bench.LATENCY
    print(f"  warm fetch, the call alone (median): syndicate {statistics.median(inside['syndicate']):.2f} s", end="")
    if inside["reader"]:
        print(f", reader {statistics.median(inside['reader']):.2f} s", end="")
    print(f"; latency floor {feeds} / {FETCH_CONCURRENCY} x {fetch_bench.LATENCY:g} s = {floor:.2f} s")
    asyncio_floor, httpx_floor = statistics.median(inside["floor-asyncio"]), statistics.median(inside["floor-httpx"])
    print(f"  practical floor, the same requests and bounds: plain asyncio streams {asyncio_floor:.2f} s, ", end="")
    print(f"a plain httpx.AsyncClient {httpx_floor:.2f} s; syndicate's call / floor: ", end="")
    print(f"{statistics.median(inside['syndicate']) / floor:.2f}")
    for name, seconds in inside.items():
        print(f"    {name}, the call alone, each pair: " + ", ".join(f"{s:.2f}" for s in seconds))
    peer = "reader update_feeds(workers=16, scheduled=False)"
    return [(f"{what}, cold", cold, peer, reader_cold), (f"{what}, warm (all 304)", warm, peer, reader_warm)]


def _reader(command: list[str], feeds: int, inside: list[float] | None = None) -> Measured:
    measured, output = measure(command)
    result = json.loads(output.strip().splitlines()[-1])
    if inside is not None:
        inside.append(result["seconds"])
    if result["entries"] != feeds * fetch_bench.ENTRIES:
        raise SystemExit(f"reader stored {result['entries']} entries, expected {feeds * fetch_bench.ENTRIES}")
    return measured


def print_table(rows: list[Row]) -> None:
    print("\n| work | syndicate CPU s | syndicate wall s | peer | peer CPU s | peer wall s | ratio CPU | ratio wall |")
    print("|---|---|---|---|---|---|---|---|")
    for work, ours, peer, theirs in rows:
        mine = median(ours)
        if not theirs:
            print(f"| {work} | {mine.cpu_seconds:.2f} | {mine.seconds:.2f} | {peer}: not found | | | | |")
            continue
        other = median(theirs)
        print(
            f"| {work} | {mine.cpu_seconds:.2f} | {mine.seconds:.2f} | {peer} | {other.cpu_seconds:.2f} "
            f"| {other.seconds:.2f} | {mine.cpu_seconds / other.cpu_seconds:.2f} | {mine.seconds / other.seconds:.2f} |"
        )
    print("\nEach figure is the median of the interleaved pairs; ratio = syndicate / peer (below 1: syndicate faster).")
    print("Every run, per pair (CPU s / wall s):")
    for work, ours, peer, theirs in rows:
        listed = ", ".join(f"{m.cpu_seconds:.2f}/{m.seconds:.2f}" for m in ours)
        peers = ", ".join(f"{m.cpu_seconds:.2f}/{m.seconds:.2f}" for m in theirs)
        print(f"  {work}: syndicate {listed}; {peer.split(' ')[0].rstrip(',')} {peers or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 articles, 100 feeds, 2 pairs")
    parser.add_argument("--sizes", type=int, nargs="+", help="collection sizes (default: 10000)")
    parser.add_argument("--feeds", type=int, help="outside feeds to fetch (default: 500; 0 skips the fetch)")
    parser.add_argument("--fetch-only", action="store_true", help="only the fetch rows: no collection, no builds")
    parser.add_argument("--pairs", type=int, help="interleaved pairs per measurement (default: 3)")
    parser.add_argument("--port", type=int, default=8775)
    parser.add_argument("--reader-python", default=DEFAULT_READER_PYTHON, help="a python that can import reader")
    args = parser.parse_args()
    sizes = [] if args.fetch_only else args.sizes or ([2_000] if args.quick else [10_000])
    feeds = args.feeds if args.feeds is not None else (100 if args.quick else 500)
    pairs = args.pairs or (2 if args.quick else 3)
    hugo = shutil.which("hugo") is not None
    reader_python: str | None = args.reader_python
    probe = subprocess.run([args.reader_python, "-c", "import reader; print(reader.__version__)"], capture_output=True)
    if not Path(args.reader_python).exists() or probe.returncode != 0:
        reader_python = None
    build_bench.OUT.mkdir(exist_ok=True)
    hugo_version = (
        subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.split()[:2] if hugo else []
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, syndicate at {SYNDICATE}")
    print(f"Hugo: {' '.join(hugo_version) or 'not found (apt-get install hugo)'}")
    print(f"reader: {probe.stdout.decode().strip() + ' via ' + args.reader_python if reader_python else 'not found'}")
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    rows: list[Row] = []
    for size in sizes:
        rows.extend(bench_builds(size, pairs, hugo))
    if feeds:
        rows.extend(bench_fetch(feeds, pairs, args.port, reader_python))
    print_table(rows)
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
