"""WebSub: feeds name their hubs, and the hubs hear about every feed a build changed.

Readers that subscribe through a hub (Feedly, Inoreader, NewsBlur, many
podcast apps) get a new story within seconds instead of at their next poll.
A feed advertises each configured hub (``<atom:link rel="hub">`` in RSS,
``<link rel="hub">`` in Atom, ``hubs`` in JSON Feed); after a build, each hub
gets a ``hub.mode=publish`` request for each feed file whose bytes changed, and
for no other. The hubs are the publisher's own configuration, not outside
input, so they are not subject to the fetcher's private-address refusal.

A hub that is down or refuses is reported (a warning and the outcome of each
ping); it never fails the build, and the next build pings only what it changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PUBLISH_TIMEOUT = 10.0
CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class WebSubPing:
    """The outcome of telling one hub that one feed changed."""

    hub: str
    url: str
    status: int | None  # the hub's HTTP status; None when no answer came
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def _publish_all(hubs: Sequence[str], urls: Sequence[str], user_agent: str) -> list[WebSubPing]:
    import httpx  # here: only a build that changed a feed with hubs configured pings

    gate = asyncio.Semaphore(CONCURRENCY)

    async def publish(client: httpx.AsyncClient, hub: str, url: str) -> WebSubPing:
        async with gate:
            try:
                response = await client.post(hub, data={"hub.mode": "publish", "hub.url": url})
            except httpx.HTTPError as exc:
                return WebSubPing(hub, url, None, f"{type(exc).__name__}: {exc}"[:300])
            return WebSubPing(hub, url, response.status_code, "" if response.is_success else response.text[:200])

    async with httpx.AsyncClient(timeout=PUBLISH_TIMEOUT, headers={"User-Agent": user_agent}) as client:
        return list(await asyncio.gather(*(publish(client, hub, url) for hub in hubs for url in urls)))


def publish(hubs: Sequence[str], urls: Iterable[str], user_agent: str = "syndicate") -> list[WebSubPing]:
    """Tell each hub that each feed in ``urls`` changed; one outcome per (hub, feed)."""
    chosen = sorted(set(urls))
    if not hubs or not chosen:
        return []
    return asyncio.run(_publish_all(hubs, chosen, user_agent))
