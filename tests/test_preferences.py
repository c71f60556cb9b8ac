"""Preferences: the signed link in every issue, the page it opens, and sends that honour the choices.

Everything goes through the real parts: issues are sent to aiosmtpd, the link
is read from the received message and followed over HTTP, and the next
issue's delivery (or its absence) is what proves a choice was honoured.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlencode

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signup_server import AFTER_DUE, Served, messages_to, served
from smtp_relay import WEEK, Relay, relay, write_subscribers

from syndicate import SubscriberStatus, send_newsletter
from syndicate.cli import main

__all__ = ["relay", "served"]

NEXT_WEEK = "2026-W48"


def _setup(served: Served, relay: Relay) -> dict[str, str]:
    """Five subscribers sent the first issue; returns each one's preferences link, as a loopback path."""
    write_subscribers(served.site_dir / "list.csv", 5)
    served.site.subscribers.import_csv(served.site_dir / "list.csv")
    assert send_newsletter(served.site, week=WEEK, now=AFTER_DUE).sent == 5
    links = {}
    for n in range(5):
        address = f"reader{n}@example.net"
        [issue] = messages_to(relay, address)
        text = issue.get_body(preferencelist=("plain",))
        assert text is not None
        found = re.search(r"^Preferences \(plain text, pause\):\s+(\S+)", text.get_content(), re.M)
        assert found, "every issue carries the preferences link"
        html = issue.get_body(preferencelist=("html",))
        assert html is not None and ">Preferences</a>" in html.get_content()
        links[address] = served.local(found.group(1))
    return links


def _next_issue(served: Served, week: str, days: int) -> int:
    (served.site_dir / "content" / f"{week}.md").write_text(
        f"---\ntitle: Story of {week}\ndate: {(AFTER_DUE + timedelta(days=days - 10)):%Y-%m-%d} 10:00\n---\nBody.\n"
    )
    served.site.reload()
    return send_newsletter(served.site, week=week, now=AFTER_DUE + timedelta(days=days)).sent


def post(served: Served, path: str, **fields: str) -> tuple[int, str]:
    status, page, _ = served.request(path, urlencode(fields).encode())
    return status, page


