"""Benchmark: fetching 500 outside feeds, cold and warm, against a plain feedparser loop.

A local server (its own process, asyncio, HTTP/1.1 keep-alive) serves 500
RSS feeds of 50 entries each with ~50 ms latency per response, concurrently,
spread over 50 loopback addresses (127.0.0.1-50) so the per-host limit of 2
behaves as it would against 50 real sites. Then, each in a fresh process so
peak memory is its own:

* cold:  ``syndicate._sources.fetch_sources`` with an empty state database;
* warm:  the same again: every request is conditional and answered 304;
* loop:  the baseline, ``for url in urls: feedparser.parse(url)``.

Run:  .venv/bin/python bench/fetch_bench.py            (--sources N to shrink it)
Before/after:  git archive main syndicate | tar -x -C /tmp/main-src  (an empty folder), then
      .venv/bin/python bench/fetch_bench.py --warm-against /tmp/main-src --pairs 3
      (one cold fetch, then warm runs alternating main's code and this checkout's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENTRIES = 50
HOSTS = 50
LATENCY = 0.05


def feed_body(index: int) -> bytes:
    items = []
    for n in range(ENTRIES):
        items.append(
            f"<item><title>Outlet {index} story {n}: festival premiere draws a crowd</title>"
            f"<link>https://outlet{index}.example.com/{n}?utm_source=rss&amp;utm_medium=feed</link>"
            f'<guid isPermaLink="false">outlet{index}-{n}</guid>'
            f"<pubDate>Mon, {n % 28 + 1:02d} Nov 2026 {n % 24:02d}:00:00 GMT</pubDate>"
            f"<description>&lt;p&gt;Story {n} from outlet {index}: the director spoke about the film, "
            f'its long production and the cast. &lt;a href="/more/{n}"&gt;Read more&lt;/a&gt;&lt;/p&gt;'
            f'&lt;img src="https://px.example.com/p.gif" width="1" height="1"&gt;</description></item>'
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Outlet {index}</title>'
        f"<link>https://outlet{index}.example.com/</link>{''.join(items)}</channel></rss>"
    ).encode()


def serve(port: int, sources: int, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    bodies = {f"/feed/{i}.xml": feed_body(i) for i in range(sources)}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                await asyncio.sleep(LATENCY)
                body = bodies.get(path)
                etag = f'"{path}"'
                if body is None:
                    status, body, extra = "404 Not Found", b"", ""
                elif headers.get("if-none-match") == etag:
                    status, body, extra = "304 Not Modified", b"", f"ETag: {etag}\r\n"
                else:
                    status, extra = "200 OK", f"ETag: {etag}\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                length = "" if status.startswith("304") else f"Content-Length: {len(body)}\r\n"
                writer.write(f"HTTP/1.1 {status}\r\n{extra}{length}\r\n".encode() + body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, f"127.0.0.{h + 1}", port, backlog=1024) for h in range(HOSTS)]
        ready.set()
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


def urls(port: int, sources: int) -> list[str]:
    return [f"http://127.0.0.{i % HOSTS + 1}:{port}/feed/{i}.xml" for i in range(sources)]


def cpu_seconds() -> tuple[float, float]:
    """CPU time (user + system) of this process and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def peak_mb() -> tuple[float, float]:
    """Peak RSS of this process and of its largest finished child, in MB (Linux: ru_maxrss in kB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def phase_syndicate(site: str) -> dict[str, object]:
    from syndicate._config import load_config
    from syndicate._sources import fetch_sources
    from syndicate._store import Store

    config = load_config(site)
    cpu_before, _ = cpu_seconds()
    started = time.perf_counter()
    with Store(config.database_path) as store:
        report = fetch_sources(config, store)
    seconds = time.perf_counter() - started
    own, child = peak_mb()
    cpu_main, cpu_workers = cpu_seconds()
    statuses: dict[str, int] = {}
    for result in report.results:
        statuses[result.status] = statuses.get(result.status, 0) + 1
    workers = config.sources.parse_workers or multiprocessing.cpu_count()
    return {
        "seconds": seconds,
        "main_mb": own,
        "worker_mb": child,
        "workers": workers,
        "entries": sum(r.entries for r in report.results),
        "statuses": statuses,
        "cpu_main": cpu_main,
        "cpu_call": cpu_main - cpu_before,
        "cpu_workers": cpu_workers,
    }  # type: ignore[dict-item]


def phase_loop(url_file: str) -> dict[str, float]:
    import feedparser

    targets = json.loads(Path(url_file).read_text())
    started = time.perf_counter()
    entries = 0
    for url in targets:
        entries += len(feedparser.parse(url).entries)
    seconds = time.perf_counter() - started
    own, _ = peak_mb()
    cpu_main, _ = cpu_seconds()
    return {
        "seconds": seconds,
        "main_mb": own,
        "worker_mb": 0.0,
        "workers": 0,
        "entries": entries,
        "cpu_main": cpu_main,
        "cpu_workers": 0.0,
    }


async def _minimal_asyncio_get(
    url: str, idle: dict[str, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
) -> int:
    """One conditional GET on asyncio streams and nothing else: no HTTP library, no checks, the ETag known."""
    host_port, _, path = url.split("//", 1)[1].partition("/")
    host, _, port = host_port.partition(":")
    kept = idle.setdefault(host, [])
    reader, writer = kept.pop() if kept else await asyncio.open_connection(host, int(port))
    writer.write(f'GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nIf-None-Match: "/{path}"\r\n\r\n'.encode())
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    kept.append((reader, writer))
    return int(head[9:12])


def phase_floor(url_file: str, client: str) -> dict[str, object]:
    """The practical floor of a warm run: the same requests within the same bounds by a minimal client.

    ``asyncio``: plain asyncio streams (a request line and one header out, the
    status read back): what any Python client must at least spend here.
    ``httpx``: a plain ``httpx.AsyncClient`` with its default pool. Both take
    their slots from syndicate's own scheduler (16 in flight, 2 per host),
    imported before the clock starts.
    """
    from syndicate._sources.slots import HostSlots

    targets = json.loads(Path(url_file).read_text())

    async def run() -> list[int]:
        slots = HostSlots(16, 2)
        if client == "asyncio":
            idle: dict[str, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}

            async def get(url: str) -> int:
                async with slots.slot(url.split("//")[1].split(":")[0]):
                    return await _minimal_asyncio_get(url, idle)

            return await asyncio.gather(*(get(url) for url in targets))
        import httpx

        async with httpx.AsyncClient(trust_env=False) as session:

            async def fetch(url: str) -> int:
                path = "/" + url.split("//", 1)[1].partition("/")[2]
                async with slots.slot(url.split("//")[1].split(":")[0]):
                    return (await session.get(url, headers={"If-None-Match": f'"{path}"'})).status_code

            return await asyncio.gather(*(fetch(url) for url in targets))

    before, _ = cpu_seconds()
    started = time.perf_counter()
    statuses = asyncio.run(run())
    seconds = time.perf_counter() - started
    after, _ = cpu_seconds()
    return {"seconds": seconds, "cpu_call": after - before, "cpu_main": after, "statuses": sorted(set(statuses))}


def run_phase(*args: str, source: str | None = None) -> dict[str, Any]:
    """One phase in a fresh process; with ``source``, syndicate is imported from that folder instead."""
    env, cwd = None, None
    if source:
        # From outside any checkout, so neither the current folder nor the editable install comes first.
        env, cwd = {**os.environ, "PYTHONPATH": str(Path(source).resolve())}, "/"
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env, cwd=cwd)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def compare_warm(site: Path, baseline: str, pairs: int) -> None:
    """Warm runs of ``baseline``'s syndicate (a folder holding a ``syndicate`` package) and this one's, alternating."""
    print(f"warm runs, {pairs} pairs alternating: {baseline} (before) and this checkout (after)")
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for _ in range(pairs):
        runs["before"].append(run_phase("--phase", "syndicate", "--target", str(site), source=baseline))
        runs["after"].append(run_phase("--phase", "syndicate", "--target", str(site)))
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"{'code':<8}{'call wall s':>13}{'x floor':>9}{'call CPU s':>12}{'process CPU s':>15}   statuses")
    for name, rows in runs.items():
        wall = statistics.median(r["seconds"] for r in rows)
        floor = latency_floor(sum(rows[-1]["statuses"].values()))
        call_cpu = statistics.median(r["cpu_call"] for r in rows)
        process_cpu = statistics.median(r["cpu_main"] for r in rows)
        print(
            f"{name:<8}{wall:>13.2f}{wall / floor:>9.2f}{call_cpu:>12.3f}{process_cpu:>15.3f}   {rows[-1]['statuses']}"
        )
        each = ", ".join(f"{r['seconds']:.2f}/{r['cpu_call']:.2f}" for r in rows)
        print(f"        each run (call wall s / call CPU s): {each}")


def latency_floor(requests: int, concurrency: int = 16) -> float:
    """requests / concurrency x latency: the least a warm run can take whatever its client."""
    return requests / concurrency * LATENCY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--phase", choices=["syndicate", "loop", "floor-asyncio", "floor-httpx"], help=argparse.SUPPRESS
    )
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument(
        "--warm-against",
        metavar="FOLDER",
        help="after one cold fetch, compare warm runs of the syndicate package in FOLDER (e.g. made with "
        "`git archive main syndicate | tar -x -C FOLDER`) with this checkout's, alternating",
    )
    parser.add_argument("--pairs", type=int, default=3, help="pairs of warm runs for --warm-against")
    args = parser.parse_args()
    if args.phase == "syndicate":
        print(json.dumps(phase_syndicate(args.target)))
        return
    if args.phase == "loop":
        print(json.dumps(phase_loop(args.target)))
        return
    if args.phase and args.phase.startswith("floor-"):
        print(json.dumps(phase_floor(args.target, args.phase.removeprefix("floor-"))))
        return

    ready = multiprocessing.get_context("spawn").Event()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(args.port, args.sources, ready), daemon=True
    )
    server.start()
    if not ready.wait(30):
        sys.exit("the bench server did not start")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            from syndicate._model import Source
            from syndicate._sources import render_opml

            site = Path(tmp)
            (site / "feeds").mkdir()
            (site / "syndicate.toml").write_text(
                # The feeds are on loopback addresses, which the fetcher refuses unless allowed.
                '[site]\ntitle = "Bench"\nurl = "https://bench.example.com"\n[sources]\nallow_private = true\n',
                encoding="utf-8",
            )
            targets = urls(args.port, args.sources)
            (site / "feeds" / "sources.opml").write_bytes(render_opml([Source(u, u) for u in targets], "bench"))
            (site / "urls.json").write_text(json.dumps(targets))
            print(f"{args.sources} sources x {ENTRIES} entries, {LATENCY * 1000:.0f} ms latency, {HOSTS} hosts, "
                  f"{multiprocessing.cpu_count()} cores")  # fmt: skip
            cold = run_phase("--phase", "syndicate", "--target", str(site))
            if args.warm_against:
                compare_warm(site, args.warm_against, args.pairs)
                return
            warm = run_phase("--phase", "syndicate", "--target", str(site))
            loop = run_phase("--phase", "loop", "--target", str(site / "urls.json"))
    finally:
        server.terminate()
        server.join()

    def total(row: dict[str, float]) -> float:
        return row["main_mb"] + row["workers"] * row["worker_mb"]

    print(f"{'run':<34}{'wall s':>9}{'cpu s':>13}{'entries':>9}{'peak MB (main + workers)':>30}")
    for name, row in (
        ("syndicate fetch, cold", cold),
        ("syndicate fetch, warm (all 304)", warm),
        ("loop of feedparser.parse(url)", loop),
    ):
        memory = f"{total(row):.0f} ({row['main_mb']:.0f} + {int(row['workers'])} x {row['worker_mb']:.0f})"
        cpu = f"{row['cpu_main']:.1f}+{row['cpu_workers']:.1f}"
        print(f"{name:<34}{row['seconds']:>9.2f}{cpu:>13}{int(row['entries']):>9}{memory:>30}")
    ratio = loop["seconds"] / cold["seconds"]
    print(
        f"cold is {ratio:.1f}x faster than the loop; statuses cold {cold.get('statuses')}, warm {warm.get('statuses')}"
    )


if __name__ == "__main__":
    main()
