"""Which addresses the fetcher may connect to, checked where it connects.

An outside feed (or a redirect it answers with) must not make syndicate
fetch ``http://127.0.0.1:8080/admin`` or the cloud metadata service at
``169.254.169.254`` and publish what comes back. Checking the URL text is not
enough: a public-looking hostname can resolve to a private address, or to
a public one for the check and a private one for the connection (DNS
rebinding). So the check lives where the fetcher's HTTP client connects
(:class:`GuardedConnector`): it resolves the host once, keeps only the
allowed addresses and connects to one of *those*, by address. Every redirect
hop is a new request through the same connector. TLS still verifies the
certificate against the hostname.

``[sources] allow_private = true`` turns the check off, for intranet feeds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from .._errors import AddressRefused as AddressRefused  # re-exported: its old import path
from .http11 import READ_SIZE, ConnectError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Host name and port in, the addresses it resolves to out (as text).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack ...
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


def forbidden_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public internet address, or None if it is one."""
    if address in _METADATA:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = forbidden_reason(embedded)
            return None if reason is None else f"{reason} ({embedded}, embedded in an IPv6 address)"
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address in _CGNAT, "a shared (carrier-grade NAT) address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public internet address"),
    )
    for matched, reason in checks:
        if matched:
            return reason
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, NAT64 or 6to4 IPv6 address reaches."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    return None


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """What the fetcher may connect to.

    ``trusted`` lists addresses treated as public although they are not: a
    hook for tests that need a loopback server to stand in for the internet.
    It is a parameter of the library, never a config key.
    """

    allow_private: bool = False
    trusted: frozenset[IPAddress] = frozenset()

    @classmethod
    def build(cls, allow_private: bool, trusted: Iterable[str] = ()) -> AddressPolicy:
        return cls(allow_private, frozenset(ipaddress.ip_address(a) for a in trusted))

    def refusal(self, address: IPAddress) -> str | None:
        if self.allow_private or address in self.trusted:
            return None
        return forbidden_reason(address)


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """The addresses of ``host``, from the system resolver (an IP literal resolves to itself)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _parse(text: str) -> IPAddress | None:
    try:
        # A scoped IPv6 address ("fe80::1%eth0") still names its address.
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def checked_addresses(host: str, resolved: Sequence[str], policy: AddressPolicy) -> list[str]:
    """The resolved addresses that may be connected to, in order; raises if there is none."""
    allowed: list[str] = []
    refused: list[str] = []
    for text in dict.fromkeys(resolved):
        address = _parse(text)
        reason = "not an IP address" if address is None else policy.refusal(address)
        if reason is None:
            allowed.append(text)
        else:
            refused.append(f"{text}, {reason}")
    if allowed:
        return allowed
    if not refused:
        raise AddressRefused(f"{host!r} resolves to no address")
    if _parse(host) is not None:
        raise AddressRefused(f"{refused[0].replace(', ', ' is ', 1)}")
    raise AddressRefused(f"{host!r} resolves to {'; '.join(refused)}")


async def open_stream(
    address: str, port: int, tls: ssl.SSLContext | None, host: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to ``address`` and ``port``, with TLS for ``host`` when ``tls`` is given."""
    try:
        return await asyncio.open_connection(
            address, port, ssl=tls, server_hostname=host if tls is not None else None, limit=READ_SIZE
        )
    except OSError as exc:  # refused, unreachable, or TLS failed (ssl.SSLError is an OSError)
        raise ConnectError(f"{exc.strerror or exc} ({address} port {port})") from exc


class GuardedConnector:
    """Opens the fetcher's connections, only to addresses the policy allows.

    The host is resolved here, once; each allowed address is tried in turn
    and connected to as an address, so the system resolver cannot be asked
    again (and answer differently) between the check and the connection.
    TLS still verifies the certificate against the host name.
    """

    def __init__(self, policy: AddressPolicy, resolver: Resolver | None = None) -> None:
        self._policy = policy
        self._resolver = resolver or system_resolver

    async def connect(
        self, host: str, port: int, tls: ssl.SSLContext | None, tls_host: str
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._policy.allow_private:
            return await open_stream(host, port, tls, tls_host)
        try:
            resolved = await self._resolver(host, port)
        except OSError as exc:
            raise ConnectError(f"cannot resolve {host!r}: {exc.strerror or exc}") from exc
        last: ConnectError | None = None
        for address in checked_addresses(host, resolved, self._policy):
            try:
                return await open_stream(address, port, tls, tls_host)
            except ConnectError as exc:
                last = exc
        assert last is not None
        raise last
