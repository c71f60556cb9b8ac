"""The fetcher's HTTP/1.1 client: h11 over asyncio streams, a few kept-alive connections per host.

A feed request is a GET with a few headers, and on a warm run almost every
answer is a bodiless 304; what a general client does around that (httpx's
request and response models, URL normalisation and cookie jar, httpcore's
pool scanning every connection and locking through anyio, a timer per read
and write) cost about 0.8 ms of CPU per request, against about 0.1 ms for
h11 on plain asyncio streams. So the fetcher speaks HTTP/1.1 through h11 (the
parser httpcore itself uses) and nothing more: no proxies, no redirects
(:mod:`.retrieve` follows them itself), no decoding (its ``_BodyDecoder``
bounds it), cookies only for the run and only once a server sets one. Timeouts are the caller's: it runs each exchange
under one ``asyncio.timeout``.

Connections: each host's idle connections are kept for its next request
(:mod:`.slots` never lets more than ``per_host`` run at once, so a host never
holds more) and closed by :meth:`HttpClient.retire` as soon as the host has
no request left, so a run over thousands of hosts holds no more sockets open
than requests in flight. Every connection is opened by the ``connect``
function it is given, which is where :mod:`.address_guard` checks the
address.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import select
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

import h11

if TYPE_CHECKING:
    import email.message
    from http.cookiejar import CookieJar

# How much one read asks of the socket; asyncio's reader buffers at most about twice this.
READ_SIZE = 2**16
# The largest response head accepted (status line and headers): httpcore's limit, not h11's 16 kB,
# so a server whose headers (long cookies, policies) passed with httpx still passes.
MAX_HEAD_SIZE = 100 * 1024

# (address or host name, port, TLS context or None, host name for TLS) -> a connected stream pair.
Connect = Callable[[str, int, ssl.SSLContext | None, str], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]

# Characters a request target may carry as they are (RFC 3986's unreserved, sub-delims, ":", "@", "/",
# and "%" so that an already percent-encoded URL is not encoded twice).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


class HttpError(Exception):
    """The exchange failed: the connection could not be made or was lost, or the server broke HTTP/1.1."""


class ConnectError(HttpError):
    pass


class ReadError(HttpError):
    pass


class SendError(HttpError):
    """The request could not be sent on the connection (unlike ``_errors.WriteError``, a failed file write)."""


class ProtocolError(HttpError):
    pass


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL's request goes: a connection key, what to connect to, what to send."""

    scheme: str
    host: str  # as :mod:`.slots` names the host: the URL's, lower case
    port: int
    ascii_host: str  # the name to resolve and to check the TLS certificate against (IDNA)
    host_header: str
    target: str  # path and query, percent-encoded
    authorization: str  # Basic credentials from the URL's user info, or ""

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host
    import idna  # only for an international name

    try:
        return str(idna.encode(host, uts46=True).decode("ascii"))
    except idna.IDNAError as exc:
        raise ValueError(f"invalid international host name {host!r}: {exc}") from exc


def parse_target(url: str) -> Target:
    """Split an http(s) URL into what a request needs; ValueError when it cannot be requested."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"no host in {url!r}")
    default_port = 443 if scheme == "https" else 80
    port = parts.port or default_port  # ValueError for a port out of range or not a number
    ascii_host = _ascii_host(host)
    named = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    host_header = named if port == default_port else f"{named}:{port}"
    target = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_QUERY_SAFE)
    authorization = ""
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(credentials).decode("ascii")
    return Target(scheme, host, port, ascii_host, host_header, target, authorization)


class _Connection:
    """One TCP (or TLS) connection and its HTTP/1.1 state."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.state = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_SIZE)

    def usable(self) -> bool:
        """Whether an idle connection may carry the next request: the server has neither closed it nor spoken."""
        if self.writer.is_closing() or self.reader.at_eof():
            return False
        sock = self.writer.get_extra_info("socket")
        if sock is None or sock.fileno() < 0:
            return False
        # Readable while idle: the server closed it (or sent bytes nobody asked for) since the last answer.
        if not hasattr(select, "poll"):  # Windows; select() is limited to low descriptors, poll() is not
            return not select.select([sock], [], [], 0)[0]
        poll = select.poll()
        poll.register(sock.fileno(), select.POLLIN)
        return not poll.poll(0)

    async def next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        while True:
            try:
                event = self.state.next_event()
            except h11.RemoteProtocolError as exc:
                raise ProtocolError(str(exc) or "the server broke HTTP/1.1") from exc
            if event is not h11.NEED_DATA:
                return event
            try:
                data = await self.reader.read(READ_SIZE)
            except OSError as exc:
                raise ReadError(str(exc) or type(exc).__name__) from exc
            if not data and self.state.their_state is h11.SEND_RESPONSE:
                raise ReadError("server disconnected without sending a response")
            self.state.receive_data(data)

    def close(self) -> None:
        self.writer.close()


