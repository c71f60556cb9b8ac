"""Look at a newsletter issue the way a phone and a desktop mail client would.

Renders an issue's ``email.html`` in headless Chromium at 375 px and 600 px
wide, writes a screenshot of each, and measures the page: the document's
scroll width (anything over the viewport width is horizontal scrolling) and
the box of every story headline (``.story-headline``).

    python bench/screenshot_newsletter.py                       # builds a sample issue first
    python bench/screenshot_newsletter.py public/newsletter/2026-W47/email.html --out /tmp/shots

Images point at the publisher's servers, which a test machine cannot reach;
the measured copy swaps each for a grey placeholder of the same width and
height, and no request leaves the machine (every host resolves to nothing).
The tests import :func:`measure` from here.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from base64 import b64encode
from pathlib import Path
from typing import Any

WIDTHS = (375, 600)
MARKER_ID = "syndicate-measure"

_MEASURE_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var doc = document.documentElement;
  var result = {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, titles: []};
  document.querySelectorAll('.story-headline').forEach(function (h) {
    var box = h.getBoundingClientRect(), style = getComputedStyle(h);
    result.titles.push({text: h.textContent.trim(), left: box.left, right: box.right, width: box.width,
      height: box.height, visible: style.visibility !== 'hidden' && style.display !== 'none'});
  });
  parent.postMessage(JSON.stringify(result), '*');
});
</script>
"""
_IMG = re.compile(r"<img\b[^>]*>", re.I)
_ATTR = re.compile(r'\b(width|height|src)="([^"]*)"', re.I)


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _placeholder(width: int, height: int) -> str:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#3b3a36"/>'
        f'<stop offset="1" stop-color="#8a8171"/></linearGradient></defs>'
        f'<rect width="100%" height="100%" fill="url(#g)"/></svg>'
    )
    return "data:image/svg+xml;base64," + b64encode(svg.encode()).decode()


def offline_copy(document: str, measure_script: bool = True) -> str:
    """``document`` with every image replaced by a same-sized placeholder, plus the measuring script."""

    def swap(match: re.Match[str]) -> str:
        tag = match.group(0)
        attrs = {k.lower(): v for k, v in _ATTR.findall(tag)}
        width, height = int(attrs.get("width") or 100), int(attrs.get("height") or 100)
        return tag.replace(f'src="{attrs.get("src", "")}"', f'src="{_placeholder(width, height)}"', 1)

    page = _IMG.sub(swap, document)
    if measure_script:
        page = page.replace("</body>", _MEASURE_SCRIPT + "</body>", 1)
    return page


def as_received(document: str, name: str = "Sample Reader", email: str = "reader@example.com") -> str:
    """The email as one recipient gets it: the per-recipient markers filled in."""
    from syndicate._newsletter import placeholders
    from syndicate._newsletter.personalise import Personaliser, recipient_values

    values = recipient_values(name, email, "https://example.com/unsubscribe?token=sample", for_html=True)
    # email.html shows the fixed markers (the random ones are the sending process's own).
    return Personaliser(placeholders.translate(document, placeholders.LEGACY)).fill(values)


def run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    binary = chromium_path()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (apt-get install chromium)")
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


# Headless Chromium will not make a window narrower than 500 px, so the page is laid
# out in an iframe of the wanted width: its media queries see exactly that width.
_HARNESS = """<!doctype html><html><body style="margin:0">
<iframe src="{src}" style="border:0;width:{width}px;height:1200px"></iframe>
<script>
window.addEventListener('message', function (event) {{
  var out = document.createElement('pre');
  out.id = '{marker}';
  out.textContent = event.data;
  document.body.appendChild(out);
}});
</script></body></html>"""


def measure(document: str, width: int, workdir: Path) -> dict[str, Any]:
    """Lay ``document`` out at ``width`` px in Chromium; return scroll width, viewport width and headline boxes."""
    page = workdir / f"measure-{width}.html"
    page.write_text(offline_copy(document), encoding="utf-8")
    harness = workdir / f"harness-{width}.html"
    harness.write_text(_HARNESS.format(src=page.name, width=width, marker=MARKER_ID), encoding="utf-8")
    done = run_chromium(
        ["--window-size=800,1200", "--virtual-time-budget=5000", "--dump-dom", harness.as_uri()],
        workdir / f"profile-{width}",
    )
    match = re.search(rf'<pre id="{MARKER_ID}">(.*?)</pre>', done.stdout, re.S)
    if not match:
        raise RuntimeError(f"chromium printed no measurement (exit {done.returncode}): {done.stderr[-500:]}")
    result: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return result


def screenshot(document: str, width: int, target: Path, workdir: Path, height: int = 3200) -> Path:
    page = workdir / f"shot-{width}.html"
    page.write_text(offline_copy(document, measure_script=False), encoding="utf-8")
    run_chromium(
        [f"--window-size={width},{height}", "--virtual-time-budget=3000", f"--screenshot={target}", page.as_uri()],
        workdir / f"profile-shot-{width}",
    )
    return target


def _sample_issue(folder: Path) -> Path:
    """Build the latest week of the bundled demo site (or a synthetic one) and return its email.html."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from newsletter_bench import sample_site_issue  # type: ignore[import-not-found]

    result: Path = sample_site_issue(folder)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("html", nargs="?", type=Path, help="an email.html (default: build a sample issue)")
    parser.add_argument("--out", type=Path, default=Path("newsletter-screenshots"), help="folder for the PNGs")
    args = parser.parse_args()
    if chromium_path() is None:
        print("chromium is not installed: apt-get install chromium", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temp:
        workdir = Path(temp)
        source = args.html or _sample_issue(workdir / "site")
        document = as_received(source.read_text(encoding="utf-8"))
        print(f"{source}: {len(document.encode()) / 1024:.1f} KB")
        for width in WIDTHS:
            found = measure(document, width, workdir)
            shot = screenshot(document, width, (args.out / f"newsletter-{width}.png").resolve(), workdir)
            hidden = [t["text"] for t in found["titles"] if t["width"] <= 0 or t["right"] > found["innerWidth"] + 0.5]
            print(
                f"{width:>4} px: scroll width {found['scrollWidth']} (viewport {found['innerWidth']}), "
                f"{len(found['titles'])} headlines, {len(hidden)} cut off -> {shot}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
