"""DKIM: every message sent to a real relay verifies with dkimpy against the published key; tampering fails."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import dkim
import dns.message
import dns.rcode
import dns.rrset
import pytest
from bounce_site import SECRET, EnvelopeRelay, envelope_relay, send_issue, verp_site
from click.testing import CliRunner
from conftest import SiteFactory
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import syndicate
from syndicate import ConfigError, send_newsletter
from syndicate._newsletter.dns_records import DnsCheck, check_dns, dkim_txt_value, records_to_publish
from syndicate.cli import main

__all__ = ["envelope_relay"]

DKIM_CONFIG = 'dkim_selector = "weekly"\ndkim_key_file = "dkim.pem"\n'


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)


@pytest.fixture(scope="module")
def private_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def dkim_site(make_site: SiteFactory, relay: EnvelopeRelay, key: bytes, count: int = 5) -> Path:
    site = verp_site(make_site, relay, count, tail=DKIM_CONFIG)
    # [smtp] is the last table of the config, so the DKIM keys land in it.
    (site / "dkim.pem").write_bytes(key)
    return site


def dns_stub(record: str, seen: list[bytes]) -> object:
    def lookup(name: bytes, timeout: int = 5) -> bytes:
        seen.append(name)
        return record.encode() if name == b"weekly._domainkey.test.example.org." else b""

    return lookup


def test_every_sent_message_verifies_against_the_published_key(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, private_key: bytes
) -> None:
    site = dkim_site(make_site, envelope_relay, private_key)
    send_issue(site)
    with syndicate.Site.open(site) as opened:
        record = next(r for r in records_to_publish(opened.config) if r.purpose == "DKIM")
    assert record.name == "weekly._domainkey.test.example.org"
    seen: list[bytes] = []
    assert len(envelope_relay.received) == 5
    for received in envelope_relay.received:
        assert received.data.startswith(b"DKIM-Signature:")
        assert dkim.verify(received.data, dnsfunc=dns_stub(record.value, seen))
        signature = received.message()["DKIM-Signature"]
        signed = {h.strip().lower() for h in str(signature).split("h=")[1].split(";")[0].split(":")}
        assert {"from", "subject", "list-unsubscribe", "list-unsubscribe-post", "to", "date", "message-id"} <= signed
    assert seen and set(seen) == {b"weekly._domainkey.test.example.org."}


def test_a_message_altered_in_transit_fails(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, private_key: bytes
) -> None:
    site = dkim_site(make_site, envelope_relay, private_key, count=1)
    send_issue(site)
    data = envelope_relay.received[0].data
    with syndicate.Site.open(site) as opened:
        value = records_to_publish(opened.config)[0].value
    lookup = dns_stub(value, [])
    assert dkim.verify(data, dnsfunc=lookup)
    subject_changed = data.replace(b"Subject: ", b"Subject: [SPAM] ", 1)
    body_changed = data.replace(b"Festival", b"Fest1val", 1)
    unsubscribe_changed = data.replace(b"List-Unsubscribe: <https://", b"List-Unsubscribe: <https://evil.", 1)
    second_from = b"From: Someone Else <ceo@test.example.org>\r\n" + data
    for altered in (subject_changed, body_changed, unsubscribe_changed, second_from):
        assert altered != data
        assert not dkim.verify(altered, dnsfunc=lookup)


def test_a_test_copy_is_signed_too(make_site: SiteFactory, envelope_relay: EnvelopeRelay, private_key: bytes) -> None:
    site = dkim_site(make_site, envelope_relay, private_key, count=1)
    with syndicate.Site.open(site) as opened:
        send_newsletter(opened, week="2026-W47", test_address="editor@example.net")
        value = records_to_publish(opened.config)[0].value
    assert dkim.verify(envelope_relay.received[0].data, dnsfunc=dns_stub(value, []))
    # A test copy's return path names no subscriber (id 0): a bounce of it suppresses nobody.
    assert envelope_relay.return_paths["editor@example.net"].startswith("bounces+0.")


def test_a_missing_or_bad_key_stops_the_run_before_anything_is_sent(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay
) -> None:
    site = dkim_site(make_site, envelope_relay, b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with syndicate.Site.open(site) as opened, pytest.raises(ConfigError, match="dkim"):
        send_newsletter(opened, week="2026-W47", now=None)
    (site / "dkim.pem").unlink()
    with syndicate.Site.open(site) as opened, pytest.raises(ConfigError, match=r"smtp.dkim_key_file"):
        send_newsletter(opened, week="2026-W47")
    assert envelope_relay.received == []


def test_check_dns_offline_prints_the_records_and_checks_nothing(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, private_key: bytes
) -> None:
    site = dkim_site(make_site, envelope_relay, private_key, count=1)
    result = CliRunner().invoke(main, ["newsletter", "check-dns", "--site", str(site), "--offline", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert [r["purpose"] for r in records] == ["DKIM", "SPF", "DMARC"]
    assert all(r["check"] == "not checked" for r in records)
    assert records[0]["value"] == dkim_txt_value(private_key)
    assert records[1]["name"] == "test.example.org" and records[1]["value"].startswith("v=spf1")
    assert records[2]["name"] == "_dmarc.test.example.org"


def test_check_dns_compares_what_dns_holds(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, private_key: bytes
) -> None:
    site = dkim_site(make_site, envelope_relay, private_key, count=1)
    with syndicate.Site.open(site) as opened:
        records = records_to_publish(opened.config)
    zone = {
        records[0].name: [records[0].value],
        "test.example.org": ["v=spf1 mx ~all", "google-site-verification=abc"],
    }

    def resolver(name: str) -> list[str]:
        if name not in zone:
            raise LookupError(name)
        return zone[name]

    checked = check_dns(records, resolver)
    assert [r.check for r in checked] == [DnsCheck.OK, DnsCheck.OK, DnsCheck.MISSING]

    def unreachable(name: str) -> list[str]:
        raise OSError("no nameservers answered")

    assert {r.check for r in check_dns(records, unreachable)} == {DnsCheck.NOT_CHECKED}
    zone[records[0].name] = ["v=DKIM1; k=rsa; p=AAAA"]
    assert check_dns(records, resolver)[0].check is DnsCheck.DIFFERENT


class TxtServer:
    """A real DNS server on 127.0.0.1 (UDP), answering TXT queries from a dict; NXDOMAIN otherwise."""

    def __init__(self, zone: dict[str, list[str]]) -> None:
        self.zone = zone
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.asked: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self.socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            name = query.question[0].name.to_text().rstrip(".")
            self.asked.append(name)
            if name in self.zone:
                for value in self.zone[name]:
                    chunks = " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))
                    response.answer.append(dns.rrset.from_text(name + ".", 300, "IN", "TXT", chunks))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.socket.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


def test_check_dns_asks_a_real_dns_server_and_reports_each_record(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, private_key: bytes
) -> None:
    site = dkim_site(make_site, envelope_relay, private_key, count=1)
    zone = {
        "weekly._domainkey.test.example.org": [dkim_txt_value(private_key)],
        "test.example.org": ["v=spf1 include:_spf.example.net ~all"],
    }
    server = TxtServer(zone)
    try:
        args = ["newsletter", "check-dns", "--site", str(site), "--nameserver", f"127.0.0.1:{server.port}", "--json"]
        result = CliRunner().invoke(main, args)
    finally:
        server.close()
    records = {r["purpose"]: r for r in json.loads(result.output)}
    assert result.exit_code == 1  # DMARC is missing
    assert records["DKIM"]["check"] == "ok" and records["SPF"]["check"] == "ok"
    assert records["DMARC"]["check"] == "missing"
    assert set(server.asked) == {"weekly._domainkey.test.example.org", "test.example.org", "_dmarc.test.example.org"}


def test_check_dns_with_no_server_answering_says_not_checked(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, private_key: bytes
) -> None:
    site = dkim_site(make_site, envelope_relay, private_key, count=1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        args = ["newsletter", "check-dns", "--site", str(site), "--nameserver", f"127.0.0.1:{port}", "--timeout", "0.3"]
        result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert {r["check"] for r in json.loads(result.output)} == {"not checked"}


def test_check_dns_prints_each_value_whole_on_its_own_line(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, private_key: bytes
) -> None:
    site = dkim_site(make_site, envelope_relay, private_key, count=1)
    result = CliRunner().invoke(main, ["newsletter", "check-dns", "--site", str(site), "--offline"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert dkim_txt_value(private_key) in lines  # copyable as it is, not folded into a table
    assert "weekly._domainkey.test.example.org" in result.output and "not checked" in result.output


def test_signing_handles_crlf_and_bare_lf_messages_alike(private_key: bytes) -> None:
    from syndicate._newsletter.dkim import DkimSigner

    signer = DkimSigner("weekly", "test.example.org", private_key)
    lookup = dns_stub(dkim_txt_value(private_key), [])
    crlf = b"From: A <a@test.example.org>\r\nTo: b@example.net\r\nSubject: Hi\r\n\r\nLine one\r\n.dot\r\n\r\n\r\n"
    for message in (crlf, crlf.replace(b"\r\n", b"\n"), crlf.replace(b"one\r\n", b"one\n")):
        signed = signer.sign(message)
        assert dkim.verify(signed, dnsfunc=lookup), message
        assert not dkim.verify(signed.replace(b"Line one", b"Line 1"), dnsfunc=lookup)