def _text(value: bytes) -> str:
    """A header value as text: UTF-8 when it is (ASCII is), else Latin-1, which decodes anything (as httpx)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


class _Cookies:
    """The cookies servers set during one run, sent back by the rules browsers follow (``http.cookiejar``).

    As httpx's client did: a feed behind a redirect through a page that sets
    a cookie expects the cookie back on the next hop. Nothing is stored
    between runs.
    """

    def __init__(self) -> None:
        self._jar: CookieJar | None = None  # made (and urllib imported) on the first Set-Cookie

    def header(self, url: str) -> str | None:
        if self._jar is None or not len(self._jar):
            return None
        import urllib.request

        request = urllib.request.Request(url)
        self._jar.add_cookie_header(request)
        return request.get_header("Cookie")

    def extract(self, url: str, set_cookie: list[str]) -> None:
        import email.message
        import urllib.request
        from http.cookiejar import CookieJar

        if self._jar is None:
            self._jar = CookieJar()
        message = email.message.Message()
        for value in set_cookie:
            message["Set-Cookie"] = value
        self._jar.extract_cookies(_CookieResponse(message), urllib.request.Request(url))  # type: ignore[arg-type]


class _CookieResponse:
    """What ``CookieJar.extract_cookies`` asks of a response: its headers, through ``info()``."""

    def __init__(self, message: email.message.Message) -> None:
        self._message = message

    def info(self) -> email.message.Message:
        return self._message


class Response:
    """A response whose body is read as it arrives (never decoded here)."""

    def __init__(self, event: h11.Response, connection: _Connection) -> None:
        self.status_code = event.status_code
        self.reason_phrase = event.reason.decode("latin-1")
        headers: dict[str, str] = {}
        self.set_cookie: list[str] = []  # each on its own: a cookie's Expires has a comma in it
        for name, value in event.headers:
            key = name.decode("latin-1")  # h11 gives names in lower case
            text = _text(value)
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
            if key == "set-cookie":
                self.set_cookie.append(text)
        self.headers: Mapping[str, str] = headers
        self.complete = False
        self._connection = connection

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body as the server sends it (still compressed), chunk by chunk."""
        while not self.complete:
            event = await self._connection.next_event()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self.complete = True
            elif event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
                raise ReadError("the response ended unexpectedly")


class HttpClient:
    """GET requests with fixed headers, over kept-alive connections made by ``connect``."""

    def __init__(self, connect: Connect, headers: Mapping[str, str], ssl_context: ssl.SSLContext | None = None) -> None:
        """``ssl_context`` replaces the default (certifi's CA bundle), for tests with their own certificates."""
        self._connect = connect
        self._headers = list(headers.items())
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._ssl_context = ssl_context
        self._cookies = _Cookies()

    def _tls(self) -> ssl.SSLContext:
        # Made on the first https request, once for all: loading the CA bundle takes tens of milliseconds.
        if self._ssl_context is None:
            import certifi  # the CA bundle httpx used, so the same servers are trusted

            context = ssl.create_default_context(cafile=certifi.where())
            context.set_alpn_protocols(["http/1.1"])
            self._ssl_context = context
        return self._ssl_context

    async def _open(self, target: Target) -> _Connection:
        tls = self._tls() if target.scheme == "https" else None
        reader, writer = await self._connect(target.ascii_host, target.port, tls, target.ascii_host)
        return _Connection(reader, writer)

    def _kept(self, target: Target) -> _Connection | None:
        idle = self._idle.get(target.origin)
        while idle:
            connection = idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _request(self, connection: _Connection, target: Target, fields: list[tuple[str, str]]) -> h11.Response:
        """Send the GET on ``connection`` and read the response's head; on any failure the connection is closed."""
        try:
            try:
                request = h11.Request(method="GET", target=target.target, headers=fields)
                connection.writer.write(connection.state.send(request) + connection.state.send(h11.EndOfMessage()))
                await connection.writer.drain()
            except h11.LocalProtocolError as exc:  # a header value that cannot be sent
                raise ValueError(str(exc)) from exc
            except OSError as exc:
                raise SendError(str(exc) or type(exc).__name__) from exc
            event = await connection.next_event()
            while isinstance(event, h11.InformationalResponse):  # 100 Continue and the like: not the answer
                event = await connection.next_event()
            if not isinstance(event, h11.Response):
                raise ProtocolError("the server sent no response")
            return event
        except BaseException:
            connection.close()
            raise

    @contextlib.asynccontextmanager
    async def stream(self, url: str, headers: Mapping[str, str]) -> AsyncIterator[Response]:
        """GET ``url``; the response, its body unread. ValueError for a URL that cannot be requested."""
        target = parse_target(url)
        fields = [("Host", target.host_header), *self._headers, *headers.items()]
        if target.authorization:
            fields.append(("Authorization", target.authorization))
        cookie = self._cookies.header(url)
        if cookie:
            fields.append(("Cookie", cookie))
        connection = self._kept(target)
        event: h11.Response | None = None
        if connection is not None:
            try:
                event = await self._request(connection, target, fields)
            except (ReadError, SendError):
                # The server closed its end of a kept-alive connection as the request went out
                # (it may, after any response): a GET is safe to send again, once, on a new one.
                event = None
        if event is None:
            connection = await self._open(target)
            event = await self._request(connection, target, fields)
        assert connection is not None
        reusable = False
        try:
            response = Response(event, connection)
            if response.set_cookie:
                self._cookies.extract(url, response.set_cookie)
            yield response
            state = connection.state
            reusable = response.complete and state.our_state is h11.DONE and state.their_state is h11.DONE
        finally:
            if reusable:
                connection.state.start_next_cycle()
                self._idle.setdefault(target.origin, []).append(connection)
            else:  # the body was left unread, or the server will close: this connection is spent
                connection.close()

    def retire(self, host: str) -> None:
        """Close ``host``'s idle connections: it has no request left (a later one connects anew)."""
        for origin in [origin for origin in self._idle if origin[1] == host]:
            for connection in self._idle.pop(origin):
                connection.close()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
