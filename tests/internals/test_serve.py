"""``syndicate serve``: idle and half-sent connections do not hold up an unsubscribe (real sockets on loopback)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, SiteFactory

import syndicate
from syndicate import SubscriberStatus
from syndicate._newsletter.server import ServeLimits, UnsubscribeServer
from syndicate._newsletter.unsubscribe import TokenSigner, unsubscribe_app

SECRET = "unsubscribe-secret-0123456789"
FORM = b"List-Unsubscribe=One-Click"
CONFIG = """\
[site]
title = "Serve Test"
url = "https://serve.example.org"
timezone = "Europe/London"
"""


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)


@pytest.fixture
def site(make_site: SiteFactory) -> Iterator[syndicate.Site]:
    site_dir = make_site({}, config=CONFIG)
    opened = syndicate.Site.open(site_dir)
    opened.store.subscribers.merge([(f"reader{n}@example.net", "") for n in range(5)])
    yield opened
    opened.close()


def _token(site: syndicate.Site, email: str) -> str:
    subscriber = site.store.subscribers.find(email)
    assert subscriber is not None
    return TokenSigner(SECRET.encode()).token(subscriber.id, subscriber.email)


def _post(url: str, timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(url, data=FORM, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:  # it holds the response's socket; closing it is ours
            return exc.code, exc.read().decode()


def _idle_clients(port: int) -> list[socket.socket]:
    """Clients as a slow or hostile peer leaves them: silent, half a request line, headers never ended."""
    clients = []
    for partial in (b"", b"POST /unsubscribe?tok", b"GET / HTTP/1.1\r\nHost: x\r\n", b"POST / HTTP/1.1\r\n"):
        for _ in range(5):
            client = socket.create_connection(("127.0.0.1", port), timeout=5)
            if partial:
                client.sendall(partial)
            clients.append(client)
    return clients


@pytest.fixture
def served(site: syndicate.Site) -> Iterator[UnsubscribeServer]:
    server = UnsubscribeServer(unsubscribe_app(site), "127.0.0.1", 0, ServeLimits(threads=2, channel_timeout=2))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(timeout=5)


def test_idle_clients_do_not_block_an_unsubscribe(site: syndicate.Site, served: UnsubscribeServer) -> None:
    idle = _idle_clients(served.port)  # 20 connections, more than the 2 worker threads
    try:
        started = time.monotonic()
        status, page = _post(
            f"http://127.0.0.1:{served.port}/unsubscribe?token={_token(site, 'reader3@example.net')}", 3
        )
        elapsed = time.monotonic() - started
    finally:
        for client in idle:
            client.close()
    assert status == 200 and "no more newsletters" in page
    assert elapsed < 2.5  # wsgiref never answered: the 3 s client timeout ran out
    gone = site.store.subscribers.find("reader3@example.net")
    assert gone is not None and gone.status is SubscriberStatus.UNSUBSCRIBED


def test_concurrent_unsubscribes_all_complete(site: syndicate.Site, served: UnsubscribeServer) -> None:
    results: list[int] = []
    emails = [f"reader{n}@example.net" for n in range(5)]
    threads = [
        threading.Thread(
            target=lambda e=email: results.append(
                _post(f"http://127.0.0.1:{served.port}/u?token={_token(site, e)}", 5)[0]
            )
        )
        for email in emails
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == [200] * 5
    assert all(site.store.subscribers.find(e).status is SubscriberStatus.UNSUBSCRIBED for e in emails)  # type: ignore[union-attr]


def test_an_idle_connection_is_closed_after_the_timeout(served: UnsubscribeServer) -> None:
    client = socket.create_connection(("127.0.0.1", served.port), timeout=8)
    client.sendall(b"GET / HTTP/1.1\r\n")  # and never the rest
    started = time.monotonic()
    try:
        assert client.recv(1024) == b""  # the server hung up
    finally:
        client.close()
    # channel_timeout 2 s, looked for every 2 s: closed within about 4 s, not left open for ever.
    assert time.monotonic() - started < 6


def test_an_oversized_request_is_refused(site: syndicate.Site, served: UnsubscribeServer) -> None:
    client = socket.create_connection(("127.0.0.1", served.port), timeout=5)
    try:
        client.sendall(b"GET /u?token=" + b"x" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = client.recv(64)
    except ConnectionResetError:
        answer = b"reset"  # refused before the client finished sending: as good as a 431
    finally:
        client.close()
    assert answer[9:12] in (b"431", b"400") or answer == b"reset", answer
    # And the server is still there for the next reader.
    token = _token(site, "reader4@example.net")
    assert _post(f"http://127.0.0.1:{served.port}/u?token={token}", 5)[0] == 200


def test_the_serve_command_with_an_idle_client(site: syndicate.Site, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, str(REPO / "cli.py"), "serve", "--site", str(site.root), "--port", "0", "--timeout", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SYNDICATE_SECRET": SECRET},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "unsubscribe app on http://127.0.0.1:" in line, line + (process.stderr.read() if process.stderr else "")
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        idle = _idle_clients(port)
        try:
            token = _token(site, "reader1@example.net")
            # Generous bounds: on a loaded machine the server process can be slow to answer or to
            # stop; what is tested is that idle clients do not block it, not how fast it is.
            status, page = _post(f"http://127.0.0.1:{port}/unsubscribe?token={token}", 15)
        finally:
            for client in idle:
                client.close()
        assert status == 200 and "reader1@example.net" in page
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()  # reaped, and its pipes closed (no ResourceWarning in a later test)
    assert process.returncode == 0
    _, errors = process.communicate()  # the rest of the output, and the pipes closed
    assert "token=" not in errors  # tokens stay out of the logs
