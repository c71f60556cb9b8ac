"""Reach: Media RSS thumbnails readers show, and WebSub hubs told about every changed feed (and only those)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import feedparser
from conftest import BASIC_CONFIG, SiteFactory
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import syndicate

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("Europe/London"))

SIZED = """\
---
title: A Restored Print Returns
date: 2026-11-20 09:00
tags: [restorations]
image:
  url: /images/print.jpg
  alt: The restored print
  width: 1600
  height: 900
---
The print is back.
"""
UNSIZED = """\
---
title: Festival Diary
date: 2026-11-19 09:00
tags: [festivals]
image: https://cdn.example.org/diary.png
---
Day one.
"""


def test_media_rss_carries_images_with_their_size_when_known(make_site: SiteFactory) -> None:
    root = make_site({"print.md": SIZED, "diary.md": UNSIZED})
    with syndicate.Site.open(root) as site:
        site.build(now=NOW)
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((root / "public" / name).read_bytes())
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        entries = {entry.title: entry for entry in parsed.entries}
        sized = entries["A Restored Print Returns"]
        assert sized.media_thumbnail == [
            {"url": "https://test.example.org/images/print.jpg", "width": "1600", "height": "900"}
        ]
        assert sized.media_content[0]["medium"] == "image" and sized.media_content[0]["width"] == "1600"
        unsized = entries["Festival Diary"]
        assert unsized.media_thumbnail == [{"url": "https://cdn.example.org/diary.png"}]
        assert unsized.media_content[0]["type"] == "image/png"


def test_absurd_image_sizes_are_left_unknown(make_site: SiteFactory) -> None:
    absurd = SIZED.replace("width: 1600", "width: 99999999999").replace("height: 900", "height: -4")
    root = make_site({"print.md": absurd})
    with syndicate.Site.open(root) as site:
        site.build(now=NOW)
        article = site.collection.get("print")
    assert article is not None
    image = article.image
    assert image is not None and (image.width, image.height) == (None, None)


def _hub_config(hub: str, *more: str) -> str:
    hubs = ", ".join(f'"{url}"' for url in (hub, *more))
    return BASIC_CONFIG + f"\n[feeds]\nwebsub_hubs = [{hubs}]\n"


def _pings(server: HTTPServer) -> list[tuple[str, str]]:
    found = []
    for request, _ in server.log:
        form = parse_qs(request.get_data(as_text=True))
        found.append((form["hub.mode"][0], form["hub.url"][0]))
    return sorted(found)


def test_websub_hubs_are_advertised_and_pinged_for_changed_feeds_only(
    make_site: SiteFactory, server: HTTPServer
) -> None:
    server.clear()
    server.expect_request("/hub", method="POST").respond_with_data("", status=204)
    hub = server.url_for("/hub")
    root = make_site({"print.md": SIZED, "diary.md": UNSIZED}, _hub_config(hub))
    with syndicate.Site.open(root) as site:
        first = site.build(now=NOW)
    public = root / "public"
    rss = feedparser.parse((public / "rss.xml").read_bytes())
    atom = feedparser.parse((public / "atom.xml").read_bytes())
    for parsed in (rss, atom):
        assert parsed.bozo == 0
        assert [link.href for link in parsed.feed.links if link.rel == "hub"] == [hub]
    assert json.loads((public / "feed.json").read_text(encoding="utf-8"))["hubs"] == [{"type": "WebSub", "url": hub}]
    base = "https://test.example.org"
    every_feed = {
        f"{base}/{folder}{name}"
        for folder in ("", "tags/restorations/", "tags/festivals/", "around-the-web/")
        for name in ("rss.xml", "atom.xml", "feed.json")
    }
    assert set(_pings(server)) == {("publish", url) for url in every_feed}
    assert {(p.hub, p.status) for p in first.websub} == {(hub, 204)}

    # Nothing changed: no ping at all.
    server.clear_log()
    with syndicate.Site.open(root) as site:
        again = site.build(now=NOW + timedelta(minutes=5))
    assert _pings(server) == [] and again.websub == []

    # One story edited: only the feeds it appears in are pinged.
    (root / "content" / "diary.md").write_text(UNSIZED.replace("Day one.", "Day one, revised."), encoding="utf-8")
    server.clear_log()
    with syndicate.Site.open(root) as site:
        site.build(now=NOW + timedelta(minutes=10))
    changed = {url for _, url in _pings(server)}
    assert changed == {
        f"{base}/{folder}{name}"
        for folder in ("", "tags/festivals/", "around-the-web/")
        for name in ("rss.xml", "atom.xml", "feed.json")
    }


def test_a_failing_hub_is_reported_and_does_not_fail_the_build(make_site: SiteFactory, server: HTTPServer) -> None:
    server.clear()

    def refuse(request: Request) -> Response:
        return Response("no", status=503)

    server.expect_request("/down", method="POST").respond_with_handler(refuse)
    root = make_site({"diary.md": UNSIZED}, _hub_config(server.url_for("/down"), "http://127.0.0.1:9/closed"))
    with syndicate.Site.open(root) as site:
        result = site.build(now=NOW)
    assert (root / "public" / "rss.xml").is_file()
    outcomes = {p.hub: p for p in result.websub}
    assert outcomes[server.url_for("/down")].status == 503 and not outcomes[server.url_for("/down")].ok
    closed = outcomes["http://127.0.0.1:9/closed"]
    assert closed.status is None and closed.error
    assert any("WebSub" in problem.message for problem in result.problems)
