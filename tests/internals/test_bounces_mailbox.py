"""``syndicate bounces --maildir``: bounces attributed by their VERP return path, through a real send."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest
from bounce_samples import FORMATS, amazon_ses, arf, gmail, out_of_office, postfix
from bounce_site import SECRET, EnvelopeRelay, envelope_relay, send_issue, statuses, verp_site
from click.testing import CliRunner
from conftest import SiteFactory

import syndicate
from syndicate._newsletter.bounce_run import read_bounces
from syndicate._newsletter.mailbox import MaildirMailbox
from syndicate._newsletter.verp import VerpAddresses
from syndicate.cli import main

__all__ = ["envelope_relay"]


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)


def deliver(maildir: Path, *messages: bytes) -> Path:
    box = mailbox.Maildir(maildir, create=True)
    for message in messages:
        box.add(mailbox.MaildirMessage(message))
    return maildir


def run(site: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["bounces", "--site", str(site), *args])
    return result.exit_code, result.output


def test_every_message_goes_out_with_its_own_signed_return_path(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay
) -> None:
    site = verp_site(make_site, envelope_relay, 5)
    send_issue(site)
    paths = envelope_relay.return_paths
    assert len(paths) == 5 and len(set(paths.values())) == 5
    verp = VerpAddresses(SECRET.encode(), "bounces@test.example.org")
    with syndicate.Site.open(site) as opened:
        for rcpt, path in paths.items():
            assert path.startswith("bounces+") and path.endswith("@test.example.org")
            claimed = verp.parse(path)
            assert claimed is not None and claimed.week == "2026-W47"
            subscriber = opened.store.subscribers.get(claimed.subscriber_id)
            assert subscriber is not None and subscriber.email == rcpt
            assert verp.verify(claimed, rcpt)


def test_each_server_format_suppresses_the_address_its_return_path_names_not_the_one_it_quotes(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, tmp_path: Path
) -> None:
    site = verp_site(make_site, envelope_relay, 10)
    send_issue(site)
    paths = envelope_relay.return_paths
    messages = []
    victims = []
    for n, build in enumerate(FORMATS.values()):
        victim = f"reader{n}@example.net"
        victims.append(victim)
        # Every bounce quotes reader9 (a forwarding address, say): only the return path counts.
        messages.append(build(paths[victim], "reader9@example.net", n))
    messages.append(arf(paths["reader5@example.net"], "reader9@example.net", 5))
    messages.append(arf(paths["reader6@example.net"], "reader9@example.net", 6, mail_from=False))
    maildir = deliver(tmp_path / "Maildir", *messages, out_of_office(paths["reader7@example.net"]))

    code, output = run(site, "--maildir", str(maildir), "--json")
    report = json.loads(output)
    assert code == 4  # the auto-reply is left for a person
    assert sorted(report["suppressed"]) == sorted([*victims, "reader5@example.net", "reader6@example.net"])
    state = statuses(site)
    assert [state[v] for v in victims] == ["bounced"] * 5
    assert state["reader5@example.net"] == state["reader6@example.net"] == "complained"
    assert state["reader7@example.net"] == state["reader8@example.net"] == state["reader9@example.net"] == "active"
    # Processed messages moved to .Processed; the auto-reply stays.
    assert len(mailbox.Maildir(maildir).keys()) == 1
    assert len(mailbox.Maildir(maildir / ".Processed").keys()) == 7
    assert report["left"] == 1
    assert [m["outcome"] for m in report["messages"]].count("unknown") == 1


def test_a_forged_or_altered_return_path_changes_nothing(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, tmp_path: Path
) -> None:
    site = verp_site(make_site, envelope_relay, 3)
    send_issue(site)
    genuine = envelope_relay.return_paths["reader1@example.net"]
    local, _, domain = genuine.partition("@")
    altered_id = local.replace("+2.", "+1.", 1) if "+2." in local else "bounces+1" + local[local.index(".") :]
    wrong_signature = local[:-4] + ("aaaa" if not local.endswith("aaaa") else "bbbb")
    forged = [
        postfix(f"{altered_id}@{domain}", "reader0@example.net", 1),  # someone else's id, reader1's signature
        postfix(f"{wrong_signature}@{domain}", "reader1@example.net", 2),
        postfix("bounces+1.2026-w47.aaaaaaaaaaaaaaaa@test.example.org", "reader0@example.net", 3),
        postfix("reader0@example.net", "reader0@example.net", 4),  # no return path of ours at all
    ]
    maildir = deliver(tmp_path / "Maildir", *forged)
    code, output = run(site, "--maildir", str(maildir), "--json")
    assert code == 4
    assert set(statuses(site).values()) == {"active"}
    outcomes = json.loads(output)["messages"]
    assert [o["outcome"] for o in outcomes] == ["unattributed"] * 4
    assert all("no genuine return path" in o["detail"] for o in outcomes)
    assert len(mailbox.Maildir(maildir).keys()) == 4  # all left for a person


def test_soft_bounces_suppress_only_at_the_limit_and_a_reread_never_counts_twice(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, tmp_path: Path
) -> None:
    site = verp_site(make_site, envelope_relay, 2, tail="\n[bounces]\nsoft_bounce_limit = 3\n")
    send_issue(site)
    path = envelope_relay.return_paths["reader0@example.net"]
    first = gmail(path, "reader0@example.net", 1, action="delayed", status="4.2.2")
    maildir = deliver(tmp_path / "Maildir", first, amazon_ses(path, "reader0@example.net", 2, status="5.2.2"))
    code, output = run(site, "--maildir", str(maildir), "--json")
    assert code == 0 and json.loads(output)["counted"] == 2
    assert statuses(site)["reader0@example.net"] == "active"
    deliver(maildir, first)  # the same report again (same Message-ID): not a new bounce
    run(site, "--maildir", str(maildir))
    assert statuses(site)["reader0@example.net"] == "active"
    deliver(maildir, gmail(path, "reader0@example.net", 3, action="delayed", status="4.4.7"))
    code, output = run(site, "--maildir", str(maildir), "--json")
    assert json.loads(output)["suppressed"] == ["reader0@example.net"]
    assert statuses(site) == {"reader0@example.net": "bounced", "reader1@example.net": "active"}


def test_a_suppressed_address_is_not_sent_the_next_issue(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, tmp_path: Path
) -> None:
    site = verp_site(make_site, envelope_relay, 3)
    send_issue(site)
    paths = envelope_relay.return_paths
    maildir = deliver(
        tmp_path / "Maildir",
        postfix(paths["reader0@example.net"], "x@example.net", 1),
        arf(paths["reader1@example.net"], "y@example.net", 2),
    )
    run(site, "--maildir", str(maildir))
    envelope_relay.received.clear()
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from syndicate import send_newsletter

    with syndicate.Site.open(site) as opened:
        send_newsletter(opened, week="2026-W48", now=datetime(2026, 12, 4, 8, 0, tzinfo=ZoneInfo("Europe/London")))
    assert {r.rcpt for r in envelope_relay.received} <= {"reader2@example.net"}


def test_dry_run_changes_nothing_and_moves_nothing(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, tmp_path: Path
) -> None:
    site = verp_site(make_site, envelope_relay, 2)
    send_issue(site)
    maildir = deliver(tmp_path / "Maildir", postfix(envelope_relay.return_paths["reader0@example.net"], "a@b.c"))
    code, output = run(site, "--maildir", str(maildir), "--dry-run")
    assert code == 0 and "would apply" in output
    assert set(statuses(site).values()) == {"active"}
    assert len(mailbox.Maildir(maildir).keys()) == 1


def test_without_verp_configured_the_command_says_which_key_to_set(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, tmp_path: Path
) -> None:
    site = verp_site(make_site, envelope_relay, 1, newsletter="")
    maildir = deliver(tmp_path / "Maildir")
    code, output = run(site, "--maildir", str(maildir))
    assert code == 3 and "newsletter.verp_address" in output


def test_library_api_reads_a_maildir(make_site: SiteFactory, envelope_relay: EnvelopeRelay, tmp_path: Path) -> None:
    site = verp_site(make_site, envelope_relay, 1)
    send_issue(site)
    maildir = deliver(
        tmp_path / "Maildir", postfix(envelope_relay.return_paths["reader0@example.net"], "z@example.net")
    )
    with syndicate.Site.open(site) as opened:
        box = MaildirMailbox(maildir)
        report = read_bounces(opened, box)
        box.close()
    assert report.suppressed == ["reader0@example.net"]
    assert report.as_json()["messages"][0]["kind"] == "hard"


def test_help_shows_examples_and_the_table_names_each_message(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay, tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, ["bounces", "--help"])
    assert result.exit_code == 0
    assert "syndicate bounces --maildir" in result.output and "Exit codes" in result.output
    site = verp_site(make_site, envelope_relay, 2)
    send_issue(site)
    maildir = deliver(
        tmp_path / "Maildir", postfix(envelope_relay.return_paths["reader0@example.net"], "q@example.net")
    )
    result = CliRunner().invoke(main, ["bounces", "--site", str(site), "--maildir", str(maildir)], terminal_width=200)
    assert result.exit_code == 0
    assert "reader0@" in result.output and "suppressed" in result.output and "hard" in result.output
    assert "suppressed 1, soft bounces counted 0, left in the mailbox 0" in result.output


def test_without_maildir_or_imap_host_the_error_names_the_key(
    make_site: SiteFactory, envelope_relay: EnvelopeRelay
) -> None:
    site = verp_site(make_site, envelope_relay, 1)
    code, output = run(site)
    assert code == 3 and "bounces.host" in output