def test_plain_text_choice_sends_the_text_only_variant(served: Served, relay: Relay) -> None:
    links = _setup(served, relay)
    status, page, _ = served.request(links["reader1@example.net"])
    assert status == 200 and "Plain text only" in page and "reader1@example.net" in page
    status, page = post(served, links["reader1@example.net"], preference="format", plain_text="1")
    assert status == 200 and "plain-text version" in page
    assert _next_issue(served, NEXT_WEEK, 7) == 5
    chosen = messages_to(relay, "reader1@example.net")[-1]
    other = messages_to(relay, "reader2@example.net")[-1]
    assert chosen.get_content_type() == "text/plain" and not chosen.is_multipart()
    assert "Story of 2026-W48" in chosen.get_content()
    assert chosen["List-Unsubscribe"] and chosen["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert other.get_content_type() == "multipart/alternative"
    # And back to the designed version.
    post(served, links["reader1@example.net"], preference="format", plain_text="0")
    assert not served.site.store.subscribers.find("reader1@example.net").plain_text  # type: ignore[union-attr]


def test_a_pause_skips_issues_until_it_ends(served: Served, relay: Relay) -> None:
    links = _setup(served, relay)
    served.clock.now = AFTER_DUE
    status, page = post(served, links["reader3@example.net"], preference="pause", weeks="2")
    assert status == 200 and "Paused for 2 weeks" in page and "Resume now" in page
    assert _next_issue(served, NEXT_WEEK, 7) == 4
    assert len(messages_to(relay, "reader3@example.net")) == 1
    assert _next_issue(served, "2026-W49", 14) == 5  # the pause ended on 11 December 08:00
    assert len(messages_to(relay, "reader3@example.net")) == 2


def test_resume_ends_a_pause_at_once(served: Served, relay: Relay) -> None:
    links = _setup(served, relay)
    served.clock.now = AFTER_DUE
    post(served, links["reader0@example.net"], preference="pause", weeks="8")
    status, page = post(served, links["reader0@example.net"], preference="resume")
    assert status == 200 and "resumes" in page
    assert _next_issue(served, NEXT_WEEK, 7) == 5


def test_unsubscribe_from_the_preferences_page(served: Served, relay: Relay) -> None:
    links = _setup(served, relay)
    status, page = post(served, links["reader4@example.net"], **{"List-Unsubscribe": "One-Click"})
    assert status == 200 and "no more newsletters" in page
    gone = served.site.store.subscribers.find("reader4@example.net")
    assert gone is not None and gone.status is SubscriberStatus.UNSUBSCRIBED
    status, page = post(served, links["reader4@example.net"], preference="format", plain_text="1")
    assert status == 409  # an unsubscribed reader's settings stay as they were
    assert _next_issue(served, NEXT_WEEK, 7) == 4


def test_forged_links_and_bad_forms_change_nothing(served: Served, relay: Relay) -> None:
    links = _setup(served, relay)
    link = links["reader2@example.net"]
    forged = link[:-1] + ("A" if link[-1] != "A" else "B")
    assert post(served, forged, preference="pause", weeks="4")[0] == 403
    assert served.request(forged)[0] == 403
    for fields in (
        {"preference": "pause", "weeks": "0"},
        {"preference": "pause", "weeks": "53"},
        {"preference": "pause", "weeks": "-1"},
        {"preference": "format", "plain_text": "yes"},
        {"preference": "delete-everything"},
        {"something": "else"},
    ):
        assert post(served, link, **fields)[0] == 400, fields
    subscriber = served.site.store.subscribers.find("reader2@example.net")
    assert subscriber is not None and subscriber.active and not subscriber.plain_text
    assert subscriber.paused_until is None


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(weeks=st.text(max_size=12))
def test_any_pause_length_is_bounded(served: Served, weeks: str) -> None:
    table = served.site.store.subscribers
    if table.find("prop@example.net") is None:
        table.merge([("prop@example.net", "")])
    subscriber = table.find("prop@example.net")
    assert subscriber is not None
    table.set_paused_until(subscriber.id, None)
    token = served.app.signer.token(subscriber.id, subscriber.email)
    status, _ = post(served, f"/preferences?token={token}", preference="pause", weeks=weeks)
    after = table.find("prop@example.net")
    assert after is not None
    if status == 200:
        assert weeks.strip().isdigit() and 1 <= int(weeks.strip()) <= 52
        assert after.paused_until is not None
        assert after.paused_until <= served.clock.now + timedelta(weeks=52)
    else:
        assert status == 400 and after.paused_until is None


def test_stats_show_the_lists_health_and_growth(served: Served, relay: Relay) -> None:
    links = _setup(served, relay)
    served.clock.now = AFTER_DUE
    post(served, links["reader0@example.net"], preference="pause", weeks="4")
    post(served, links["reader1@example.net"], **{"List-Unsubscribe": "One-Click"})
    table = served.site.store.subscribers
    bounced = table.find("reader2@example.net")
    assert bounced is not None
    table.set_status(bounced.id, SubscriberStatus.BOUNCED)
    served.request("/subscribe", urlencode({"email": "waiting@example.net"}).encode())

    stats = served.site.subscribers.stats(now=AFTER_DUE + timedelta(hours=1)).as_json()
    assert {k: stats[k] for k in ("active", "pending", "bounced", "complained", "paused", "unsubscribed")} == {
        "active": 3,  # paused readers are active (and counted under paused too)
        "pending": 1,
        "bounced": 1,
        "complained": 0,
        "paused": 1,
        "unsubscribed": 1,
    }
    assert served.site.subscribers.stats(now=AFTER_DUE + timedelta(weeks=5)).pending == 0
    growth = stats["growth"]
    assert isinstance(growth, list)
    assert sum(week["joined"] for week in growth) == 5 and sum(week["left"] for week in growth) == 2

    # The CLI shows the same, as of the real clock.
    runner = CliRunner()
    result = runner.invoke(main, ["subscribers", "stats", "--site", str(served.site_dir), "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert set(shown) == {"active", "pending", "bounced", "complained", "paused", "unsubscribed", "growth"}
    assert shown["active"] == 3 and shown["bounced"] == 1 and shown["growth"] == growth
    text = runner.invoke(main, ["subscribers", "stats", "--site", str(served.site_dir)])
    assert text.exit_code == 0 and "bounced 1" in text.output and "growth per week" in text.output
    listing = runner.invoke(main, ["subscribers", "list", "--site", str(served.site_dir)])
    assert "reader0@example.net" in listing.output and "unsubscribed 1" in listing.output


def test_a_dry_run_shows_the_choices_too(served: Served, relay: Relay) -> None:
    links = _setup(served, relay)
    served.clock.now = AFTER_DUE
    post(served, links["reader0@example.net"], preference="pause", weeks="4")
    post(served, links["reader1@example.net"], preference="format", plain_text="1")
    (served.site_dir / "content" / "w48.md").write_text("---\ntitle: Next\ndate: 2026-11-24 10:00\n---\nBody.\n")
    served.site.reload()
    folder = served.site_dir / "outbox"
    send_newsletter(served.site, week=NEXT_WEEK, now=AFTER_DUE + timedelta(days=7), dry_run_dir=folder)
    written = {path.name.split("-", 1)[1]: path.read_bytes() for path in folder.glob("*.eml")}
    assert sorted(written) == [f"reader{n}@example.net.eml" for n in (1, 2, 3, 4)]
    assert b"Content-Type: text/plain" in written["reader1@example.net.eml"].split(b"\r\n\r\n", 1)[0]
    assert b"multipart/alternative" in written["reader2@example.net.eml"]


def test_a_reader_who_pauses_while_their_copy_waits_for_a_retry_is_not_sent_it(served: Served, relay: Relay) -> None:
    links = _setup(served, relay)
    week_story = NEXT_WEEK
    relay.defer.add("reader2@example.net")  # the relay puts off this reader's copy of the next issue
    assert _next_issue(served, week_story, 7) == 4
    status, _ = post(served, links["reader2@example.net"], preference="pause", weeks="4")
    assert status == 200
    relay.defer.clear()
    later = AFTER_DUE + timedelta(days=8)
    report = send_newsletter(served.site, week=week_story, now=later)  # the retry: the pause wins
    assert report.sent == 0
    assert len(messages_to(relay, "reader2@example.net")) == 1  # only the issue before the pause
