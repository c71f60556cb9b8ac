"""``site.newsletter``: build, preview, send, due and unpublish through the public API, sending to a real relay."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import SiteFactory
from newsletter_samples import AFTER_WEEK, newsletter_site
from newsletter_samples import WEEK as SAMPLE_WEEK
from smtp_relay import WEEK, Relay, relay, sending_site

import syndicate

__all__ = ["relay"]  # the fixture, imported for pytest

LONDON = ZoneInfo("Europe/London")
DUE = datetime(2026, 11, 27, 7, 0, tzinfo=LONDON)  # W47's issue: the Friday of W48 at 07:00, site time
AFTER_DUE = DUE + timedelta(hours=1)


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", "test-secret-0123456789abcdef")


def test_due_names_the_week_its_due_time_and_the_next_one(make_site: SiteFactory, relay: Relay) -> None:
    site_dir = sending_site(make_site, relay, 2)
    with syndicate.Site.open(site_dir) as site:
        before = site.newsletter.due(now=DUE - timedelta(minutes=1))
        after = site.newsletter.due(now=AFTER_DUE)
        assert site.newsletter.due_at("2026-w47") == DUE  # any spelling of the week
    assert before.week == "2026-W46" and before.next_due_at == DUE
    assert (after.week, after.due_at, after.started, after.finished) == (WEEK, DUE, False, False)
    assert after.next_due_at == DUE + timedelta(days=7)
    assert after.as_json() == {
        "week": WEEK,
        "due": DUE.isoformat(),
        "started": False,
        "finished": False,
        "next_due": (DUE + timedelta(days=7)).isoformat(),
        "now": AFTER_DUE.isoformat(),
    }


def test_send_reaches_each_subscriber_once_and_due_then_says_finished(make_site: SiteFactory, relay: Relay) -> None:
    site_dir = sending_site(make_site, relay, 3)
    seen: list[tuple[int, int]] = []
    with syndicate.Site.open(site_dir) as site:
        report = site.newsletter.send(now=AFTER_DUE, progress=lambda done, total: seen.append((done, total)))
        again = site.newsletter.send(now=AFTER_DUE + timedelta(hours=1))
        due = site.newsletter.due(now=AFTER_DUE + timedelta(hours=1))
    assert isinstance(report, syndicate.SendReport)
    assert (report.week, report.sent, report.as_json()["kind"]) == (WEEK, 3, "sent")
    assert sorted(relay.counts().values()) == [1, 1, 1]
    assert again.sent == 0 and again.as_json()["kind"] == "already_sent"
    assert seen and seen[-1][0] == seen[-1][1] == 3
    assert due.started and due.finished


def test_a_dry_run_writes_messages_and_sends_nothing(make_site: SiteFactory, relay: Relay, tmp_path: Path) -> None:
    site_dir = sending_site(make_site, relay, 2)
    with syndicate.Site.open(site_dir) as site:
        report = site.newsletter.send(WEEK, dry_run=True, out_dir=tmp_path / "outbox", now=AFTER_DUE)
        due = site.newsletter.due(now=AFTER_DUE)
    assert relay.count() == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    assert report.as_json()["kind"] == "dry_run" and not due.started  # a dry run records nothing


def test_a_bad_week_is_a_syndicate_error(make_site: SiteFactory) -> None:
    with syndicate.Site.open(newsletter_site(make_site)) as site, pytest.raises(syndicate.NewsletterError) as caught:
        site.newsletter.build("2026-W99")
    assert "2026-W99" in str(caught.value)


def test_build_writes_the_issue_and_reports_it_in_one_json_shape(make_site: SiteFactory) -> None:
    site_dir = newsletter_site(make_site)
    with syndicate.Site.open(site_dir) as site:
        result = site.newsletter.build(SAMPLE_WEEK.lower(), now=AFTER_WEEK)
    assert isinstance(result, syndicate.IssueBuild) and result.built is not None
    data = result.as_json()
    assert data["week"] == SAMPLE_WEEK
    assert data["due"] == datetime(2026, 11, 20, 7, 0, tzinfo=LONDON).isoformat()
    assert data["stories"][0]["slug"] == "festival-lead"
    assert Path(data["folder"]) == site_dir / "public" / "newsletter" / SAMPLE_WEEK
    assert (site_dir / "public" / "newsletter" / SAMPLE_WEEK / "email.html").is_file()
    for problem in data["problems"]:
        assert set(problem) == {"path", "line", "severity", "message"}  # Problem.as_json()


def test_an_empty_week_builds_nothing_unless_forced(make_site: SiteFactory, tmp_path: Path) -> None:
    with syndicate.Site.open(newsletter_site(make_site)) as site:
        empty = site.newsletter.build("2026-W30", now=AFTER_WEEK, out_dir=tmp_path)
        assert not (tmp_path / "newsletter" / "2026-W30").exists()
        forced = site.newsletter.build("2026-W30", now=AFTER_WEEK, out_dir=tmp_path, force=True)
    assert empty.built is None
    assert empty.as_json() == {"week": "2026-W30", "issue": None, "reason": "no stories published that week"}
    assert forced.built is not None and (tmp_path / "newsletter" / "2026-W30" / "email.html").is_file()


def test_preview_goes_where_asked_and_sizes_every_file(make_site: SiteFactory, tmp_path: Path) -> None:
    site_dir = newsletter_site(make_site)
    with syndicate.Site.open(site_dir) as site:
        result = site.newsletter.preview(SAMPLE_WEEK, out_dir=tmp_path / "preview", now=AFTER_WEEK)
    assert result.built is not None
    assert not (site_dir / "public" / "newsletter").exists()
    sizes = result.file_sizes
    assert set(sizes) == set(result.built.paths) and sizes["email.html"] > 1000
    for name, path in result.built.paths.items():
        assert path.stat().st_size == sizes[name]


def test_unpublish_takes_a_sent_issue_down_for_good(make_site: SiteFactory, relay: Relay) -> None:
    site_dir = sending_site(make_site, relay, 1)
    with syndicate.Site.open(site_dir) as site:
        assert site.newsletter.send(now=AFTER_DUE).sent == 1
        folder = site.config.output_dir / "newsletter" / WEEK
        assert (folder / "index.html").is_file()
        result = site.newsletter.unpublish(WEEK.lower())
        with pytest.raises(syndicate.NewsletterError, match="unpublished"):
            site.newsletter.build(WEEK, now=AFTER_DUE)
    assert result.week == WEEK and folder / "index.html" in result.removed
    assert result.as_json() == {"week": WEEK, "removed": [str(p) for p in result.removed]}
    assert not folder.exists()
