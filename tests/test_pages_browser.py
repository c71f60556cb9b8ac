"""The sign-up, confirmation, preferences and unsubscribe pages in headless Chromium at phone width.

Each page is fetched over HTTP from the running app (for a reader with a
long, unbreakable address, the worst case for width), laid out at 375 px
and measured: no horizontal scrolling, nothing past the right edge, text at
a readable size, buttons big enough to tap. A screenshot of each is written
too (kept under the test's temporary folder) for a human to look at.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from browser import needs_chromium, shots
from signup_server import Served, confirmation_link, messages_to, served
from smtp_relay import Relay, relay

__all__ = ["relay", "served"]


pytestmark = needs_chromium("page layout not checked")

WIDTH = 375
LONG_ADDRESS = "maximilian.featherstonehaugh-wolfeschlegelsteinhausen@subdomain.example.com"
_MARKER = "syndicate-page-measure"

# Reported from inside the page: how wide it is, the right edge of every element, the smallest text, the
# smallest button.
_SCRIPT = """<script>
window.addEventListener('load', function () {
  var doc = document.documentElement, right = 0, smallest = 99, button = 99;
  document.querySelectorAll('body *').forEach(function (el) {
    var box = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (style.position === 'absolute' && box.right < 0) return;  // the honeypot, placed off screen on purpose
    if (box.width === 0 || box.height === 0) return;
    right = Math.max(right, box.right);
    if (el.childNodes.length && Array.prototype.some.call(el.childNodes, function (n) {
        return n.nodeType === 3 && n.textContent.trim(); })) {
      smallest = Math.min(smallest, parseFloat(style.fontSize));
    }
    if (el.tagName === 'BUTTON') button = Math.min(button, box.height);
  });
  parent.postMessage(JSON.stringify({scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth,
    right: right, smallestText: smallest, smallestButton: button}), '*');
});
</script>"""
_HARNESS = """<!doctype html><html><body style="margin:0">
<iframe src="{src}" style="border:0;width:{width}px;height:1400px"></iframe>
<script>window.addEventListener('message', function (e) {{
  var out = document.createElement('pre'); out.id = '{marker}'; out.textContent = e.data;
  document.body.appendChild(out); }});</script></body></html>"""


def measure_page(document: str, name: str, workdir: Path) -> dict[str, Any]:
    page = workdir / f"{name}.html"
    page.write_text(document.replace("</body>", _SCRIPT + "</body>", 1), encoding="utf-8")
    harness = workdir / f"{name}-harness.html"
    harness.write_text(_HARNESS.format(src=page.name, width=WIDTH, marker=_MARKER), encoding="utf-8")
    done = shots.run_chromium(
        ["--window-size=800,1400", "--virtual-time-budget=5000", "--dump-dom", harness.as_uri()],
        workdir / f"profile-{name}",
    )
    found = re.search(rf'<pre id="{_MARKER}">(.*?)</pre>', done.stdout, re.S)
    assert found, f"chromium printed no measurement (exit {done.returncode}): {done.stderr[-500:]}"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


def screenshot(document: str, name: str, workdir: Path) -> Path:
    # A window narrower than 500 px is refused by headless Chromium: frame the page at 375 px instead.
    page = workdir / f"{name}-shot.html"
    page.write_text(document, encoding="utf-8")
    frame = workdir / f"{name}-frame.html"
    frame.write_text(
        f'<!doctype html><body style="margin:0"><iframe src="{page.name}" '
        f'style="border:0;width:{WIDTH}px;height:900px"></iframe></body>',
        encoding="utf-8",
    )
    target = workdir / f"{name}-{WIDTH}.png"
    shots.run_chromium(
        ["--window-size=500,900", "--virtual-time-budget=3000", f"--screenshot={target}", frame.as_uri()],
        workdir / f"profile-shot-{name}",
    )
    return target


@pytest.fixture
def pages(served: Served, relay: Relay) -> dict[str, str]:
    """Every page a reader meets, as the app serves it to a reader with a very long address."""
    out: dict[str, str] = {}
    status, out["subscribe"], _ = served.request("/subscribe")
    assert status == 200
    body = urlencode({"email": LONG_ADDRESS, "name": "Maximilian Featherstonehaugh"}).encode()
    status, out["check-inbox"], _ = served.request("/subscribe", body)
    assert status == 200
    link = served.local(confirmation_link(messages_to(relay, LONG_ADDRESS)[0]))
    status, out["confirmation"], _ = served.request(link)
    assert status == 200 and "Yes, subscribe me" in out["confirmation"]
    status, out["confirmed"], _ = served.request(link, b"")
    assert status == 200
    subscriber = served.site.store.subscribers.find(LONG_ADDRESS)
    assert subscriber is not None
    preferences = f"/unsubscribe?token={served.app.signer.token(subscriber.id, subscriber.email)}"
    status, out["preferences"], _ = served.request(preferences)
    assert status == 200 and "Take a break" in out["preferences"]
    status, out["unsubscribed"], _ = served.request(preferences, b"List-Unsubscribe=One-Click")
    assert status == 200 and "no more newsletters" in out["unsubscribed"]
    return out


@pytest.mark.parametrize(
    "name", ["subscribe", "check-inbox", "confirmation", "confirmed", "preferences", "unsubscribed"]
)
def test_pages_fit_a_phone_and_read_well(pages: dict[str, str], name: str, tmp_path: Path) -> None:
    found = measure_page(pages[name], name, tmp_path)
    assert found["innerWidth"] == WIDTH
    assert found["scrollWidth"] <= WIDTH, f"{name} scrolls sideways at {WIDTH} px: {found['scrollWidth']} px wide"
    assert found["right"] <= WIDTH + 0.5, f"something on {name} reaches {found['right']} px"
    assert found["smallestText"] >= 14, f"text on {name} is {found['smallestText']} px"
    if name in ("subscribe", "confirmation", "preferences"):
        assert found["smallestButton"] >= 44, f"a button on {name} is {found['smallestButton']} px tall"
    shot = screenshot(pages[name], name, tmp_path)
    assert shot.stat().st_size > 5000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
