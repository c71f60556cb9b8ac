"""The built email in headless Chromium: no horizontal scrolling and every headline visible, phone and desktop."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import needs_chromium, shots
from newsletter_samples import AFTER_WEEK, NEWSLETTER_CONFIG, WEEK, newsletter_site

import syndicate
from syndicate import build_issue

pytestmark = needs_chromium("browser layout not checked")

LONG_WORD_TITLE = "Supercalifragilisticexpialidocious-Director-Retrospective Opens In Glasgow"


@pytest.fixture(scope="module")
def email_html(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    root = tmp_path_factory.mktemp("browser")

    def make_site(articles: dict[str, str], config: str = NEWSLETTER_CONFIG, name: str = "site") -> Path:
        site = root / name
        (site / "content").mkdir(parents=True, exist_ok=True)
        (site / "syndicate.toml").write_text(config, encoding="utf-8")
        for filename, text in articles.items():
            (site / "content" / filename).write_text(text, encoding="utf-8")
        return site

    site_dir = newsletter_site(make_site)
    (site_dir / "content" / "long-word.md").write_text(
        f'---\ntitle: "{LONG_WORD_TITLE}"\ndate: 2026-11-10 09:00\ntags: [festivals]\n'
        "image: https://test.example.org/img/wide.jpg\n---\nA story with a very long word in its title.\n"
    )
    with syndicate.Site.open(site_dir) as site:
        built = build_issue(site, WEEK, now=AFTER_WEEK)
    assert built is not None
    titles = [s.article.title for s in built.issue.stories]
    # As received by a reader with a long, unbreakable address, which must not widen the page either.
    received = shots.as_received(
        (built.folder / "email.html").read_text(encoding="utf-8"),
        "Maximilian Featherstonehaugh-Wolfeschlegelsteinhausen",
        "maximilian.featherstonehaugh-wolfeschlegelsteinhausen@subdomain.example.com",
    )
    return received, titles


@pytest.mark.parametrize("width", [375, 600])
def test_no_horizontal_scrolling_and_every_title_visible(
    email_html: tuple[str, list[str]], width: int, tmp_path: Path
) -> None:
    document, titles = email_html
    found = shots.measure(document, width, tmp_path)
    assert found["innerWidth"] == width
    assert found["scrollWidth"] <= width, f"page scrolls sideways at {width} px: {found['scrollWidth']} px wide"
    assert [t["text"] for t in found["titles"]] == titles
    for title in found["titles"]:
        assert title["visible"] and title["width"] > 0 and title["height"] > 0, title
        assert title["left"] >= 0 and title["right"] <= width, f"{title['text']!r} is cut off at {width} px"


def test_screenshots_are_written(email_html: tuple[str, list[str]], tmp_path: Path) -> None:
    document, _ = email_html
    for width in (375, 600):
        target = shots.screenshot(document, width, tmp_path / f"shot-{width}.png", tmp_path, height=1600)
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
