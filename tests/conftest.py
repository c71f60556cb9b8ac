"""Shared fixtures: throwaway sites built from the demo or from articles given inline."""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pytest_httpserver import HTTPServer

REPO = Path(__file__).resolve().parent.parent
DEMO_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("America/Chicago"))

BASIC_CONFIG = """\
[site]
title = "Test Reel"
url = "https://test.example.org"
timezone = "Europe/London"
description = "A test site"
"""


def spy_on_first_arguments(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[object]:
    """Wrap ``owner.name`` so every call's first argument is recorded (in order) in the list returned."""
    seen: list[object] = []
    original = getattr(owner, name)

    def recording(first: object, *args: object, **kwargs: object) -> object:
        seen.append(first)
        return original(first, *args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return seen


# Plain-text articles carry no date; the loader takes the file's mtime (with a
# warning). A git checkout sets every mtime to "now", so tests pin them here.
DEMO_PLAINTEXT_DATES = {
    "lakeshore-festival-closing-diary.txt": datetime(2026, 10, 6, 8, 0, tzinfo=ZoneInfo("America/Chicago")),
    "paper-lantern-studio-visit.txt": datetime(2026, 10, 27, 9, 0, tzinfo=ZoneInfo("America/Chicago")),
    "hollow-pines-set-visit.txt": datetime(2026, 10, 9, 10, 0, tzinfo=ZoneInfo("America/Chicago")),
    "marisol-echeverria-career-profile.txt": datetime(2026, 10, 22, 8, 30, tzinfo=ZoneInfo("America/Chicago")),
    "nitrate-hunters-silent-film-archives.txt": datetime(2026, 11, 12, 7, 45, tzinfo=ZoneInfo("America/Chicago")),
    "fall-box-office-midseason-report.txt": datetime(2026, 11, 17, 11, 0, tzinfo=ZoneInfo("America/Chicago")),
}


@pytest.fixture
def demo_site(tmp_path: Path) -> Path:
    """A private copy of the bundled demo site (the repository root), plain-text dates pinned."""
    site = tmp_path / "demo"
    site.mkdir()
    shutil.copy(REPO / "syndicate.toml", site / "syndicate.toml")
    for folder in ("content", "feeds", "templates"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, site / folder)
    for name, moment in DEMO_PLAINTEXT_DATES.items():
        path = site / "content" / name
        if path.exists():
            os.utime(path, (moment.timestamp(), moment.timestamp()))
    return site


SiteFactory = Callable[..., Path]


def allowing_loopback_sources(config: str) -> str:
    """``config`` with ``[sources] allow_private = true``, unless it sets the key itself.

    Outside feeds in tests are pytest-httpserver on 127.0.0.1, which the
    fetcher refuses by default; every test site allows it here, in one place.
    Tests of the refusal write ``allow_private = false`` themselves.
    """
    if re.search(r"^\s*allow_private\s*=", config, re.MULTILINE):
        return config
    header = re.search(r"^[ \t]*\[[ \t]*sources[ \t]*\][ \t]*(?:#.*)?$", config, re.MULTILINE)
    if header is None:
        return config.rstrip("\n") + "\n\n[sources]\nallow_private = true\n"
    return config[: header.end()] + "\nallow_private = true" + config[header.end() :]


@pytest.fixture
def make_site(tmp_path: Path) -> SiteFactory:
    """Build a site from ``{filename: text}``; text is dedented."""

    def factory(articles: dict[str, str], config: str = BASIC_CONFIG, name: str = "site") -> Path:
        site = tmp_path / name
        (site / "content").mkdir(parents=True, exist_ok=True)
        (site / "syndicate.toml").write_text(allowing_loopback_sources(textwrap.dedent(config)), encoding="utf-8")
        for filename, text in articles.items():
            (site / "content" / filename).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return site

    return factory


@pytest.fixture
def sample_site(make_site: SiteFactory) -> Path:
    """A small site using every feed feature (see tests/sample_site.py)."""
    from sample_site import SAMPLE_ARTICLES, SAMPLE_CONFIG

    return make_site(SAMPLE_ARTICLES, SAMPLE_CONFIG, name="sample")


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    """A real HTTP server on 127.0.0.1 standing in for outside feed sites.

    Threaded, so a slow or endless response does not hold up the other sources.
    """
    http = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    http.start()
    yield http
    http.clear()
    http.stop()


# An article with a permanent id, for tests that edit or rename it.
ARTICLE_WITH_ID = """\
---
id: urn:uuid:0b6c9a8e-1d1f-4c1e-8a57-5d1c1a000001
title: Festival Opens
date: 2026-10-14 09:30
author: Jane Doe
tags: [festivals]
---
The festival opened.
"""
