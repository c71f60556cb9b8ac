"""Serving the unsubscribe app on waitress, so one slow or idle client cannot hold up the others.

wsgiref (the standard library's server) answers one connection at a time: a
client that connects and sends nothing, or half a request, blocks every
unsubscribe behind it. waitress reads requests in one event loop, hands only
complete ones to a pool of worker threads, and closes connections idle for
longer than ``channel_timeout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from waitress import wasyncore  # type: ignore[import-untyped]  # no stubs; used through Any
from waitress.server import create_server  # type: ignore[import-untyped]

from .webapp import SubscriptionApp


@dataclass(frozen=True)
class ServeLimits:
    """How much one client may take of the server."""

    threads: int = 4  # requests handled at once; the app's work is a token check and one UPDATE
    channel_timeout: int = 30  # seconds a connection may sit idle (or half-sent) before it is closed
    connection_limit: int = 100  # open connections; more wait in the listen backlog
    max_request_header_size: int = 16 * 1024  # an unsubscribe link is well under 1 KB
    max_request_body_size: int = 64 * 1024  # the one-click form is 26 bytes


class UnsubscribeServer:
    """A listening waitress server for the unsubscribe app; :meth:`serve_forever` runs it."""

    def __init__(self, app: SubscriptionApp, host: str, port: int, limits: ServeLimits | None = None) -> None:
        limits = limits or ServeLimits()
        self._closing = False
        self._server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=limits.threads,
            channel_timeout=limits.channel_timeout,
            # Idle connections are looked for this often: never slower than the timeout itself.
            cleanup_interval=max(1, min(30, limits.channel_timeout)),
            connection_limit=limits.connection_limit,
            max_request_header_size=limits.max_request_header_size,
            max_request_body_size=limits.max_request_body_size,
            ident="syndicate",
            expose_tracebacks=False,
        )

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """Where it listens: ``(host, port)`` for each socket (a name like "localhost" may give two)."""
        listening = getattr(self._server, "effective_listen", None)
        if listening is not None:
            return [(str(host), int(port)) for host, port in listening]
        return [(str(self._server.effective_host), int(self._server.effective_port))]

    @property
    def port(self) -> int:
        return self.addresses[0][1]

    def serve_forever(self) -> None:
        """Serve until :meth:`close` (from another thread) or Ctrl-C."""
        try:
            self._server.run()
        except (OSError, ValueError):
            # close() from another thread pulls the sockets from under the loop's select(): that
            # is how serving ends, not an error. Anything else while still open is one.
            if not self._closing:
                raise

    def close(self) -> None:
        """Stop serving: close every connection and stop the worker threads."""
        self._closing = True
        self._server.task_dispatcher.shutdown()
        socket_map = getattr(self._server, "map", None) or getattr(self._server, "_map", None)
        wasyncore.close_all(socket_map)

    def __enter__(self) -> UnsubscribeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
