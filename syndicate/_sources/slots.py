"""Request slots: at most ``total`` requests in flight, at most ``per_host`` to any one host.

Two semaphores (one per host, one global) give the same bounds, but hand a
freed global slot to whichever request has waited longest, which is almost
always another host's: hosts take turns, and by the time a host's next
request runs its kept-alive connection has been closed to make room for
other hosts' (the pool holds as many connections as there are slots). So
every request paid a new TCP connection.

Here a freed slot goes first to a request waiting for the *same* host
(which may reuse the connection just released), then to the waiting
requests of the host that has waited longest among those below their limit. The bounds are the same;
only the order changes, and no request waits for ever while slots are free.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class HostSlots:
    """Grants request slots within a global and a per-host bound, preferring the host just served."""

    def __init__(self, total: int, per_host: int) -> None:
        self._free = max(total, 1)
        self._per_host = max(per_host, 1)
        self._busy: dict[str, int] = {}
        # Each host's waiters in arrival order; hosts in the order they began to wait
        # (a host leaves when its queue empties). A cancelled waiter is skipped lazily.
        self._waiting_for: dict[str, deque[asyncio.Future[None]]] = {}

    def _may_start(self, host: str) -> bool:
        return self._free > 0 and self._busy.get(host, 0) < self._per_host

    def _take(self, host: str) -> None:
        self._free -= 1
        self._busy[host] = self._busy.get(host, 0) + 1

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one slot for ``host`` for the duration of the block."""
        await self._acquire(host)
        try:
            yield
        finally:
            self._release(host)

    def _has_waiters(self, host: str) -> bool:
        queue = self._waiting_for.get(host)
        if queue is None:
            return False
        while queue and queue[0].done():  # cancelled while waiting: no longer in line
            queue.popleft()
        if not queue:
            del self._waiting_for[host]
            return False
        return True

    async def _acquire(self, host: str) -> None:
        if self._may_start(host) and not self._has_waiters(host):
            self._take(host)
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting_for.setdefault(host, deque()).append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                # Granted, then cancelled before it could run: pass the slot on.
                self._release(host)
            raise

    def _release(self, host: str) -> None:
        self._free += 1
        left = self._busy[host] - 1
        if left:
            self._busy[host] = left
        else:
            del self._busy[host]
        self._grant_same_host(host)
        self._grant_oldest()

    def _grant(self, host: str, queue: deque[asyncio.Future[None]]) -> bool:
        while queue:
            granted = queue.popleft()
            if not granted.done():
                self._take(host)
                granted.set_result(None)
                return True
        return False

    def _grant_same_host(self, host: str) -> None:
        queue = self._waiting_for.get(host)
        if queue is not None and self._may_start(host):
            self._grant(host, queue)
            if not queue:
                del self._waiting_for[host]

    def _grant_oldest(self) -> None:
        """Grant free slots to the waiting hosts below their limit, the longest-waiting host first."""
        for host in list(self._waiting_for):
            if self._free <= 0:
                return
            queue = self._waiting_for[host]
            while self._may_start(host) and self._grant(host, queue):
                pass
            if not queue:
                del self._waiting_for[host]
