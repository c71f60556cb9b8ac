"""Identity that never moves: GUIDs survive renames, slug, title and date edits, a lost id and a touch.

Each change is followed by a build, and the feeds are read back in all three
formats and by newsboat (real, subscribed over HTTP on loopback): the story
keeps its GUID and newsboat stores no new item. A changed permalink leaves a
redirect in ``_redirects`` and ``redirects.map``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from conftest import SiteFactory
from test_feeds_readers import _newsboat_items, _QuietHandler

import syndicate

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("Europe/London"))

WITHOUT_ID = """\
---
title: The Projectionist's Last Reel
date: 2026-11-20 09:00
tags: [cinemas]
---
A story about the last projectionist in town.
"""
DESK = "A Desk Story About Festivals\n\nWritten at the desk.\n\nJane Doe covers festivals for Test Reel.\n"


def _guids(public: Path) -> dict[str, set[str]]:
    """Each format's GUIDs of the site feed."""
    rss = feedparser.parse((public / "rss.xml").read_bytes())
    atom = feedparser.parse((public / "atom.xml").read_bytes())
    feed = json.loads((public / "feed.json").read_text(encoding="utf-8"))
    return {
        "rss": {e.id for e in rss.entries},
        "atom": {e.id for e in atom.entries},
        "json": {i["id"] for i in feed["items"]},
    }


def _build(root: Path, minutes: int) -> None:
    with syndicate.Site.open(root) as site:
        site.build(now=NOW + timedelta(minutes=minutes))


def test_guids_survive_every_change_to_a_file(make_site: SiteFactory) -> None:
    root = make_site({"projectionist.md": WITHOUT_ID, "desk.txt": DESK})
    desk = root / "content" / "desk.txt"
    stamp = (NOW - timedelta(days=3)).timestamp()
    os.utime(desk, (stamp, stamp))
    _build(root, 0)
    public = root / "public"
    first = _guids(public)
    assert first["rss"] == first["atom"] == first["json"] and len(first["rss"]) == 2

    steps: list[Callable[[Path], object]] = [
        lambda c: (c / "projectionist.md").rename(c / "last-reel.md"),  # rename the file
        lambda c: (c / "last-reel.md").write_text(WITHOUT_ID.replace("tags:", "slug: final-reel\ntags:")),  # new slug
        lambda c: (c / "last-reel.md").write_text(
            WITHOUT_ID.replace("tags:", "slug: final-reel\ntags:").replace("Last Reel", "Final Reel")
        ),  # new title
        lambda c: (c / "last-reel.md").write_text(
            WITHOUT_ID.replace("tags:", "slug: final-reel\ntags:")
            .replace("Last Reel", "Final Reel")
            .replace("2026-11-20 09:00", "2026-11-21 10:00")
        ),  # new date
        lambda c: os.utime(c / "desk.txt", (stamp + 86_400, stamp + 86_400)),  # touch the plain-text file
    ]
    for number, step in enumerate(steps, start=1):
        step(root / "content")
        _build(root, number)
        assert _guids(public) == first, f"step {number} changed a GUID"

    redirects = (public / "_redirects").read_text(encoding="utf-8")
    assert "/projectionist/ /final-reel/ 301" in redirects
    assert "/projectionist/ /final-reel/;" in (public / "redirects.map").read_text(encoding="utf-8")


def test_removing_an_id_keeps_it_and_changing_it_is_reported(make_site: SiteFactory) -> None:
    with_id = WITHOUT_ID.replace("---\ntitle", "---\nid: urn:uuid:11111111-2222-3333-4444-555555555555\ntitle")
    root = make_site({"story.md": with_id})
    _build(root, 0)
    first = _guids(root / "public")
    assert first["rss"] == {"urn:uuid:11111111-2222-3333-4444-555555555555"}
    (root / "content" / "story.md").write_text(WITHOUT_ID, encoding="utf-8")  # the id line removed
    _build(root, 1)
    assert _guids(root / "public") == first
    (root / "content" / "story.md").write_text(with_id.replace("555555555555", "999999999999"), encoding="utf-8")
    with syndicate.Site.open(root) as site:
        problems = [p.message for p in site.collection.problems]
    assert any("its 'id' changed from" in m and "555555555555" in m for m in problems), problems


@pytest.mark.client
@pytest.mark.skipif(shutil.which("newsboat") is None, reason="newsboat is not installed (apt-get install newsboat)")
def test_newsboat_sees_no_new_item_after_a_rename_and_a_touch(make_site: SiteFactory, tmp_path: Path) -> None:
    import threading
    from functools import partial
    from http.server import ThreadingHTTPServer

    root = make_site({"projectionist.md": WITHOUT_ID, "desk.txt": DESK})
    stamp = (NOW - timedelta(days=3)).timestamp()
    os.utime(root / "content" / "desk.txt", (stamp, stamp))
    _build(root, 0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root / "public")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/rss.xml"
        before = _newsboat_items(url, tmp_path / "one")
        (root / "content" / "projectionist.md").rename(root / "content" / "renamed.md")
        os.utime(root / "content" / "desk.txt", (stamp + 3600, stamp + 3600))
        _build(root, 5)
        # The same newsboat cache, reloaded: no item is new.
        shutil.copytree(tmp_path / "one", tmp_path / "two", dirs_exist_ok=True)
        shutil.rmtree(tmp_path / "two" / "home")
        after = _newsboat_items(url, tmp_path / "two")
    finally:
        server.shutdown()
        server.server_close()
    assert len(after) == len(before) == 2
    assert {guid for _, guid, _, _ in after} == {guid for _, guid, _, _ in before}
