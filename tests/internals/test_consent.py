"""Consent records (how, from where, when, confirmed when) and forgetting a person on request."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from click.testing import CliRunner
from conftest import SiteFactory
from hypothesis import given, settings
from hypothesis import strategies as st
from signup_server import AFTER_DUE, Served, confirmation_link, messages_to, served
from smtp_relay import WEEK, Relay, relay

import syndicate
from syndicate import send_newsletter
from syndicate._newsletter.subscribers import EXPORT_COLUMNS
from syndicate.cli import main

__all__ = ["relay", "served"]

FORGET_ME = "forget.me@example.net"


def cli(site_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["subscribers", *args, "--site", str(site_dir)])
    return result.exit_code, result.output


def export(site_dir: Path) -> list[dict[str, str]]:
    code, text = cli(site_dir, "export")
    assert code == 0, text
    return list(csv.DictReader(io.StringIO(text)))


def test_export_carries_how_where_and_when_each_address_consented(served: Served, relay: Relay) -> None:
    site_dir = served.site_dir
    (site_dir / "spring-list.csv").write_text("email,name\nimported@example.net,Imp Orted\n")
    assert cli(site_dir, "import", str(site_dir / "spring-list.csv"))[0] == 0
    assert cli(site_dir, "add", "manual@example.net")[0] == 0
    served.request("/subscribe", urlencode({"email": "former@example.net", "source": "footer"}).encode())
    link = confirmation_link(messages_to(relay, "former@example.net")[0])
    served.clock.advance(hours=2)
    served.request(served.local(link), b"")

    rows = {row["email"]: row for row in export(site_dir)}
    assert list(next(iter(rows.values()))) == list(EXPORT_COLUMNS)
    assert rows["imported@example.net"]["consent_method"] == "import"
    assert rows["imported@example.net"]["consent_source"] == "spring-list.csv"
    assert rows["imported@example.net"]["consent_at"] and not rows["imported@example.net"]["confirmed_at"]
    assert rows["manual@example.net"]["consent_method"] == "manual"
    form = rows["former@example.net"]
    assert form["consent_method"] == "form" and form["consent_source"] == "footer"
    assert form["consent_at"] == "2026-11-20T10:00:00+00:00" and form["confirmed_at"] == "2026-11-20T12:00:00+00:00"


def _all_text_in(database: Path) -> str:
    """Every value in every table of the state database, as one string."""
    with sqlite3.connect(database) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(repr(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"'))


def test_forget_erases_the_person_and_a_later_import_skips_them(served: Served, relay: Relay) -> None:
    site_dir = served.site_dir
    served.request("/subscribe", urlencode({"email": FORGET_ME, "name": "Fay Gotten"}).encode())
    served.request(served.local(confirmation_link(messages_to(relay, FORGET_ME)[0])), b"")
    assert send_newsletter(served.site, week=WEEK, now=AFTER_DUE).sent == 1  # a send history to erase too
    assert FORGET_ME in _all_text_in(served.site.config.database_path)

    code, output = cli(site_dir, "forget", "Forget.Me@example.net")
    assert code == 0 and "erased" in output
    stored = _all_text_in(served.site.config.database_path)
    assert "forget.me" not in stored.lower() and "Fay Gotten" not in stored
    assert served.site.store.subscribers.find(FORGET_ME) is None

    # An old list that still has them: reported by address and skipped, the rest imported.
    (site_dir / "old.csv").write_text("email,name\nFORGET.ME@example.net,Fay\nsomeone@example.net,\n")
    code, output = cli(site_dir, "import", str(site_dir / "old.csv"), "--json")
    report = json.loads(output)
    assert code == 0 and report["added"] == 1 and report["forgotten_skipped"] == 1
    assert any(FORGET_ME in p["message"].lower() and "forgotten" in p["message"] for p in report["problems"])
    assert served.site.store.subscribers.find(FORGET_ME) is None

    # They can come back on their own, with a confirmation: then imports know them again.
    served.clock.advance(days=2)
    served.request("/subscribe", urlencode({"email": FORGET_ME}).encode())
    served.request(served.local(confirmation_link(messages_to(relay, FORGET_ME)[-1])), b"")
    back = served.site.store.subscribers.find(FORGET_ME)
    assert back is not None and back.active
    assert served.site.store.signups.forgotten([FORGET_ME]) == set()


def test_forget_works_for_an_address_never_seen_and_refuses_non_addresses(make_site: SiteFactory) -> None:
    site_dir = make_site({})
    code, output = cli(site_dir, "forget", "stranger@example.net")
    assert code == 0 and "remembered as forgotten" in output
    assert cli(site_dir, "forget", "not an address")[0] == 2
    with syndicate.Site.open(site_dir) as site:
        assert site.store.signups.forgotten(["Stranger@example.net", "other@example.net"]) == {"Stranger@example.net"}


def test_the_forgotten_hash_is_salted_per_database(make_site: SiteFactory) -> None:
    hashes = []
    for name in ("one", "two"):
        site_dir = make_site({}, name=name)
        cli(site_dir, "forget", FORGET_ME)
        with sqlite3.connect(site_dir / ".syndicate" / "state.sqlite3") as db:
            hashes.append(db.execute("SELECT hash FROM forgotten_addresses").fetchone()[0])
    assert hashes[0] != hashes[1]  # the same address cannot be matched across sites, or by a plain SHA-256 table


@settings(max_examples=60, deadline=None)
@given(local=st.from_regex(r"[a-z0-9][a-z0-9.+_-]{0,20}", fullmatch=True).filter(lambda s: ".." not in s))
def test_forgotten_matches_any_letter_case_and_only_that_address(local: str) -> None:
    from syndicate._store.database import Database
    from syndicate._store.signups import MIGRATIONS, SignupTable

    db = Database(":memory:", MIGRATIONS)
    table = SignupTable(db)
    address = f"{local.rstrip('.')}x@example.net"
    table.forget(address, datetime(2026, 11, 20, tzinfo=UTC))
    assert table.forgotten([address.upper(), "other" + address]) == {address.upper()}
    db.close()


def test_a_state_database_from_before_consent_records_migrates_and_keeps_its_list(make_site: SiteFactory) -> None:
    from syndicate._store import ALL_MIGRATIONS
    from syndicate._store.database import Database

    site_dir = make_site({})
    new = ("subscribers_0002_consent_and_preferences", "signups_0001_double_opt_in")
    old = [m for m in ALL_MIGRATIONS if m[0] not in new]
    path = site_dir / ".syndicate" / "state.sqlite3"
    db = Database(path, old)  # the schema as main had it
    db.execute(
        "INSERT INTO subscribers (email, email_key, name, created_at, changed_at) VALUES (?, ?, ?, ?, ?)",
        ("old@example.net", "old@example.net", "Old", "2026-01-05T10:00:00+00:00", "2026-01-05T10:00:00+00:00"),
    )
    db.close()
    with syndicate.Site.open(site_dir) as site:
        [subscriber] = site.store.subscribers.all()
    assert subscriber.email == "old@example.net" and subscriber.active
    assert subscriber.consent_method == "" and subscriber.confirmed_at is None  # unknown, and said so
    assert not subscriber.plain_text and subscriber.paused_until is None
    row = export(site_dir)[0]
    assert row["email"] == "old@example.net" and row["consent_method"] == ""


def test_unconfirmed_sign_ups_are_erased_after_thirty_days(served: Served, relay: Relay) -> None:
    served.request("/subscribe", urlencode({"email": "never.confirmed@example.net"}).encode())
    assert "never.confirmed" in _all_text_in(served.site.config.database_path)
    served.clock.advance(days=30, seconds=1)
    served.request("/subscribe", urlencode({"email": "someone.else@example.net"}).encode())
    assert "never.confirmed" not in _all_text_in(served.site.config.database_path)
