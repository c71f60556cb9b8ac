"""Request slots: at most ``total`` requests in flight, at most ``per_host`` to any one host.

Two semaphores (one per host, one global) give the same bounds, but hand a
freed global slot to whichever request has waited longest, which is almost
always another host's: hosts take turns, and by the time a host's next
request runs its kept-alive connection has been closed to make room for
other hosts' (the pool holds as many connections as there are slots). So
every request paid a new TCP connection.

Which waiting request gets a freed slot decides how long the run takes.
Handing it back to the host just served (so its connection is reused)
works through the hosts one after another, so a run ends with the last few
hosts each allowed only ``per_host`` slots while the rest stand idle: 500
requests on 50 hosts, 16 slots, 2 per host, 50 ms each took 1.79 s against
the 1.56 s the slots allow. Here a freed slot goes to the host with the
most requests waiting (the longest queue, which bounds how soon the run
can end), and among hosts with as many, to the host just served (its
connection is free), then to the host that began to wait first. Hosts
then finish together. The bounds are the same; only the order changes,
and no request waits while a slot it may take is free.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections import deque
from collections.abc import AsyncIterator


class HostSlots:
    """Grants request slots within a global and a per-host bound, the longest queue first."""

    def __init__(self, total: int, per_host: int) -> None:
        self._free = max(total, 1)
        self._per_host = max(per_host, 1)
        self._busy: dict[str, int] = {}
        # Each host's waiters in arrival order (a host leaves when its queue empties).
        # A cancelled waiter is skipped lazily, so it counts towards its queue until then.
        self._waiting_for: dict[str, deque[asyncio.Future[None]]] = {}
        # (-queue length, when the host began to wait, host): the longest queue on top.
        # An entry whose length is no longer its host's queue length is stale and skipped.
        self._queues: list[tuple[int, int, str]] = []
        self._began_waiting: dict[str, int] = {}
        self._arrival = itertools.count()

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

    def idle(self, host: str) -> bool:
        """True when ``host`` has no request in flight and none waiting."""
        return host not in self._busy and host not in self._waiting_for

    def _queue_changed(self, host: str) -> None:
        queue = self._waiting_for.get(host)
        if queue:
            heapq.heappush(self._queues, (-len(queue), self._began_waiting[host], host))

    def _has_waiters(self, host: str) -> bool:
        queue = self._waiting_for.get(host)
        if queue is None:
            return False
        while queue and queue[0].done():  # cancelled while waiting: no longer in line
            queue.popleft()
        if not queue:
            self._forget(host)
            return False
        self._queue_changed(host)
        return True

    def _forget(self, host: str) -> None:
        del self._waiting_for[host]
        del self._began_waiting[host]

    async def _acquire(self, host: str) -> None:
        if self._may_start(host) and not self._has_waiters(host):
            self._take(host)
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if host not in self._waiting_for:
            self._waiting_for[host] = deque()
            self._began_waiting[host] = next(self._arrival)
        self._waiting_for[host].append(granted)
        self._queue_changed(host)
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
        while self._free > 0:
            chosen = self._next_host(host)
            if chosen is None:
                return
            self._grant(chosen)

    def _grant(self, host: str) -> None:
        """Grant a slot to ``host``'s first live waiter, if it still has one."""
        queue = self._waiting_for[host]
        while queue:
            granted = queue.popleft()
            if not granted.done():
                self._take(host)
                granted.set_result(None)
                break
        if queue:
            self._queue_changed(host)
        else:
            self._forget(host)

    def _next_host(self, served: str) -> str | None:
        """The waiting host below its limit with the longest queue; ``served`` wins a tie."""
        at_limit: list[tuple[int, int, str]] = []
        chosen: str | None = None
        longest = 0
        while self._queues:
            negative_length, _, host = self._queues[0]
            queue = self._waiting_for.get(host)
            if queue is None or len(queue) != -negative_length:
                heapq.heappop(self._queues)  # stale: the queue has changed since
            elif not self._may_start(host):
                at_limit.append(heapq.heappop(self._queues))
            else:
                chosen, longest = host, -negative_length
                break
        for entry in at_limit:
            heapq.heappush(self._queues, entry)
        queue = self._waiting_for.get(served)
        if chosen is not None and queue is not None and len(queue) >= longest and self._may_start(served):
            return served
        return chosen
