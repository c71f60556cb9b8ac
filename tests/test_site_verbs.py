"""The facade verbs behind `related`, `cron-line`, `newsletter check-dns`: called from Python, as a user would."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest

import syndicate

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_cron_line_names_the_site_and_creates_the_log_folder(demo_site: Path, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "reel.log"
    with syndicate.Site.open(demo_site, read_secrets=False) as site:
        cron = site.cron_line("0 * * * *", log=log)
    assert isinstance(cron, syndicate.CronLine)
    assert cron.line.startswith("0 * * * * cd ") and log.parent.is_dir()
    assert shlex.split(cron.command)[1] == str(demo_site.resolve())
    assert cron.as_json()["log"] == str(log) and cron.as_json()["has_secrets"] is False


def test_related_with_the_outside_stream_says_how_many_were_considered(demo_site: Path) -> None:
    with syndicate.Site.open(demo_site) as site:
        own_only = site.related("hollow-pines-set-visit", count=2, now=NOW)
        with_outside = site.related("hollow-pines-set-visit", count=2, outside=True, now=NOW)
    assert own_only.outside is None and "outside" not in own_only.as_json()
    assert with_outside.outside == () and with_outside.outside_count == 0  # nothing fetched in this copy
    assert with_outside.as_json()["outside"] == []
    assert [p.slug for p in own_only.picks] == [p.slug for p in with_outside.picks]


def test_check_dns_without_a_from_address_is_a_config_error(demo_site: Path) -> None:
    with syndicate.Site.open(demo_site) as site, pytest.raises(syndicate.ConfigError, match="smtp"):
        site.check_dns(offline=True)
