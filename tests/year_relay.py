"""A real aiosmtpd relay for the simulated year, with the faults a year brings.

Separate from ``smtp_relay.Relay`` (which other tests extend): this one
defers a steady fraction of deliveries transiently (451, decided by a seeded
generator, so a run is reproducible), can be "down" (421 to every MAIL, as a
relay in maintenance answers), and can be slowed so a test has time to kill a
sending process mid-run.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import pytest
from smtp_relay import Relay, serving


class FaultyRelay(Relay):
    transient_rate: float = 0.0
    down: bool = False
    delay: float = 0.0
    deferred: int = 0
    refused: int = 0
    rng: random.Random

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]) -> str:
        if self.down:
            with self.lock:
                self.refused += 1
            return "421 4.3.2 Service not available, closing transmission channel"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.transient_rate and self.rng.random() < self.transient_rate:
            with self.lock:
                self.deferred += 1
            return "451 4.3.0 Temporary failure, try again later"
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def faulty_relay() -> Iterator[FaultyRelay]:
    handler = FaultyRelay()
    handler.rng = random.Random(20261202)
    with serving(handler):
        yield handler
