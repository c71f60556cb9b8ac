"""The demo site builds, and its feeds read back with feedparser."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from conftest import DEMO_NOW, REPO

import syndicate

pytestmark = pytest.mark.skipif(not (REPO / "content").is_dir(), reason="the demo site has no content/ yet")


def test_demo_site_builds_feeds_that_parse(demo_site: Path) -> None:
    with syndicate.Site.open(demo_site) as site:
        result = site.build(now=DEMO_NOW)
        published = site.collection.published(DEMO_NOW)
    assert not result.errors
    out = demo_site / "public"
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert [e.title for e in parsed.entries] == [a.title for a in published[:50]]


def test_no_change_rebuild_writes_nothing(demo_site: Path) -> None:
    with syndicate.Site.open(demo_site) as site:
        first = site.build(now=DEMO_NOW)
        second = site.build(now=DEMO_NOW)
    assert first.written
    assert second.written == []
    assert second.skipped_sets == second.feed_sets
