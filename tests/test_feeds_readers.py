"""Real readers subscribe: public/ served on 127.0.0.1, read by feedparser over HTTP and by newsboat."""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from conftest import REPO

import syndicate
from syndicate import Article

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("America/Chicago"))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=["sample", "demo"])
def served(
    request: pytest.FixtureRequest, sample_site: Path, tmp_path: Path
) -> Iterator[tuple[str, Path, list[Article], int]]:
    """A site built and served over HTTP: (base URL, public/, published articles, feed limit)."""
    root = sample_site
    if request.param == "demo":
        if not (REPO / "content").is_dir():
            pytest.skip("the demo site has no content/ yet")
        root = tmp_path / "demo"
        shutil.copytree(REPO / "content", root / "content")
        shutil.copy(REPO / "syndicate.toml", root / "syndicate.toml")
    with syndicate.Site.open(root) as site:
        result = site.build(now=NOW)
        published = site.collection.published(NOW)
        limit = site.config.feeds.limit
    handler = functools.partial(_QuietHandler, directory=str(result.out_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", result.out_dir, published, limit
    finally:
        server.shutdown()
        server.server_close()


def test_feedparser_subscribes_over_http(served: tuple[str, Path, list[Article], int]) -> None:
    base, _, published, limit = served
    expected = [a.title for a in published[:limit]]
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse(f"{base}/{name}")
        assert parsed.status == 200
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert [e.title for e in parsed.entries] == expected
        assert [e.id for e in parsed.entries] == [a.id for a in published[:limit]]
    author = published[0].author
    assert author is not None
    theirs = [a.title for a in published if a.author and a.author.slug == author.slug][:limit]
    parsed = feedparser.parse(f"{base}/authors/{author.slug}/atom.xml")
    assert [e.title for e in parsed.entries] == theirs


def _newsboat_items(url: str, folder: Path) -> list[tuple[str, str, str, str]]:
    """Subscribe newsboat to ``url`` alone (it keys items by GUID across feeds) and read its cache."""
    home = folder / "home"
    home.mkdir(parents=True)
    urls = folder / "urls"
    urls.write_text(url + "\n", encoding="utf-8")
    cache = folder / "cache.db"
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home)}
    run = subprocess.run(
        ["newsboat", "-x", "reload", "-u", str(urls), "-c", str(cache)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT feedurl, title, guid, url, author FROM rss_item").fetchall()
    assert {row[0] for row in rows} <= {url}
    return [(title, guid, link, author) for _, title, guid, link, author in rows]


@pytest.mark.client
@pytest.mark.skipif(shutil.which("newsboat") is None, reason="newsboat is not installed (apt-get install newsboat)")
def test_newsboat_subscribes_and_stores_every_item(
    served: tuple[str, Path, list[Article], int], tmp_path: Path
) -> None:
    base, _, published, limit = served
    newest = published[:limit]
    for name in ("rss.xml", "atom.xml"):
        items = _newsboat_items(f"{base}/{name}", tmp_path / name)
        assert len(items) == len(newest), name
        assert sorted(title for title, *_ in items) == sorted(a.title for a in newest)
        assert {guid for _, guid, _, _ in items} == {a.id for a in newest}
        assert {link for _, _, link, _ in items} == {a.url for a in newest}
        authors = {a.id: a.author.name for a in newest if a.author}
        assert all(authors.get(guid, author) == author for _, guid, _, author in items), name
    tag = next(t.slug for a in published for t in a.tags)
    tagged = [a.title for a in published if tag in {t.slug for t in a.tags}][:limit]
    items = _newsboat_items(f"{base}/tags/{tag}/rss.xml", tmp_path / "tag")
    assert sorted(title for title, *_ in items) == sorted(tagged)
