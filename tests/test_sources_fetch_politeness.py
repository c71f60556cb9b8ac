"""Politeness under load, against a real loopback server on two hosts: the bounds hold, connections are reused."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import allowing_loopback_sources

from syndicate import Site

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOSTS = ("127.0.0.1", "127.0.0.2")
FEEDS_PER_HOST = 12
# Long enough for requests to overlap, so the bounds are actually tested.
SERVER_LATENCY = 0.02


def feed(host: str, path: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{host}{path}</title>'
        f"<link>https://{host}.example.com/</link><item><title>A story at {path}</title>"
        f"<link>https://{host}.example.com{path}/1</link><guid>{host}{path}-1</guid>"
        "<pubDate>Wed, 18 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"
    ).encode()


@dataclass
class CountingServer:
    """Keep-alive HTTP/1.1 feeds with ETags; counts requests in flight and connections, per host."""

    port: int = 0
    in_flight: dict[str, int] = field(default_factory=dict)
    most_in_flight: dict[str, int] = field(default_factory=dict)
    most_in_flight_overall: int = 0
    connections: dict[str, int] = field(default_factory=dict)
    not_modified: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        self.connections[host] = self.connections.get(host, 0) + 1
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                path = head[0].split(" ")[1]
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
                self.in_flight[host] = self.in_flight.get(host, 0) + 1
                self.most_in_flight[host] = max(self.most_in_flight.get(host, 0), self.in_flight[host])
                self.most_in_flight_overall = max(self.most_in_flight_overall, sum(self.in_flight.values()))
                await asyncio.sleep(SERVER_LATENCY)
                self.in_flight[host] -= 1
                etag = f'"{host}{path}"'
                if headers.get("if-none-match") == etag:
                    self.not_modified += 1
                    writer.write(f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n\r\n".encode())
                else:
                    body = feed(host, path)
                    writer.write(
                        f"HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Type: application/rss+xml\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOSTS[0], 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server() -> Iterator[CountingServer]:
    counting = CountingServer(port=_free_port())
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        servers = [await asyncio.start_server(counting.handle, host, counting.port) for host in HOSTS]
        started.set()
        await stop.wait()
        for running in servers:
            running.close()
            await running.wait_closed()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10)
    yield counting
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)
    loop.close()


def site(root: Path, urls: list[str], sources: str) -> Site:
    (root / "feeds").mkdir(parents=True)
    (root / "syndicate.toml").write_text(
        allowing_loopback_sources(
            f'[site]\ntitle = "Polite"\nurl = "https://polite.example.org"\n[sources]\n{sources}'
        ),
        encoding="utf-8",
    )
    opened = Site.open(root)
    for url in urls:
        opened.sources.add(url)
    return opened


def test_per_host_and_overall_bounds_hold_and_a_warm_run_reuses_connections(
    server: CountingServer, tmp_path: Path
) -> None:
    urls = [f"http://{host}:{server.port}/feed/{n}.xml" for n in range(FEEDS_PER_HOST) for host in HOSTS]
    with site(tmp_path, urls, "concurrency = 3\nper_host = 2\nmax_per_source = 100\n") as opened:
        cold = opened.fetch(now=NOW)
        assert {r.status for r in cold.results} == {"fetched"}
        server.connections.clear()
        warm = opened.fetch(now=NOW + timedelta(hours=1))
    assert {r.status for r in warm.results} == {"not-modified"}
    assert server.not_modified == len(urls)
    assert max(server.most_in_flight.values()) <= 2
    assert server.most_in_flight_overall <= 3
    # Each host's requests follow one another on kept-alive connections, not one connection each.
    assert sum(server.connections.values()) <= 2 * len(HOSTS)
