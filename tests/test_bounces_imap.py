"""Acceptance: bounces and complaints in a real Dovecot mailbox, read over IMAP (TLS, STARTTLS, plain on loopback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bounce_samples import FORMATS, arf, gmail, out_of_office
from bounce_site import SECRET, EnvelopeRelay, envelope_relay, send_issue, statuses, verp_site
from click.testing import CliRunner
from conftest import SiteFactory
from dovecot import Dovecot, dovecot

from syndicate.cli import main

__all__ = ["dovecot", "envelope_relay"]


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    monkeypatch.setenv("SYNDICATE_BOUNCES_PASSWORD", "secret")


def bounces_table(server: Dovecot, security: str) -> str:
    port = server.tls_port if security == "tls" else server.port
    return (
        f'\n[bounces]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "{security}"\nuser = "{server.user}"\n'
        f'ca_file = "{server.ca_file}"\nfolder = "INBOX"\nprocessed_folder = "Processed"\n'
    )


def run(site: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["bounces", "--site", str(site), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("security", ["tls", "starttls", "none"])
def test_dovecot_mailbox_suppresses_exactly_the_addresses_the_return_paths_name(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, dovecot: Dovecot, security: str
) -> None:
    site = verp_site(make_site, envelope_relay, 12, tail=bounces_table(dovecot, security))
    send_issue(site)
    paths = envelope_relay.return_paths
    messages = [
        build(paths[f"reader{n}@example.net"], "reader11@example.net", n)  # all quote reader11
        for n, build in enumerate(FORMATS.values())
    ]
    messages += [
        arf(paths["reader5@example.net"], "reader11@example.net", 5),
        arf(paths["reader6@example.net"], "reader11@example.net", 6, mail_from=False),
        gmail(
            paths["reader7@example.net"], "reader7@example.net", 7, action="delayed", status="4.2.2"
        ),  # soft: counted
        out_of_office(paths["reader8@example.net"]),  # not a report: left
        FORMATS["postfix"]("bounces+10.2026-w47.aaaaaaaaaaaaaaaa@test.example.org", "reader10@example.net", 10),
    ]
    dovecot.deliver(*messages)

    code, output = run(site, "--json")
    assert code == 4, output  # two messages left for a person
    report = json.loads(output)
    expected = {f"reader{n}@example.net" for n in range(7)}
    assert set(report["suppressed"]) == expected
    assert report["counted"] == 1 and report["left"] == 2
    state = statuses(site)
    assert {email for email, status in state.items() if status != "active"} == expected
    assert state["reader5@example.net"] == state["reader6@example.net"] == "complained"
    # Moved by the IMAP server: the processed folder holds the 8 reports, INBOX the 2 left over.
    assert len(dovecot.folder("INBOX").keys()) == 2
    assert len(dovecot.folder("Processed").keys()) == 8

    code, output = run(site, "--json")  # a second run reads only what was left
    assert json.loads(output)["read"] == 2 and code == 4


def test_plain_imap_is_refused_for_a_host_that_is_not_loopback(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay
) -> None:
    tail = '\n[bounces]\nhost = "imap.example.com"\nport = 143\nsecurity = "none"\nuser = "b"\n'
    site = verp_site(make_site, envelope_relay, 1, tail=tail)
    code, output = run(site)
    assert code == 3 and "bounces.security" in output and "loopback" in output


def test_wrong_password_and_untrusted_certificate_are_clear_errors(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = verp_site(make_site, envelope_relay, 1, tail=bounces_table(dovecot, "none"))
    monkeypatch.setenv("SYNDICATE_BOUNCES_PASSWORD", "wrong")
    code, output = run(site)
    assert code == 10 and "login refused" in output
    monkeypatch.setenv("SYNDICATE_BOUNCES_PASSWORD", "secret")
    untrusted = bounces_table(dovecot, "tls").replace(f'ca_file = "{dovecot.ca_file}"\n', "")
    site = verp_site(make_site, envelope_relay, 1, tail=untrusted)
    code, output = run(site)
    assert code == 10 and "cannot connect" in output and "CERTIFICATE" in output.upper()
