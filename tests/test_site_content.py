"""site.check() and site.import_plaintext(): ``syndicate check`` and ``import`` from Python."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SiteFactory

import syndicate
from syndicate.cli import main

GOOD = """\
---
title: Festival Opens
date: 2026-11-19 09:00
---
The festival opened.
"""

BROKEN = """\
---
title: [unclosed
---
Body.
"""

DESK_COPY = "Festival Wrap\n\nIt ended.\n\nMORE: Festival Opens\n"


def test_check_lists_the_problems_of_config_and_articles_in_one_json_shape(make_site: SiteFactory) -> None:
    config = '[site]\ntitle = "T"\nurl = "https://t.example.org"\n[sources]\nmerged_limit = 5\n'
    site = syndicate.Site.open(make_site({"good.md": GOOD, "broken.md": BROKEN}, config))
    report = site.check()
    assert report.articles == 1
    assert [p.path for p in report.errors] == ["content/broken.md"]
    shape = report.as_json()
    assert shape["errors"] == 1 and shape["warnings"] == len(report.problems) - 1
    assert shape["problems"] == [p.as_json() for p in report.problems]
    assert any("[sources] merged_limit is deprecated" in p.message for p in report.problems)
    assert site.config.merged.limit == 5


def test_import_plaintext_writes_markdown_and_refuses_one_slug_for_several_files(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    site = syndicate.Site.open(make_site({"festival-opens.md": GOOD}))
    desk = tmp_path / "desk"
    desk.mkdir()
    (desk / "wrap.txt").write_text(DESK_COPY, encoding="utf-8")
    (desk / "other.txt").write_text("Other Story\n\nText.\n", encoding="utf-8")
    with pytest.raises(syndicate.InvalidArgumentError, match="2 files"):
        site.import_plaintext([desk], slug="one", date=datetime(2026, 11, 20, 8, tzinfo=UTC))
    refused = CliRunner().invoke(main, ["import", "--site", str(site.root), str(desk), "--slug", "one"])
    assert refused.exit_code == 2 and "--slug names one story, but 2 files were given" in refused.output
    [result] = site.import_plaintext([desk / "wrap.txt"], date=datetime(2026, 11, 20, 8, tzinfo=UTC), keep=True)
    assert result.written == site.config.content_dir / "festival-wrap.md"
    assert (desk / "wrap.txt").exists()
    assert "festival-wrap" in {a.slug for a in site.collection}
