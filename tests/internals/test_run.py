"""`syndicate run` / Site.run: one unattended cycle, each step when due, locked, with a catch-up policy."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import DEMO_NOW, SiteFactory
from hypothesis import given
from hypothesis import strategies as st
from smtp_relay import Relay, relay, site_config, write_subscribers

import syndicate
from syndicate import import_subscribers, send_newsletter
from syndicate._cycle import LOCK_FILE, RunReport, StepStatus
from syndicate._newsletter.lock import SendLock
from syndicate._newsletter.select import plan_catch_up
from syndicate.cli import main

__all__ = ["relay"]

LONDON = ZoneInfo("Europe/London")
# ISO weeks of 2026 (site time, Europe/London); each is due the Friday after it, 07:00.
WEEK_DAYS = {"2026-W44": "2026-10-27", "2026-W45": "2026-11-03", "2026-W46": "2026-11-10", "2026-W47": "2026-11-17"}
W44_DUE = datetime(2026, 11, 6, 9, 0, tzinfo=LONDON)
W46_DUE = datetime(2026, 11, 20, 9, 0, tzinfo=LONDON)
W47_DUE = datetime(2026, 11, 27, 9, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", "run-test-secret-0123456789abcdef")


def story(site: Path, week: str, n: int) -> str:
    title = f"Story {n} Of {week}"
    day = datetime.fromisoformat(WEEK_DAYS[week]) + timedelta(hours=8 + n)
    (site / "content" / f"{week.lower()}-{n}.md").write_text(
        f"---\nid: urn:test:{week}-{n}\ntitle: {title}\ndate: {day:%Y-%m-%d %H:%M}\n---\nAbout {title}.\n",
        encoding="utf-8",
    )
    return title


def newsletter_site(make_site: SiteFactory, relay: Relay, policy: str = "digest", readers: int = 3) -> Path:
    site = make_site({}, site_config(relay.port, extra=f'catch_up = "{policy}"'))
    write_subscribers(site / "list.csv", readers)
    with syndicate.Site.open(site) as opened:
        import_subscribers(opened.store.subscribers, site / "list.csv")
    return site


def run(site: Path, now: datetime) -> RunReport:
    with syndicate.Site.open(site) as opened:
        return opened.run(now=now)


def bodies_of(relay: Relay, rcpt: str) -> list[str]:
    out = []
    for received in relay.received:
        if received.rcpt == rcpt:
            message = received.message()
            text = message.get_body(("plain",))
            assert text is not None
            out.append(str(text.get_content()))
    return out


# --- the demo, twice ---------------------------------------------------------------------------------


def test_run_on_the_demo_twice_the_second_is_a_no_op(demo_site: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["run", "--site", str(demo_site), "--now", DEMO_NOW.isoformat(), "--json"])
    assert first.exit_code == 4, first.output  # the demo's deliberately broken source
    report = json.loads(first.output)
    assert {s["step"]: s["status"] for s in report["steps"]} == {
        "fetch": "partial",
        "build": "done",
        "newsletter": "done",  # the due week's issue is opened and its archive written (no subscribers yet)
        "send": "not-due",
        "archive": "not-due",
    }
    assert (demo_site / "public" / "newsletter" / "rss.xml").is_file()
    later = (DEMO_NOW + timedelta(minutes=10)).isoformat()
    second = runner.invoke(main, ["run", "--site", str(demo_site), "--now", later, "--json"])
    assert second.exit_code == 0, second.output
    again = json.loads(second.output)
    assert all(s["status"] == "not-due" for s in again["steps"]), again
    quiet = runner.invoke(main, ["run", "--site", str(demo_site), "--now", later, "--quiet"])
    assert quiet.exit_code == 0 and quiet.output == ""


def test_an_overlapping_run_is_locked_out_with_exit_6(demo_site: Path) -> None:
    with SendLock(demo_site / ".syndicate" / LOCK_FILE):
        with syndicate.Site.open(demo_site) as site:
            report = site.run(now=DEMO_NOW)
        assert report.locked and report.exit_code == 6 and report.steps == []
        result = CliRunner().invoke(main, ["run", "--site", str(demo_site), "--now", DEMO_NOW.isoformat()])
        assert result.exit_code == 6
        assert "another run is in progress" in result.output
    assert not (demo_site / "public").exists()  # the locked-out runs did nothing
    with syndicate.Site.open(demo_site) as site:
        assert site.run(now=DEMO_NOW).exit_code == 4  # lock released: the next run works


def test_a_failing_step_does_not_stop_the_independent_ones(demo_site: Path) -> None:
    (demo_site / "feeds" / "sources.opml").write_text("<opml><body><outline", encoding="utf-8")
    with syndicate.Site.open(demo_site) as site:
        report = site.run(now=DEMO_NOW)
    fetch, build, newsletter = report.step("fetch"), report.step("build"), report.step("newsletter")
    assert fetch is not None and fetch.status is StepStatus.FAILED and "sources.opml" in fetch.message
    assert build is not None and build.status is StepStatus.DONE
    assert newsletter is not None and newsletter.status is StepStatus.DONE
    assert report.exit_code == 10
    assert json.loads(json.dumps(report.as_json()))["exit_code"] == 10


# --- catch-up --------------------------------------------------------------------------------------------


def test_a_missed_week_with_stories_is_sent_when_the_latest_due_week_is_empty(
    make_site: SiteFactory, relay: Relay
) -> None:
    site = newsletter_site(make_site, relay)
    story(site, "2026-W44", 1)
    assert run(site, W44_DUE).exit_code == 0
    assert relay.count() == 3
    titles = [story(site, "2026-W45", n) for n in range(6)]  # W46 stays empty; cron is down on W45's send day
    report = run(site, W46_DUE)
    assert report.exit_code == 0, report.as_json()
    assert relay.count() == 6
    assert all(title in bodies_of(relay, "reader0@example.net")[1] for title in titles)
    assert {"week": "2026-W46", "reason": "no stories published that week"} in report.skipped_weeks


@pytest.mark.parametrize("policy", ["digest", "latest", "each"])
def test_catch_up_policies_after_a_three_week_outage(make_site: SiteFactory, relay: Relay, policy: str) -> None:
    site = newsletter_site(make_site, relay, policy)
    story(site, "2026-W44", 1)
    run(site, W44_DUE)
    weeks = {week: [story(site, week, n) for n in range(2)] for week in ("2026-W45", "2026-W46", "2026-W47")}
    report = run(site, W47_DUE)  # down from W44's send day until after W47's
    assert report.exit_code == 0, report.as_json()
    bodies = bodies_of(relay, "reader1@example.net")[1:]
    if policy == "digest":
        assert len(bodies) == 1
        assert all(title in bodies[0] for titles in weeks.values() for title in titles)
        assert report.skipped_weeks == []
        covers = json.loads((site / "public" / "newsletter" / "2026-W47" / "issue.json").read_text())["covers"]
        assert covers == list(weeks)
        assert "What you missed at" in bodies[0]  # the issue says it is a catch-up, in its subject and intro
    elif policy == "latest":
        assert len(bodies) == 1 and all(title in bodies[0] for title in weeks["2026-W47"])
        record = json.loads((site / "public" / "newsletter" / "2026-W47" / "issue.json").read_text())
        assert sorted(s["title"] for s in record["stories"]) == sorted(weeks["2026-W47"])  # older ones: related only
        assert [s["week"] for s in report.skipped_weeks] == ["2026-W45", "2026-W46"]
        assert all("catch_up = 'latest'" in s["reason"] for s in report.skipped_weeks)
    else:
        assert len(bodies) == 3
        for body, titles in zip(bodies, weeks.values(), strict=True):
            assert all(title in body for title in titles)
    assert relay.count() == 3 * (1 + len(bodies))  # every reader, the same
    assert run(site, W47_DUE + timedelta(hours=1)).noop  # and the next hour does nothing


def test_run_and_plain_send_share_the_ledger_nobody_gets_an_issue_twice(make_site: SiteFactory, relay: Relay) -> None:
    site = newsletter_site(make_site, relay)
    story(site, "2026-W44", 1)
    with syndicate.Site.open(site) as opened:
        assert send_newsletter(opened, now=W44_DUE).sent == 3
        assert opened.run(now=W44_DUE + timedelta(hours=1)).exit_code == 0
    assert relay.count() == 3


WEEKS = [f"2026-W{n:02d}" for n in range(30, 42)]


@given(
    st.integers(min_value=1, max_value=len(WEEKS)),
    st.sets(st.sampled_from(WEEKS)),
    st.sampled_from(["digest", "latest", "each"]),
)
def test_catch_up_plan_never_drops_a_week_silently(count: int, non_empty: set[str], policy: str) -> None:
    candidates = WEEKS[:count]
    plan = plan_catch_up(candidates, non_empty, policy)
    covered = [week for _, covers in plan.send for week in covers]
    skipped = [week for week, reason in plan.skipped if reason]
    assert sorted(covered + skipped) == sorted(candidates)  # each week: sent once, or skipped with a reason
    assert len(set(covered)) == len(covered)
    assert all(week in non_empty for week in covered)
    assert all(label == covers[-1] for label, covers in plan.send)  # an issue carries its newest week's label
    if policy != "latest":
        assert set(covered) == set(candidates) & non_empty
    assert len(plan.send) <= (len(non_empty & set(candidates)) if policy == "each" else 1)
