"""Issue 10, finding 9: no outside feed or redirect makes the fetcher connect to a private address.

Checked on the address connected to, not the URL text. The "internet" here
is a pytest-httpserver on 127.0.0.2, trusted through ``fetch_sources``'s
test hook; the victim is a second server on 127.0.0.1 whose request log must
stay empty.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import SiteFactory
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from syndicate import Source, Store, load_config
from syndicate._sources import FetchReport, fetch_sources, render_opml
from syndicate._sources.address_guard import AddressPolicy, forbidden_reason

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PUBLIC = "127.0.0.2"  # stands in for a public address, through the trusted_addresses hook
FEED = (
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><link>https://t.example.com/</link>"
    b"<description>d</description><item><title>Public Story</title><link>https://t.example.com/1</link>"
    b"<guid>t-1</guid><pubDate>Wed, 18 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"
)
SECRET = (
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>Intranet</title><link>https://in.example.com/</link>"
    b"<description>d</description><item><title>Internal Secret</title><link>https://in.example.com/1</link>"
    b"<guid>s-1</guid><pubDate>Wed, 18 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"
)


@pytest.fixture
def victim(httpserver: HTTPServer) -> HTTPServer:
    """The internal service on 127.0.0.1 an attacker wants fetched."""
    httpserver.expect_request("/secret").respond_with_data(SECRET, content_type="application/rss+xml")
    return httpserver


@pytest.fixture
def public() -> Iterator[HTTPServer]:
    server = HTTPServer(host=PUBLIC, port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


def site_with(make_site: SiteFactory, urls: list[str], allow_private: bool = False) -> Path:
    config = (
        "[site]\ntitle = 'T'\nurl = 'https://t.example.org'\n"
        f"[sources]\ntimeout = 2.0\nallow_private = {'true' if allow_private else 'false'}\n"
    )
    root = make_site({}, config=config)
    (root / "feeds").mkdir(exist_ok=True)
    sources = [Source(url=url, title=f"s{n}") for n, url in enumerate(urls)]
    (root / "feeds" / "sources.opml").write_bytes(render_opml(sources, "t"))
    return root


def run(root: Path, **hooks: object) -> FetchReport:
    config = load_config(root)
    with Store(config.database_path) as store:
        return fetch_sources(config, store, now=NOW, **hooks)  # type: ignore[arg-type]


def error_of(report: FetchReport, url: str) -> str:
    (result,) = [r for r in report.results if r.source.url == url]
    assert result.failed and result.outcome is not None and result.health is not None
    assert result.health.last_error == result.outcome.error and result.health.next_attempt is not None
    return result.outcome.error


def test_a_loopback_source_is_refused_and_never_requested(victim: HTTPServer, make_site: SiteFactory) -> None:
    url = f"http://127.0.0.1:{victim.port}/secret"
    report = run(site_with(make_site, [url]))
    error = error_of(report, url)
    assert url in error and "127.0.0.1 is a loopback address" in error and "allow_private" in error
    assert victim.log == []


def test_a_hostname_resolving_to_loopback_is_refused(victim: HTTPServer, make_site: SiteFactory) -> None:
    url = f"http://localhost:{victim.port}/secret"
    error = error_of(run(site_with(make_site, [url])), url)
    assert "'localhost' resolves to 127.0.0.1, a loopback address" in error
    assert victim.log == []


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (["127.0.0.1"], "a loopback address"),
        (["::ffff:127.0.0.1"], "a loopback address (127.0.0.1, embedded in an IPv6 address)"),
        (["169.254.169.254"], "a cloud metadata address"),
        (["fd00:ec2::254"], "a cloud metadata address"),
        (["10.1.2.3"], "a private address"),
        (["100.64.0.7"], "a shared (carrier-grade NAT) address"),
    ],
)
def test_a_public_looking_name_that_resolves_privately_is_refused(
    victim: HTTPServer, make_site: SiteFactory, answer: list[str], reason: str
) -> None:
    asked: list[str] = []

    async def resolver(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return answer

    url = f"http://news.example.com:{victim.port}/secret"
    error = error_of(run(site_with(make_site, [url]), resolver=resolver), url)
    assert f"'news.example.com' resolves to {answer[0]}, {reason}" in error
    assert asked == ["news.example.com"] and victim.log == []


def test_the_connection_goes_to_the_address_that_was_checked(
    victim: HTTPServer, public: HTTPServer, make_site: SiteFactory
) -> None:
    """DNS rebinding: the name is resolved once, by the guard, and connected to by address.

    The resolver answers a public address first and loopback afterwards; if
    anything resolved the name a second time, the victim would be asked.
    Also, of several addresses only the allowed ones are tried.
    """
    public.expect_request("/feed").respond_with_data(FEED, content_type="application/rss+xml")
    answers = iter([["127.0.0.1", PUBLIC], ["127.0.0.1"], ["127.0.0.1"]])
    asked: list[str] = []

    async def rebinding(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return next(answers)

    url = f"http://feeds.example.com:{public.port}/feed"
    report = run(site_with(make_site, [url]), resolver=rebinding, trusted_addresses=[PUBLIC])
    (result,) = report.results
    assert result.status == "fetched" and result.entries == 1
    assert [request.headers["Host"] for request, _ in public.log] == [f"feeds.example.com:{public.port}"]
    assert asked == ["feeds.example.com"] and victim.log == []


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/secret", "http://localhost:{port}/secret", "http://[::ffff:127.0.0.1]:{port}/"]
)
def test_a_redirect_to_loopback_is_refused_without_requesting_it(
    victim: HTTPServer, public: HTTPServer, make_site: SiteFactory, target: str
) -> None:
    location = target.format(port=victim.port)
    public.expect_request("/feed").respond_with_data("", status=302, headers={"Location": location})
    url = public.url_for("/feed")
    root = site_with(make_site, [url])
    error = error_of(run(root, trusted_addresses=[PUBLIC]), url)
    assert f"refused to connect to {location}, redirected from {url}" in error
    assert "a loopback address" in error
    assert len(public.log) == 1 and victim.log == []


def test_a_redirect_to_the_metadata_service_is_refused(public: HTTPServer, make_site: SiteFactory) -> None:
    location = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    public.expect_request("/feed").respond_with_data("", status=301, headers={"Location": location})
    url = public.url_for("/feed")
    error = error_of(run(site_with(make_site, [url]), trusted_addresses=[PUBLIC]), url)
    assert f"refused to connect to {location}" in error and "169.254.169.254 is a cloud metadata address" in error


def test_allow_private_fetches_intranet_feeds_and_their_redirects(
    victim: HTTPServer, public: HTTPServer, make_site: SiteFactory
) -> None:
    public.expect_request("/feed").respond_with_data("", status=302, headers={"Location": victim.url_for("/secret")})
    urls = [f"http://127.0.0.1:{victim.port}/secret", public.url_for("/feed")]
    report = run(site_with(make_site, urls, allow_private=True))
    assert [r.status for r in report.results] == ["fetched", "fetched"]
    assert len(victim.log) == 2


def test_the_demo_snapshot_sources_are_local_files_and_still_work(demo_site: Path) -> None:
    report = run(demo_site)
    statuses = sorted(r.status for r in report.results)
    assert statuses.count("fetched") == len(report.results) - 1  # the deliberately broken one
    assert "allow_private" not in (demo_site / "syndicate.toml").read_text(encoding="utf-8")


FORBIDDEN = [
    "127.0.0.1",
    "127.255.0.9",
    "0.0.0.0",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2001:db8::1",  # documentation
]
PUBLIC_ADDRESSES = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("text", FORBIDDEN)
def test_every_non_public_address_is_refused(text: str) -> None:
    address = ipaddress.ip_address(text)
    assert forbidden_reason(address) is not None
    assert AddressPolicy.build(allow_private=True).refusal(address) is None


@pytest.mark.parametrize("text", PUBLIC_ADDRESSES)
def test_public_addresses_are_allowed(text: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(text)) is None


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_and_its_ipv6_forms_are_judged_alike(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    nat64 = ipaddress.IPv6Address((0x64FF9B << 96) | int(address))
    verdict = forbidden_reason(address) is None
    assert (forbidden_reason(mapped) is None) == verdict
    assert (forbidden_reason(nat64) is None) == verdict
