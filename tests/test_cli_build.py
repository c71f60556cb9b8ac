"""The CLI of the foundation: build, check, import, --help through every entry point, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ARTICLE_WITH_ID, REPO, SiteFactory

from syndicate.cli import ExitCode, main

GOOD = ARTICLE_WITH_ID

BROKEN = {
    "no-title.md": "---\ndate: 2026-10-01\n---\nbody\n",
    "bad-date.md": "---\ntitle: X\ndate: next tuesday\n---\nbody\n",
    "bad-yaml.md": "---\ntitle: [unclosed\ndate: 2026-10-01\n---\nbody\n",
    "bad-tags.md": "---\ntitle: Y\ndate: 2026-10-01\ntags: [ok, {a: b}]\n---\nbody\n",
    "empty.txt": "",
}


def _broken_site(make_site: SiteFactory) -> Path:
    site = make_site({"festival-opens.md": GOOD, **BROKEN})
    (site / "content" / "latin1.md").write_bytes("---\ntitle: Café\ndate: 2026-10-01\n---\n".encode("latin-1"))
    return site


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_reports_every_problem_at_once(make_site: SiteFactory) -> None:
    site = _broken_site(make_site)
    code, out, _ = _run("check", "--site", str(site))
    assert code == ExitCode.PROBLEMS
    for name in (*BROKEN, "latin1.md"):
        assert f"content/{name}" in out
    assert "1 articles, 6 errors" in out


def test_check_json_lists_problems_with_file_line_and_severity(make_site: SiteFactory) -> None:
    site = _broken_site(make_site)
    code, out, _ = _run("check", "--site", str(site), "--json")
    assert code == ExitCode.PROBLEMS
    report = json.loads(out)
    assert report["articles"] == 1 and report["errors"] == 6
    errors = {p["path"]: p for p in report["problems"] if p["severity"] == "error"}
    assert set(errors) == {f"content/{name}" for name in (*BROKEN, "latin1.md")}
    assert errors["content/bad-date.md"]["line"] == 3
    assert "unparsable date" in errors["content/bad-date.md"]["message"]


def test_check_passes_a_clean_site_and_strict_fails_on_warnings(make_site: SiteFactory) -> None:
    site = make_site({"festival-opens.md": GOOD})
    assert _run("check", "--site", str(site))[0] == ExitCode.OK
    # A missing id and an unknown key are warnings: exit 0, but 1 under --strict.
    other = GOOD.replace("id: urn:uuid:0b6c9a8e-1d1f-4c1e-8a57-5d1c1a000001\n", "subtitle: x\n")
    (site / "content" / "other.md").write_text(other.replace("Festival Opens", "Another Story"))
    code, out, _ = _run("check", "--site", str(site))
    assert code == ExitCode.OK and "0 errors, 2 warnings" in out
    assert _run("check", "--site", str(site), "--strict")[0] == ExitCode.PROBLEMS


def test_build_skips_broken_articles_writes_the_rest_and_fails_only_under_strict(make_site: SiteFactory) -> None:
    site = _broken_site(make_site)
    code, out, err = _run("build", "--site", str(site), "--now", "2026-11-26T12:00")
    assert code == ExitCode.OK
    assert "content/bad-yaml.md:" in err and "error: bad YAML" in err
    assert "6 article(s) skipped" in out
    rss = (site / "public" / "rss.xml").read_text()
    assert "Festival Opens" in rss
    code, _, err = _run("build", "--site", str(site), "--strict", "--now", "2026-11-26T12:00")
    assert code == ExitCode.PROBLEMS
    assert "content/empty.txt:1: error: empty file" in err  # reported again: the manifest keeps problems


def test_build_json_and_out_folder(make_site: SiteFactory, tmp_path: Path) -> None:
    site = make_site({"festival-opens.md": GOOD})
    out = tmp_path / "www"
    code, stdout, _ = _run("build", "--site", str(site), "--out", str(out), "--json")
    assert code == ExitCode.OK
    report = json.loads(stdout)
    assert report["published"] == 1 and report["feed_sets"] == 4
    assert sorted(Path(p).relative_to(out).as_posix() for p in report["written"]) == sorted(
        [
            f"{folder}{name}"
            for folder in ("", "tags/festivals/", "authors/jane-doe/", "around-the-web/")
            for name in ("rss.xml", "atom.xml", "feed.json")
        ]
        + ["feed.xsl", "feed.css", "related.json", "feeds/index.html"]
    )
    assert not (site / "public").exists()
    code, stdout, _ = _run("build", "--site", str(site), "--out", str(out), "--json")
    assert json.loads(stdout)["written"] == [] and json.loads(stdout)["up_to_date"]


def test_build_rejects_a_bad_now(make_site: SiteFactory) -> None:
    site = make_site({"festival-opens.md": GOOD})
    code, _, err = _run("build", "--site", str(site), "--now", "someday")
    assert code == ExitCode.USAGE and "--now" in err


def test_import_cli_writes_markdown_with_front_matter(make_site: SiteFactory, tmp_path: Path) -> None:
    site = make_site({"festival-opens.md": GOOD})
    source = tmp_path / "wrap.txt"
    source.write_text(
        "Festival Wrap\n\nIt ended.\n\nMORE: Festival Opens\n\n"
        "Based in Leeds, Omar Haddad writes about restorations.\n",
        encoding="utf-8",
    )
    code, out, err = _run("import", "--site", str(site), str(source), "--date", "2026-11-20 08:00")
    assert code == ExitCode.OK, err
    # The slug comes from the headline, not the CMS's file name; the original moves out of the way.
    written = site / "content" / "festival-wrap.md"
    moved = site / "content" / ".imported" / "wrap.txt"
    assert f"-> {written}" in out and not source.exists() and moved.is_file()
    text = written.read_text()
    assert "id: tag:test.example.org,2026-11-20:festival-wrap" in text and "date: 2026-11-20T08:00+00:00" in text
    assert "author: Omar Haddad" in text and "author_bio" not in text
    record = (site / "content" / "authors" / "omar-haddad.md").read_text()
    assert "name: Omar Haddad" in record and "Based in Leeds, Omar Haddad writes about restorations." in record
    # Again without --overwrite: refused, named, exit 1; with --json and no --date: the mtime warning.
    code, out, _ = _run("import", "--site", str(site), str(moved), "--keep", "--json")
    assert code == ExitCode.PROBLEMS
    [report] = json.loads(out)
    messages = [p["message"] for p in report["problems"]]
    assert any("using the file's modification time" in m for m in messages)
    assert any("exists already (use --overwrite)" in m for m in messages)
    source = moved
    code, _, err = _run("import", "--site", str(site), str(source), "--date", "yesterday-ish")
    assert code == ExitCode.USAGE and "--date" in err


ENTRY_POINTS = {
    "python -m syndicate": [sys.executable, "-m", "syndicate"],
    "python cli.py": [sys.executable, str(REPO / "cli.py")],
    "console script": [str(Path(sys.executable).with_name("syndicate"))],
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_help_works_through_every_entry_point(entry: str, tmp_path: Path) -> None:
    command = ENTRY_POINTS[entry]
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    run = subprocess.run([*command, "--help"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "Usage: syndicate" in run.stdout
    for name in ("build", "check", "import"):
        assert name in run.stdout
    assert "Exit codes: 0 ok" in run.stdout and "3 bad config" in run.stdout
    run = subprocess.run([*command, "build", "--help"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0 and "Examples:" in run.stdout and "--strict" in run.stdout


def test_console_script_builds_a_site(make_site: SiteFactory) -> None:
    site = make_site({"festival-opens.md": GOOD})
    run = subprocess.run(
        [*ENTRY_POINTS["python -m syndicate"], "build", "--site", str(site)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert (site / "public" / "tags" / "festivals" / "atom.xml").is_file()


def test_build_fetch_merges_outside_stories_and_reports_failed_sources(demo_site: Path) -> None:
    code, out, _ = _run("build", "--fetch", "--strict", "--json", "--site", str(demo_site))
    assert code == ExitCode.PARTIAL  # a failing source fails the run only under --strict
    report = json.loads(out)
    assert report["fetch"]["new_entries"] > 0
    # The demo's deliberately broken source (an HTML page) is named with its problem.
    failed = {f["url"]: f["error"] for f in report["fetch"]["failed"]}
    assert any(url.endswith("projection-booth.xml") and "HTML" in error for url, error in failed.items())
    film_news = (demo_site / "public" / "film-news" / "rss.xml").read_text(encoding="utf-8")
    assert "<source " in film_news  # outside items are credited to their source

    # Without --strict the build succeeds; nothing new arrives the second time.
    code, out, _ = _run("build", "--fetch", "--json", "--site", str(demo_site))
    assert code == ExitCode.OK
    assert json.loads(out)["fetch"]["new_entries"] == 0


def test_a_build_with_nothing_to_do_loads_neither_the_newsletter_nor_the_related_engine(demo_site: Path) -> None:
    # Cron runs `syndicate build` often; when nothing changed it should not pay for importing
    # the newsletter (Jinja2, MJML), the related engine (numpy, scipy) or fetching (h11).
    probe = (
        "import sys\n"
        "from syndicate.cli import main\n"
        "try:\n"
        f"    main(['build', '--site', {str(demo_site)!r}])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "heavy = ('numpy', 'scipy', 'jinja2', 'mjml', 'httpx', 'h11', 'feedparser', 'email_validator')\n"
        "print('loaded:', *(m for m in heavy if m in sys.modules))\n"
    )

    def loaded() -> list[str]:
        run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        return run.stdout.strip().splitlines()[-1].split()[1:]

    assert "numpy" in loaded()  # a real build computes related stories
    assert loaded() == []


def test_the_newsletter_api_loads_on_first_use() -> None:
    import syndicate

    assert {"build_issue", "send_newsletter", "unsubscribe_app"} <= set(dir(syndicate))
    from syndicate import build_issue

    assert syndicate.build_issue is build_issue
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = syndicate.no_such_thing  # type: ignore[attr-defined]
