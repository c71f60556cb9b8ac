"""The fetcher's HTTP/1.1 client (``syndicate._sources.http11``): URLs, TLS, kept-alive connections.

An internal test: the fetch tests through the public API run against plain
HTTP loopback servers, so TLS (certificate checked against the host name)
and the reuse or replacement of idle connections are checked here, against
a small asyncio server in the test's own event loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from dovecot import make_tls_files

from syndicate._sources.address_guard import open_stream
from syndicate._sources.http11 import ConnectError, HttpClient, HttpError, ProtocolError, ReadError, parse_target

HEADERS = {"User-Agent": "syndicate-test", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}


def test_a_url_becomes_a_request_target_host_header_and_credentials() -> None:
    plain = parse_target("HTTP://Example.COM/feed.xml")
    assert (plain.scheme, plain.host, plain.port, plain.host_header, plain.target) == (
        "http",
        "example.com",
        80,
        "example.com",
        "/feed.xml",
    )
    assert parse_target("https://example.com").target == "/"
    assert parse_target("https://example.com:8443/a?b=c").host_header == "example.com:8443"
    assert parse_target("http://[::1]:8080/f").host_header == "[::1]:8080"
    # Spaces and non-ASCII are percent-encoded; what is already encoded stays as it is.
    assert parse_target("http://example.com/a b/é?q=x y&r=%20").target == "/a%20b/%C3%A9?q=x%20y&r=%20"
    international = parse_target("https://bücher.example/feed")
    assert (international.host, international.ascii_host) == ("bücher.example", "xn--bcher-kva.example")
    secret = parse_target("https://reader:p%40ss@example.com/private.xml")
    assert secret.authorization == "Basic " + base64.b64encode(b"reader:p@ss").decode()
    assert "reader" not in secret.host_header


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "http:///feed", "http://example.com:99999/feed"])
def test_a_url_that_cannot_be_requested_is_a_value_error(url: str) -> None:
    with pytest.raises(ValueError):
        parse_target(url)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """Answers every request with a small feed; counts connections. ``close_after_each`` hangs up after answering."""

    def __init__(self, close_after_each: bool = False, chunked: bool = False) -> None:
        self.connections = 0
        self.requests: list[dict[str, str]] = []
        self.close_after_each = close_after_each
        self.chunked = chunked

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                fields = {
                    k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)
                }
                self.requests.append({"target": head[0].split(" ")[1], **fields})
                body = b"<rss><channel><title>t</title></channel></rss>"
                if self.chunked:
                    half = len(body) // 2
                    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:]))
                    writer.write(
                        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nETag: "a"\r\n\r\n' + chunks + b"0\r\n\r\n"
                    )
                else:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n%s"
                        % (len(body), body)
                    )
                await writer.drain()
                if self.close_after_each:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


async def _get(client: HttpClient, url: str) -> tuple[int, dict[str, str], bytes]:
    async with client.stream(url, {"If-None-Match": '"x"'}) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return response.status_code, dict(response.headers), body


def _run(coroutine: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 20))  # type: ignore[arg-type]


def test_https_checks_the_certificate_and_keeps_the_connection(tmp_path: Path) -> None:
    ca_file, cert_file, key_file = make_tls_files(tmp_path / "tls")
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert_file, key_file)
    trusting = ssl.create_default_context(cafile=str(ca_file))
    served = Server()

    async def scenario() -> None:
        listening = await asyncio.start_server(served.handle, "127.0.0.1", 0, ssl=server_side)
        port = listening.sockets[0].getsockname()[1]
        async with listening, HttpClient(open_stream, HEADERS, trusting) as client:
            for _ in range(3):
                status, headers, body = await _get(client, f"https://127.0.0.1:{port}/feed.xml")
                assert status == 200 and body.startswith(b"<rss>")
            assert headers["set-cookie"] == "a=1, b=2"  # repeated fields joined, as httpx did
            assert served.connections == 1
            assert served.requests[0]["host"] == f"127.0.0.1:{port}"
            assert served.requests[0]["if-none-match"] == '"x"' and served.requests[0]["user-agent"] == "syndicate-test"
            # The certificate names 127.0.0.1; the same server reached as 127.0.0.2 is refused.
            other = await asyncio.start_server(served.handle, "127.0.0.2", 0, ssl=server_side)
            async with other:
                with pytest.raises(ConnectError, match="certificate"):
                    await _get(client, f"https://127.0.0.2:{other.sockets[0].getsockname()[1]}/feed.xml")
            # And a client trusting only the public CA bundle refuses the test CA.
            async with HttpClient(open_stream, HEADERS) as default:
                with pytest.raises(ConnectError):
                    await _get(default, f"https://127.0.0.1:{port}/feed.xml")

    _run(scenario())


def test_a_connection_the_server_closed_while_idle_is_replaced(tmp_path: Path) -> None:
    served = Server(close_after_each=True, chunked=True)

    async def scenario() -> None:
        listening = await asyncio.start_server(served.handle, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        async with listening, HttpClient(open_stream, HEADERS) as client:
            for _ in range(3):
                status, headers, body = await _get(client, f"http://127.0.0.1:{port}/f")
                assert (status, headers["etag"], body) == (
                    200,
                    '"a"',
                    b"<rss><channel><title>t</title></channel></rss>",
                )
                await asyncio.sleep(0.05)  # the server's close arrives while the connection is idle
        assert served.connections == 3

    _run(scenario())


def test_a_server_that_hangs_up_without_answering_is_a_read_error_and_garbage_a_protocol_error() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SMTP READY\r\n\r\n")
        await writer.drain()
        writer.close()

    async def scenario() -> None:
        cases: list[tuple[Handler, type[HttpError], str | None]] = [
            (hang_up, ReadError, "disconnected"),
            (garbage, ProtocolError, None),
        ]
        for handler, error, message in cases:
            listening = await asyncio.start_server(handler, "127.0.0.1", 0)
            port = listening.sockets[0].getsockname()[1]
            async with listening, HttpClient(open_stream, HEADERS) as client:
                with pytest.raises(error, match=message):
                    await _get(client, f"http://127.0.0.1:{port}/f")

    _run(scenario())


def test_a_cookie_set_on_one_hop_goes_back_on_the_next_to_that_host_only() -> None:
    seen: list[str] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        seen.append(fields.get("cookie", ""))
        writer.write(
            b"HTTP/1.1 302 Found\r\nLocation: /feed\r\nContent-Length: 0\r\n"
            b"Set-Cookie: session=abc; Path=/\r\n"
            b"Set-Cookie: seen=1; Expires=Wed, 01 Jan 2098 00:00:00 GMT; Path=/\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    async def scenario() -> None:
        first = await asyncio.start_server(handler, "127.0.0.1", 0)
        other = await asyncio.start_server(handler, "127.0.0.2", 0)
        async with first, other, HttpClient(open_stream, HEADERS) as client:
            for host, server in (("127.0.0.1", first), ("127.0.0.1", first), ("127.0.0.2", other)):
                await _get(client, f"http://{host}:{server.sockets[0].getsockname()[1]}/feed")
        assert seen == ["", "session=abc; seen=1", ""]

    _run(scenario())


def test_a_kept_alive_connection_closed_as_the_request_goes_out_is_retried_once_on_a_new_one() -> None:
    connections = 0

    async def answers_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Answers a connection's first request and keeps it open, then hangs up on its second unanswered,
        # as a server whose keep-alive timeout ran out just as the request arrived.
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 304 Not Modified\r\n\r\n")
        await writer.drain()
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async def scenario() -> None:
        listening = await asyncio.start_server(answers_once, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        async with listening, HttpClient(open_stream, HEADERS) as client:
            for _ in range(3):
                status, _, _ = await _get(client, f"http://127.0.0.1:{port}/f")
                assert status == 304
        assert connections == 3

    _run(scenario())
