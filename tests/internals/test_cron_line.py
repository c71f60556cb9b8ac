"""`syndicate cron-line` prints a line that works as cron runs it: bare environment, minimal PATH, sh -c."""

from __future__ import annotations

import os
import shlex
import subprocess
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SiteFactory
from smtp_relay import Relay, relay, site_config, write_subscribers

import syndicate
from syndicate import import_subscribers
from syndicate._dates import due_week, week_window
from syndicate.cli import main

__all__ = ["relay"]

SECRET = "cron-line-secret-0123456789abcdef"


def due_site(make_site: SiteFactory, port: int, extra: str = "") -> Path:
    """A site whose due week, by the real clock (cron has no --now), has two stories."""
    site = make_site({}, site_config(port, extra=extra))
    config = syndicate.load_config(site)
    week = due_week(datetime.now(UTC), config.site.tz, "friday", "07:00")
    start, _ = week_window(week, config.site.tz)
    for n, day in enumerate((1, 3)):
        moment = (start + timedelta(days=day, hours=9)).strftime("%Y-%m-%d %H:%M")
        (site / "content" / f"story-{n}.md").write_text(
            f"---\nid: urn:test:story-{n}\ntitle: Story Number {n}\ndate: {moment}\n---\nThe story.\n",
            encoding="utf-8",
        )
    write_subscribers(site / "list.csv", 3)
    with syndicate.Site(config) as opened:
        import_subscribers(opened.store.subscribers, site / "list.csv")
    return site


def cron_line(*args: str) -> str:
    result = CliRunner().invoke(main, ["cron-line", *args])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 1, result.output
    return lines[0]


def run_as_cron(line: str) -> subprocess.CompletedProcess[str]:
    fields = line.split(None, 5)
    assert len(fields) == 6, line
    command = fields[5]
    assert "%" not in command.replace("\\%", "")  # cron would cut the line at a bare %
    return subprocess.run(
        ["env", "-i", "PATH=/usr/bin:/bin", "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )


def test_the_printed_line_runs_under_a_bare_environment_and_sends(
    make_site: SiteFactory, relay: Relay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNDICATE_SECRET", raising=False)
    site = due_site(make_site, relay.port)
    env_file = tmp_path / "secrets.env"
    # A plain KEY=value file (no `export`): what the old README's `. secrets.env` silently did not export.
    env_file.write_text(f"# syndicate secrets\nSYNDICATE_SECRET={SECRET}\n", encoding="utf-8")
    env_file.chmod(0o600)
    line = cron_line("--site", str(site), "--env-file", str(env_file), "--every", "*/10 * * * *")
    assert line.startswith("*/10 * * * * cd ")
    executable = shlex.split(line.split(None, 5)[5])[3]
    assert os.path.isabs(executable) and os.access(executable, os.X_OK)

    first = run_as_cron(line)
    assert first.returncode == 0, first.stderr + first.stdout
    assert relay.count() == 3
    log = site / ".syndicate" / "run.log"
    text = log.read_text(encoding="utf-8")
    assert " send done: " in text and " run exit 0 " in text, text

    second = run_as_cron(line)  # the next tick: nothing due, nothing printed (--quiet), nothing sent
    assert second.returncode == 0, second.stderr
    assert log.read_text(encoding="utf-8") == text
    assert relay.count() == 3


def test_a_missing_secret_is_a_clear_config_error_with_exit_3(
    make_site: SiteFactory, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNDICATE_SECRET", raising=False)
    site = due_site(make_site, relay.port, extra='secret_file = "/nonexistent/secrets.env"')
    unrelated = site / "unrelated.env"
    unrelated.write_text("SOMETHING_ELSE=1\n", encoding="utf-8")
    line = cron_line("--site", str(site), "--env-file", str(unrelated))  # read instead of secret_file: no secret
    result = run_as_cron(line)
    assert result.returncode == 3
    log = (site / ".syndicate" / "run.log").read_text(encoding="utf-8")
    assert "SYNDICATE_SECRET is not set" in log, log
    line = cron_line("--site", str(site))  # now [newsletter] secret_file counts: it names a missing file
    assert run_as_cron(line).returncode == 3
    log = (site / ".syndicate" / "run.log").read_text(encoding="utf-8")
    assert "secret file /nonexistent/secrets.env does not exist" in log, log


def test_secret_file_sources_in_order_and_the_environment_wins(
    make_site: SiteFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate._newsletter.unsubscribe import load_secret

    configured = tmp_path / "configured.env"
    configured.write_text("SYNDICATE_SECRET=from-the-config-file-0123\nOTHER_KEY=config\n", encoding="utf-8")
    named = tmp_path / "named.env"
    named.write_text("export SYNDICATE_SECRET='from-the-env-var-file-0123'\n", encoding="utf-8")
    site = make_site(
        {},
        textwrap.dedent(f"""\
            [site]
            title = "T"
            url = "https://t.example.org"
            [newsletter]
            secret_file = "{configured}"
            """),
    )
    for key in ("SYNDICATE_SECRET", "SYNDICATE_SECRET_FILE", "OTHER_KEY"):
        monkeypatch.delenv(key, raising=False)
    syndicate.Site.open(site).close()
    assert load_secret() == b"from-the-config-file-0123"
    monkeypatch.delenv("SYNDICATE_SECRET")
    monkeypatch.setenv("SYNDICATE_SECRET_FILE", str(named))
    syndicate.Site.open(site).close()
    assert load_secret() == b"from-the-env-var-file-0123"  # $SYNDICATE_SECRET_FILE before [newsletter] secret_file
    monkeypatch.setenv("SYNDICATE_SECRET", "set-in-the-environment-0123")
    syndicate.Site.open(site).close()
    assert load_secret() == b"set-in-the-environment-0123"  # the environment wins over every file
