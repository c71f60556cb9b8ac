"""The mailing list: CSV import, normalisation, merging, and the subscribers commands."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SiteFactory

import syndicate
from syndicate import Severity, SubscriberStatus
from syndicate._newsletter.subscribers import (
    InvalidAddressError,
    clean_name,
    import_subscribers,
    normalize_address,
)
from syndicate.cli import main

CSV = """\
email,name
jane@example.com,Jane Doe
not-an-address,Broken
JANE@EXAMPLE.COM,Jane D.
sam@Example.ORG,
,Nobody
bob@example..com,Bob
"zoë@example.com",Zoë
"ann@münchen.example","Ann
Smith"
"""


def open_site(make_site: SiteFactory) -> Path:
    return make_site({})


def test_csv_import_reports_bad_lines_and_merges_duplicates(make_site: SiteFactory) -> None:
    site_dir = open_site(make_site)
    (site_dir / "list.csv").write_text(CSV, encoding="utf-8")
    with syndicate.Site.open(site_dir) as site:
        report = import_subscribers(site.store.subscribers, site_dir / "list.csv")
        rows = {s.email: s for s in site.store.subscribers.all()}
    errors = {p.line: p.message for p in report.problems if p.severity is Severity.ERROR}
    warnings = {p.line: p.message for p in report.problems if p.severity is Severity.WARNING}
    assert set(errors) == {3, 6, 7, 8}
    assert "'not-an-address'" in errors[3]
    assert "no address" in errors[6]
    assert str(site_dir / "list.csv") in str(report.problems[0])
    assert 4 in warnings and "merged" in warnings[4]
    assert report.duplicates == 1 and report.counts.added == 3
    # Case-insensitive merge; the domain normalised to lower case; the later non-empty name wins.
    assert rows["jane@example.com"].name == "Jane D."
    assert "sam@example.org" in rows
    # Internationalised domains are stored in ASCII form; names lose their line breaks.
    assert rows["ann@xn--mnchen-3ya.example"].name == "Ann Smith"


def test_unsubscribed_and_bounced_stay_so_on_reimport(make_site: SiteFactory) -> None:
    site_dir = open_site(make_site)
    (site_dir / "a.csv").write_text("email,name\na@example.com,A\nb@example.com,B\nc@example.com,C\n")
    with syndicate.Site.open(site_dir) as site:
        table = site.store.subscribers
        import_subscribers(table, site_dir / "a.csv")
        a, b = table.find("a@example.com"), table.find("b@example.com")
        assert a and b
        table.set_status(a.id, SubscriberStatus.UNSUBSCRIBED)
        table.set_status(b.id, SubscriberStatus.BOUNCED)
        (site_dir / "b.csv").write_text("email,name\nA@EXAMPLE.com,Again\nb@example.com,B\nd@example.com,D\n")
        report = import_subscribers(table, site_dir / "b.csv")
        statuses = {s.email: s.status for s in table.all()}
    assert report.counts.added == 1 and report.counts.kept_inactive == 2
    assert statuses == {
        "a@example.com": SubscriberStatus.UNSUBSCRIBED,
        "b@example.com": SubscriberStatus.BOUNCED,
        "c@example.com": SubscriberStatus.ACTIVE,
        "d@example.com": SubscriberStatus.ACTIVE,
    }


def test_csv_without_email_column_is_refused_clearly(make_site: SiteFactory) -> None:
    site_dir = open_site(make_site)
    (site_dir / "bad.csv").write_text("address,name\na@example.com,A\n")
    with syndicate.Site.open(site_dir) as site:
        report = import_subscribers(site.store.subscribers, site_dir / "bad.csv")
    assert report.problems[0].line == 1 and "no 'email' column" in report.problems[0].message


def test_normalisation() -> None:
    assert normalize_address("  Jane@EXAMPLE.com ") == "Jane@example.com"
    with pytest.raises(InvalidAddressError):
        normalize_address("jane@")
    assert clean_name("Jane\r\nBcc: x@y.z\t Doe") == "Jane Bcc: x@y.z Doe"


def test_subscribers_commands(make_site: SiteFactory, tmp_path: Path) -> None:
    site_dir = open_site(make_site)
    (site_dir / "list.csv").write_text(CSV, encoding="utf-8")
    runner = CliRunner()
    site = ["--site", str(site_dir)]

    imported = runner.invoke(main, ["subscribers", "import", *site, str(site_dir / "list.csv"), "--json"])
    assert imported.exit_code == 1  # some lines refused; the rest imported
    data = json.loads(imported.output)
    assert data["added"] == 3 and [p["line"] for p in data["problems"] if p["severity"] == "error"] == [3, 6, 7, 8]

    added = runner.invoke(main, ["subscribers", "add", *site, "New@Example.com", "--name", "New Person"])
    assert added.exit_code == 0 and "added" in added.output
    bad = runner.invoke(main, ["subscribers", "add", *site, "nope"])
    assert bad.exit_code == 2

    runner.invoke(main, ["subscribers", "unsubscribe", *site, "new@example.com"])
    again = runner.invoke(main, ["subscribers", "add", *site, "new@example.com"])
    assert "unsubscribed" in again.output  # an add does not silently resubscribe
    back = runner.invoke(main, ["subscribers", "add", *site, "new@example.com", "--resubscribe"])
    assert "(active)" in back.output

    listed = json.loads(runner.invoke(main, ["subscribers", "list", *site, "--json"]).output)
    assert {s["email"] for s in listed} == {
        "jane@example.com",
        "sam@example.org",
        "ann@xn--mnchen-3ya.example",
        "New@example.com",
    }
    table = runner.invoke(main, ["subscribers", "list", *site])
    assert "jane@example.com" in table.output

    removed = runner.invoke(main, ["subscribers", "remove", *site, "SAM@example.org"])
    assert removed.exit_code == 0
    missing = runner.invoke(main, ["subscribers", "remove", *site, "sam@example.org"])
    assert missing.exit_code == 5

    out = tmp_path / "export.csv"
    exported = runner.invoke(main, ["subscribers", "export", *site, "-o", str(out)])
    assert exported.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["email"] for r in rows] == ["jane@example.com", "ann@xn--mnchen-3ya.example", "New@example.com"]
    assert rows[0]["name"] == "Jane D." and rows[0]["status"] == "active"
    # The export imports back unchanged.
    round_trip = runner.invoke(main, ["subscribers", "import", *site, str(out), "--json"])
    assert round_trip.exit_code == 0 and json.loads(round_trip.output)["added"] == 0
