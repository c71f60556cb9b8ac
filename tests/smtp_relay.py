"""A real SMTP server for the sending tests: aiosmtpd on 127.0.0.1, with ways to misbehave.

``Relay`` records every message whose data it read. Faults it can inject, per
recipient: 451 (``defer``) or 550 (``reject``) at RCPT, any reply at RCPT
(``rcpt_replies``; a 421 also closes the connection, as real relays do), the
connection dropped after the data was read without a reply
(``drop_after_data``), or no reply at all after the data (``hang_after_data``,
so the client's timeout fires). For everyone: drop the connection after every
N messages (after the 250, so the message counts as delivered), and a latency
per message before the 250.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import textwrap
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller

from syndicate import SendReport

WEEK = "2026-W47"  # Monday 16 November 2026 to Sunday 22 November, site time

ARTICLES = {
    "festival-opens.md": """
        ---
        title: "Festival Opens With A Restored Classic"
        date: 2026-11-17 09:30
        author: Jane Doe
        tags: [festivals]
        summary: The festival opens.
        ---
        The festival opened with a restoration.
        """,
    "doc-prize.md": """
        ---
        title: "Documentary Wins The Jury Prize"
        date: 2026-11-18 10:00
        author: Sam Roe
        tags: [documentary]
        summary: A documentary takes the prize.
        ---
        The jury chose a documentary.
        """,
}


def site_config(port: int, *, rate: float = 0.0, extra: str = "", timeout: float = 10) -> str:
    return textwrap.dedent(
        f"""\
        [site]
        title = "Test Reel"
        url = "https://test.example.org"
        timezone = "Europe/London"

        [newsletter]
        send_weekday = "friday"
        send_time = "07:00"
        list_id = "weekly.test.example.org"
        unsubscribe_mailto = "unsubscribe@test.example.org"
        rate_per_second = {rate}
        {extra}

        [smtp]
        host = "127.0.0.1"
        port = {port}
        security = "none"
        from = "Test Reel <news@test.example.org>"
        timeout = {timeout}
        """
    )


@dataclass
class Received:
    rcpt: str
    data: bytes

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Relay:
    """The aiosmtpd handler; every hook runs on the controller's event loop thread."""

    defer: set[str] = field(default_factory=set)  # 451 at RCPT
    reject: set[str] = field(default_factory=set)  # 550 at RCPT
    drop_every: int = 0  # close the connection after every N accepted messages
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address -> reply at RCPT, e.g. "452 4.2.2 Full"
    drop_after_data: set[str] = field(default_factory=set)  # read the data, then close without a reply
    hang_after_data: set[str] = field(default_factory=set)  # read the data, then say nothing
    latency: float = 0.0  # seconds before each 250 to the data
    received: list[Received] = field(default_factory=list)  # every message whose data was read
    rcpt_attempts: Counter[str] = field(default_factory=Counter)  # every RCPT, answered or not
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        with self.lock:
            self.rcpt_attempts[address] += 1
        reply = self.rcpt_replies.get(address)
        if reply is not None:
            if reply.startswith("421"):
                asyncio.get_running_loop().call_soon(server.transport.close)
            elif reply.startswith("2"):  # accepted after all: the message goes on to DATA
                envelope.rcpt_tos.append(address)
            return reply
        if address in self.defer:
            return "451 4.7.1 Try again later"
        if address in self.reject:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append(Received(rcpt, bytes(envelope.original_content)))
            count = len(self.received)
        if set(envelope.rcpt_tos) & self.drop_after_data:
            server.transport.abort()  # the reply below goes nowhere: the client sees the connection die
            return "250 2.0.0 never heard"
        if set(envelope.rcpt_tos) & self.hang_after_data:
            await asyncio.sleep(3600)  # cancelled when the controller stops
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.drop_every and count % self.drop_every == 0:
            # Close once the 250 below is flushed: the next MAIL meets a dead connection.
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 2.0.0 Message accepted"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(r.rcpt for r in self.received)

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def message_ids(self, rcpt: str) -> list[str]:
        """The Message-ID of every copy ``rcpt`` was sent (whose data the relay read), in order."""
        with self.lock:
            copies = [r for r in self.received if r.rcpt == rcpt]
        return [str(r.message()["Message-ID"]) for r in copies]


class LocalController(Controller):  # type: ignore[misc]
    """A Controller on a free port: aiosmtpd's readiness probe would dial port 0 itself."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


RelayT = TypeVar("RelayT", bound=Relay)


@contextmanager
def serving(handler: RelayT) -> Iterator[RelayT]:
    """``handler`` answering SMTP on a free loopback port (its ``port``) until the block ends."""
    controller = LocalController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def relay() -> Iterator[Relay]:
    with serving(Relay()) as handler:
        yield handler


def write_subscribers(path: Path, count: int, *, start: int = 0) -> list[str]:
    """A CSV of ``count`` subscribers ``reader<N>@example.net``; returns the addresses."""
    addresses = [f"reader{n}@example.net" for n in range(start, start + count)]
    lines = ["email,name", *(f"{a},Reader {n}" for n, a in enumerate(addresses, start))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return addresses


def sending_site(
    make_site: Callable[..., Path],
    relay: Relay,
    count: int,
    *,
    articles: dict[str, str] = ARTICLES,
    extra: str = "",
    rate: float = 0.0,
    timeout: float = 10,
) -> Path:
    """A site that sends through ``relay``, with ``count`` subscribers imported."""
    import syndicate
    from syndicate import import_subscribers

    site = make_site(articles, config=site_config(relay.port, rate=rate, extra=extra, timeout=timeout))
    write_subscribers(site / "list.csv", count)
    with syndicate.Site.open(site) as opened:
        report = import_subscribers(opened.store.subscribers, site / "list.csv")
    assert report.counts.added == count and not report.problems
    return site


def send(site: Path, **options: Any) -> SendReport:
    """One ``send_newsletter`` run on the site in ``site``."""
    import syndicate
    from syndicate import send_newsletter

    with syndicate.Site.open(site) as opened:
        return send_newsletter(opened, **options)
