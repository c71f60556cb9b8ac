"""``site.subscribers``: the mailing list's verbs through the public API."""

from __future__ import annotations

import csv
import io
import pickle
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import SiteFactory
from smtp_relay import Relay, relay, sending_site

import syndicate
from syndicate.cli import main

__all__ = ["relay"]  # the fixture, imported for pytest

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("Europe/London"))
AFTER_DUE = datetime(2026, 11, 27, 8, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", "test-secret-0123456789abcdef")


def test_add_then_add_again_changes_only_the_name(make_site: SiteFactory) -> None:
    with syndicate.Site.open(make_site({})) as site:
        first = site.subscribers.add(" Jane@EXAMPLE.com ", name="Jane")
        second = site.subscribers.add("jane@example.com", name="Jane Doe")
    assert isinstance(first, syndicate.SubscriberChange)
    assert (first.subscriber.email, first.changed) == ("Jane@example.com", True)
    assert (second.subscriber.name, second.changed) == ("Jane Doe", False)
    assert second.as_json()["subscriber"]["status"] == "active"


@pytest.mark.parametrize("verb", ["add", "remove", "unsubscribe", "forget", "find"])
def test_an_invalid_address_is_a_syndicate_error_naming_it(make_site: SiteFactory, verb: str) -> None:
    with syndicate.Site.open(make_site({})) as site, pytest.raises(syndicate.SyndicateError) as caught:
        getattr(site.subscribers, verb)("jane@@example")
    assert isinstance(caught.value, syndicate.InvalidAddressError)
    assert "jane@@example" in str(caught.value) and caught.value.address == "jane@@example"


def test_unsubscribe_by_address_keeps_the_subscriber(make_site: SiteFactory) -> None:
    with syndicate.Site.open(make_site({})) as site:
        site.subscribers.add("jane@example.com")
        first = site.subscribers.unsubscribe("JANE@example.com")
        again = site.subscribers.unsubscribe("jane@example.com")
        stranger = site.subscribers.unsubscribe("nobody@example.com")
        listed = site.subscribers.list(now=NOW)
    assert first is not None and first.changed and first.subscriber.status is syndicate.SubscriberStatus.UNSUBSCRIBED
    assert again is not None and not again.changed
    assert stranger is None
    assert [s.email for s in listed.subscribers] == ["jane@example.com"]  # nobody is deleted


def test_unsubscribe_with_the_token_from_a_sent_message(make_site: SiteFactory, relay: Relay) -> None:
    site_dir = sending_site(make_site, relay, 2)
    with syndicate.Site.open(site_dir) as site:
        assert site.newsletter.send(now=AFTER_DUE).sent == 2
        message = next(r.message() for r in relay.received if r.rcpt == "reader1@example.net")
        token = re.search(r"token=([^>&\s]+)", str(message["List-Unsubscribe"]))
        assert token is not None
        change = site.subscribers.unsubscribe(token=token.group(1))
        with pytest.raises(syndicate.InvalidTokenError):
            site.subscribers.unsubscribe(token=token.group(1)[:-2] + "xx")
        active = site.subscribers.list("active", now=AFTER_DUE)
    assert change is not None and change.changed and change.subscriber.email == "reader1@example.net"
    assert [s.email for s in active.subscribers] == ["reader0@example.net"]


def test_list_stats_and_json_shapes(make_site: SiteFactory) -> None:
    with syndicate.Site.open(make_site({})) as site:
        for address in ("a@example.com", "b@example.com", "c@example.com"):
            site.subscribers.add(address)
        site.subscribers.unsubscribe("b@example.com")
        everyone = site.subscribers.list(now=NOW)
        unsubscribed = site.subscribers.list(syndicate.SubscriberStatus.UNSUBSCRIBED, now=NOW)
        stats = site.subscribers.stats(now=NOW)
    assert len(everyone.subscribers) == 3 and [s.email for s in unsubscribed.subscribers] == ["b@example.com"]
    assert (stats.active, stats.unsubscribed) == (2, 1)
    data = everyone.as_json()
    assert data["stats"] == stats.as_json()
    assert data["subscribers"] == everyone.rows_json() and data["subscribers"][0]["email"] == "a@example.com"


def test_export_writes_a_file_that_import_csv_reads_back(make_site: SiteFactory, tmp_path: Path) -> None:
    with syndicate.Site.open(make_site({}, name="one")) as site:
        site.subscribers.add("a@example.com", name="Ann")
        site.subscribers.add("b@example.com", name="Bob")
        site.subscribers.unsubscribe("b@example.com")
        exported = site.subscribers.export(output=tmp_path / "list.csv")
        active_only = site.subscribers.export("active")
    assert exported.path == tmp_path / "list.csv" and exported.count == 2
    assert (tmp_path / "list.csv").read_text(encoding="utf-8") == exported.text
    assert active_only.path is None and [r["email"] for r in csv.DictReader(io.StringIO(active_only.text))] == [
        "a@example.com"
    ]
    with syndicate.Site.open(make_site({}, name="two")) as other:
        result = other.subscribers.import_csv(tmp_path / "list.csv")
        names = {s.email: s.name for s in other.subscribers.list(now=NOW).subscribers}
    assert isinstance(result, syndicate.ImportResult) and not result.errors
    assert result.as_json()["added"] == 2
    assert names == {"a@example.com": "Ann", "b@example.com": "Bob"}


def test_import_problems_are_problem_json(make_site: SiteFactory, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("email,name\nnot-an-address,X\nok@example.com,Ok\n", encoding="utf-8")
    with syndicate.Site.open(make_site({})) as site:
        result = site.subscribers.import_csv(tmp_path / "bad.csv")
    [problem] = result.as_json()["problems"]
    assert problem == {
        "path": str(tmp_path / "bad.csv"),
        "line": 2,
        "severity": "error",
        "message": problem["message"],
    }
    assert "'not-an-address'" in problem["message"] and result.as_json()["added"] == 1


def test_forget_erases_and_a_later_import_skips_the_address(make_site: SiteFactory, tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text("email,name\njane@example.com,Jane\n", encoding="utf-8")
    with syndicate.Site.open(make_site({})) as site:
        site.subscribers.add("jane@example.com")
        assert site.subscribers.forget("jane@example.com", now=NOW)
        assert site.subscribers.find("jane@example.com") is None
        result = site.subscribers.import_csv(tmp_path / "old.csv")
        assert not site.subscribers.forget("jane@example.com", now=NOW + timedelta(days=1))
    assert result.report.forgotten == 1 and result.as_json()["forgotten_skipped"] == 1


def test_remove_erases_one_subscriber(make_site: SiteFactory) -> None:
    with syndicate.Site.open(make_site({})) as site:
        site.subscribers.add("jane@example.com")
        removed = site.subscribers.remove("jane@example.com")
        assert site.subscribers.remove("jane@example.com") is None
        assert site.subscribers.list(now=NOW).subscribers == []
    assert removed is not None and removed.email == "jane@example.com"


def test_signup_form_carries_the_source(make_site: SiteFactory) -> None:
    with syndicate.Site.open(make_site({})) as site:
        form = site.subscribers.signup_form("footer")
    assert "<form" in form and 'value="footer"' in form


def test_cli_unsubscribe_goes_through_the_library(make_site: SiteFactory) -> None:
    site_dir = make_site({})
    with syndicate.Site.open(site_dir) as site:
        site.subscribers.add("jane@example.com")
    runner = CliRunner()
    first = runner.invoke(main, ["subscribers", "unsubscribe", "--site", str(site_dir), "jane@example.com"])
    again = runner.invoke(main, ["subscribers", "unsubscribe", "--site", str(site_dir), "jane@example.com"])
    stranger = runner.invoke(main, ["subscribers", "unsubscribe", "--site", str(site_dir), "x@example.com"])
    bad = runner.invoke(main, ["subscribers", "unsubscribe", "--site", str(site_dir), "jane@@example"])
    assert (first.exit_code, first.output.strip()) == (0, "jane@example.com: unsubscribed")
    assert "already unsubscribed" in again.output
    assert stranger.exit_code == 5
    assert bad.exit_code == 2 and "EMAIL" in bad.output


def test_an_invalid_address_error_survives_pickling() -> None:
    error = syndicate.InvalidAddressError("jane@@example", "too many @-signs")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is syndicate.InvalidAddressError and str(copy) == str(error)
    assert (copy.address, copy.reason) == ("jane@@example", "too many @-signs")
