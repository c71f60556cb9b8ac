"""The fetcher's request slots under random arrivals and cancellations: bounds hold, nothing is lost or stuck.

A test of an internal scheduler (``syndicate._sources.slots``): the politeness
test through ``fetch_sources`` checks the bounds against a server, but cannot
cancel requests at chosen moments. No time passes: tasks yield to each other.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from syndicate._sources.slots import HostSlots

TOTAL = 5
PER_HOST = 2


async def _run(seed: int) -> None:
    chosen = random.Random(seed)
    slots = HostSlots(TOTAL, PER_HOST)
    in_flight: dict[str, int] = {}
    most_per_host = 0
    most_overall = 0
    finished = 0

    async def request(host: str) -> None:
        nonlocal most_per_host, most_overall, finished
        async with slots.slot(host):
            in_flight[host] = in_flight.get(host, 0) + 1
            most_per_host = max(most_per_host, in_flight[host])
            most_overall = max(most_overall, sum(in_flight.values()))
            try:
                for _ in range(chosen.randrange(1, 6)):
                    await asyncio.sleep(0)  # a turn of the loop, not time
            finally:
                in_flight[host] -= 1
        finished += 1

    def start(count: int) -> list[asyncio.Future[None]]:
        return [asyncio.ensure_future(request(f"host{chosen.randrange(7)}")) for _ in range(count)]

    tasks = start(300)
    for _ in range(3):
        await asyncio.sleep(0)
    # Some wait for a slot, some hold one, some were just granted one: cancel a sample of all.
    for task in chosen.sample(tasks, 60):
        task.cancel()
    tasks += start(50)
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
    assert most_per_host <= PER_HOST
    assert most_overall <= TOTAL
    assert finished == sum(1 for r in results if not isinstance(r, BaseException)) >= 290
    # Every slot came back: a new request for any host starts at once.
    assert await asyncio.wait_for(asyncio.gather(*start(TOTAL)), 5) == [None] * TOTAL


@pytest.mark.parametrize("seed", range(20))
def test_bounds_hold_and_every_slot_comes_back(seed: int) -> None:
    asyncio.run(_run(seed))
