"""One small connection pool per host, closed as soon as no request for the host is left.

httpcore's single pool holds at most as many connections as there are
request slots and scans all of them for every request; when requests for
many hosts are interleaved (which is what finishes a run soonest, see
:mod:`.slots`), it closes one host's idle connection to open another's, so
most requests paid a new TCP connection. Here each host (scheme, host,
port) has its own pool of at most ``per_host`` connections, which stays
open while the host has requests waiting and is closed, by
:meth:`HostPools.retire`, once it has none: a run against thousands of
hosts never holds more open connections than requests in flight plus the
waiting hosts' few.
"""

from __future__ import annotations

import asyncio
import ssl
from types import TracebackType

import httpcore

Origin = tuple[bytes, bytes, int | None]


def host_key(host: str) -> bytes:
    """A host name as httpcore's requests carry it: ASCII (IDNA for an international name), lower case."""
    try:
        return host.encode("idna").lower()
    except UnicodeError:  # not encodable: it never matches a pool, which is then closed with the run
        return host.encode("utf-8", "surrogateescape").lower()


class HostPools:
    """Stands in for httpcore's connection pool inside an httpx transport, routing each request by origin."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        per_host: int,
        keepalive_expiry: float | None,
        network_backend: httpcore.AsyncNetworkBackend,
    ) -> None:
        self._ssl_context = ssl_context
        self._per_host = max(per_host, 1)
        self._keepalive_expiry = keepalive_expiry
        self._network_backend = network_backend
        self._pools: dict[Origin, httpcore.AsyncConnectionPool] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def _pool(self, origin: Origin) -> httpcore.AsyncConnectionPool:
        pool = self._pools.get(origin)
        if pool is None:
            pool = httpcore.AsyncConnectionPool(
                ssl_context=self._ssl_context,
                max_connections=self._per_host,
                max_keepalive_connections=self._per_host,
                keepalive_expiry=self._keepalive_expiry,
                network_backend=self._network_backend,
            )
            self._pools[origin] = pool
        return pool

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        url = request.url
        return await self._pool((url.scheme, url.host.lower(), url.port)).handle_async_request(request)

    def retire(self, host: str) -> None:
        """Close the pools of ``host``, which has no request left (a later one opens a new pool)."""
        key = host_key(host)
        for origin in [origin for origin in self._pools if origin[1] == key]:
            pool = self._pools.pop(origin)
            # Closed in the background: the request that freed the host must not wait for it.
            task = asyncio.ensure_future(pool.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def __aenter__(self) -> HostPools:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()
