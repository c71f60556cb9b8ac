"""Feeds a person can open: the subscribe page and the feeds themselves, in real headless Chromium.

The built ``public/`` is served over HTTP from loopback under a sub-path, as a
publisher behind a reverse proxy would serve it. Chromium opens:

* the subscribe page at 375 px: every feed listed, no sideways scrolling;
* a tag feed under the sub-path with XSLT: the stylesheet is found (relative
  link) and the feed reads as a page with its title and item links;
* the same feed with XSLT switched off (as Chromium is removing it): the CSS
  stylesheet makes its title and every item title visible, at 375 px too.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest
from browser import LOOPBACK_ONLY, needs_chromium, shots
from sample_site import SAMPLE_ARTICLES, SAMPLE_CONFIG
from test_feeds_output import SAMPLE_NOW

import syndicate

SUB_PATH = "/deep/sub/path"
MARKER = "syndicate-measure"


pytestmark = needs_chromium("feeds not seen in a browser")

# Lays the page out in an iframe of the wanted width (headless windows are at least 500 px wide), then
# measures it from outside: the iframe is same-origin, so its document can be read, XML or HTML alike.
_HARNESS = """<!doctype html><html><body style="margin:0">
<iframe id="frame" src="{src}" style="border:0;width:{width}px;height:1400px"></iframe>
<script>
document.getElementById('frame').addEventListener('load', function () {{
  var frame = document.getElementById('frame'), doc = frame.contentDocument, view = frame.contentWindow;
  var result = {{scrollWidth: doc.documentElement.scrollWidth, innerWidth: view.innerWidth, boxes: []}};
  doc.querySelectorAll({selector}).forEach(function (el) {{
    var box = el.getBoundingClientRect(), style = view.getComputedStyle(el);
    result.boxes.push({{text: el.textContent.trim(), left: box.left, right: box.right, width: box.width,
      height: box.height, visible: style.visibility !== 'hidden' && style.display !== 'none'}});
  }});
  var out = document.createElement('pre');
  out.id = '{marker}';
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
}});
</script></body></html>"""


class _QuietHandler(SimpleHTTPRequestHandler):
    # Not a ClassVar: the base class declares it an instance attribute (the handler reads self.extensions_map).
    extensions_map = SimpleHTTPRequestHandler.extensions_map | {
        ".xml": "application/xml",
        ".xsl": "text/xsl",
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """(base URL of the feeds under the sub-path, the served root, the built public/ folder)."""
    root = tmp_path_factory.mktemp("served")
    site = root / "site"
    (site / "content").mkdir(parents=True)
    (site / "syndicate.toml").write_text(SAMPLE_CONFIG, encoding="utf-8")
    import textwrap

    for name, text in SAMPLE_ARTICLES.items():
        (site / "content" / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    with syndicate.Site.open(site) as opened:
        opened.build(now=SAMPLE_NOW)
    docroot = root / "www"
    shutil.copytree(site / "public", docroot / SUB_PATH.strip("/"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(docroot)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{SUB_PATH}", docroot, site / "public"
    finally:
        server.shutdown()
        server.server_close()


def _measure(
    served: tuple[str, Path, Path], page: str, selector: str, width: int, tmp_path: Path, *flags: str
) -> dict[str, Any]:
    base, docroot, _ = served
    harness_name = f"harness-{abs(hash((page, selector, width, flags)))}.html"
    (docroot / SUB_PATH.strip("/") / harness_name).write_text(
        _HARNESS.format(src=f"{base}/{page}", width=width, selector=json.dumps(selector), marker=MARKER),
        encoding="utf-8",
    )
    done = shots.run_chromium(
        [
            *flags,
            LOOPBACK_ONLY,
            "--window-size=800,1400",
            "--virtual-time-budget=5000",
            "--dump-dom",
            f"{base}/{harness_name}",
        ],
        tmp_path / f"profile-{width}",
    )
    match = re.search(rf'<pre id="{MARKER}">(.*?)</pre>', done.stdout, re.S)
    assert match, f"chromium printed no measurement (exit {done.returncode}): {done.stderr[-500:]}"
    result: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return result


def _assert_readable(found: dict[str, Any], expected: list[str], width: int) -> None:
    assert found["innerWidth"] == width
    assert found["scrollWidth"] <= width, f"scrolls sideways at {width} px: {found['scrollWidth']} px wide"
    texts = [box["text"] for box in found["boxes"]]
    for title in expected:
        assert title in texts, (title, texts)
    for box in found["boxes"]:
        assert box["visible"] and box["width"] > 0 and box["height"] > 0, box
        assert box["left"] >= 0 and box["right"] <= width + 0.5, f"{box['text']!r} is cut off at {width} px"


def test_subscribe_page_lists_every_feed_and_reads_at_375_px(served: tuple[str, Path, Path], tmp_path: Path) -> None:
    _, _, public = served
    page = (public / "feeds" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="alternate" type="application/rss+xml"' in page
    assert 'href="https://sample.example.org/news/around-the-web/feed.json"' in page
    expected = [
        entry.title
        for folder in ("", "tags/festivals/", "authors/jane-doe/")
        for entry in [feedparser.parse((public / folder / "rss.xml").read_bytes()).feed]
    ]
    found = _measure(served, "feeds/index.html", ".feed .name", 375, tmp_path)
    _assert_readable(found, expected, 375)
    shot = tmp_path / "subscribe-375.png"
    shots.run_chromium(
        [
            LOOPBACK_ONLY,
            "--window-size=375,1400",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            f"{served[0]}/feeds/index.html",
        ],
        tmp_path / "profile-shot",
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_feed_under_a_sub_path_reads_as_a_page_through_xslt(served: tuple[str, Path, Path], tmp_path: Path) -> None:
    base, _, public = served
    feed = feedparser.parse((public / "tags" / "festivals" / "rss.xml").read_bytes())
    done = shots.run_chromium(
        [LOOPBACK_ONLY, "--virtual-time-budget=5000", "--dump-dom", f"{base}/tags/festivals/rss.xml"], tmp_path
    )
    page = done.stdout
    assert "<h1>" in page, "the XSL stylesheet was not applied: " + page[:300]
    assert html.escape(feed.feed.title, quote=False) in page
    for entry in feed.entries:
        assert f'href="{entry.link}"' in page, entry.title


@pytest.mark.parametrize("name", ["tags/festivals/rss.xml", "tags/festivals/atom.xml", "rss.xml"])
def test_a_feed_reads_without_xslt_through_its_css_stylesheet(
    served: tuple[str, Path, Path], tmp_path: Path, name: str
) -> None:
    _, _, public = served
    feed = feedparser.parse((public / name).read_bytes())
    titles = [feed.feed.title, *(entry.title for entry in feed.entries)]
    selector = "channel > title, item > title, feed > title, entry > title"
    found = _measure(served, name, selector, 375, tmp_path, "--disable-features=XSLT")
    _assert_readable(found, titles, 375)
