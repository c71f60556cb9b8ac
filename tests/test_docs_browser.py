"""The documentation site reads on a 375 px phone, in real headless Chromium.

The site is built with ``mkdocs build --strict`` and served from loopback; the
pages with the widest content (the configuration table, the CLI reference's
option tables, the nginx and Caddy snippets, the API reference, the benchmark
and failure-mode tables) are laid out in iframes 375 px wide. None may scroll sideways: wide tables and code must scroll
inside their own boxes (Material wraps them), never the page.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from browser import LOOPBACK_ONLY, needs_chromium, shots
from conftest import REPO

WIDTH = 375
MARKER = "syndicate-docs-measure"
PAGES = [
    "",
    "tutorial/",
    "how-to/reverse-proxy/",
    "reference/cli/",
    "reference/config/",
    "reference/api/",
    "explanation/exactly-once/",
    "explanation/performance/",
    "explanation/failure-modes/",
    "explanation/feeds/",
]
pytestmark = [
    *needs_chromium("the documentation's layout not checked"),
    pytest.mark.skipif(
        importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None,
        reason="mkdocs is not installed: pip install -e '.[docs]' to build the documentation site",
    ),
]

# Every page in its own iframe of the wanted width (headless windows are at least 500 px wide); each is
# measured from outside when it has loaded (same origin, so its document can be read).
_HARNESS = """<!doctype html><html><body style="margin:0">
<div id="frames"></div>
<script>
var pages = {pages}, results = {{}}, left = pages.length;
pages.forEach(function (page) {{
  var frame = document.createElement('iframe');
  frame.style = 'border:0;width:{width}px;height:900px;display:block';
  frame.addEventListener('load', function () {{
    var doc = frame.contentDocument, view = frame.contentWindow, title = doc.querySelector('.md-content h1');
    var box = title ? title.getBoundingClientRect() : null;
    results[page] = {{scrollWidth: doc.documentElement.scrollWidth, innerWidth: view.innerWidth,
      title: title ? title.textContent.trim() : null, titleRight: box ? box.right : null}};
    if (--left === 0) {{
      var out = document.createElement('pre');
      out.id = '{marker}';
      out.textContent = JSON.stringify(results);
      document.body.appendChild(out);
    }}
  }});
  frame.src = page;
  document.getElementById('frames').appendChild(frame);
}});
</script></body></html>"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served_docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("docs")
    site = root / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", site
    finally:
        server.shutdown()
        server.server_close()


def test_docs_pages_read_at_375_px_without_sideways_scrolling(served_docs: tuple[str, Path], tmp_path: Path) -> None:
    base, site = served_docs
    (site / "measure-harness.html").write_text(
        _HARNESS.format(pages=json.dumps([base + page for page in PAGES]), width=WIDTH, marker=MARKER),
        encoding="utf-8",
    )
    done = shots.run_chromium(
        [
            LOOPBACK_ONLY,
            "--window-size=800,1400",
            "--virtual-time-budget=15000",
            "--dump-dom",
            base + "measure-harness.html",
        ],
        tmp_path / "profile",
    )
    match = re.search(rf'<pre id="{MARKER}">(.*?)</pre>', done.stdout, re.S)
    assert match, f"chromium printed no measurement (exit {done.returncode}): {done.stderr[-500:]}"
    results: dict[str, dict[str, Any]] = json.loads(html.unescape(match.group(1)))
    assert len(results) == len(PAGES)
    for page, found in results.items():
        assert found["innerWidth"] == WIDTH, page
        assert found["title"], f"{page}: no page title rendered"
        assert found["scrollWidth"] <= WIDTH, f"{page} scrolls sideways at {WIDTH} px: {found['scrollWidth']} px wide"
        assert found["titleRight"] <= WIDTH + 0.5, f"{page}: the title is cut off at {WIDTH} px"
