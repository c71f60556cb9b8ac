"""syndicate.toml: defaults, validation errors that name the file and key, and the documented key table."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, SiteFactory

import syndicate
from syndicate._config import documented_keys, load_config
from syndicate.cli import ExitCode, main

GOOD = """\
[site]
title = "Test Reel"
url = "https://test.example.org"
timezone = "Europe/London"
"""


def _config_error(make_site: SiteFactory, text: str) -> syndicate.ConfigError:
    site = make_site({}, config=text)
    with pytest.raises(syndicate.ConfigError) as caught:
        load_config(site)
    return caught.value


def test_defaults_fill_in_what_the_file_leaves_out(make_site: SiteFactory) -> None:
    config = load_config(make_site({}, config=GOOD))
    assert config.feeds.limit == 50 and config.feeds.ttl == 60
    assert config.site.language == "en" and config.site.permalink == "/{slug}/"
    assert config.output_dir == config.root / "public"
    assert config.site.tz.key == "Europe/London"


@pytest.mark.parametrize(
    ("addition", "key", "message"),
    [
        ("[feeds]\ntll = 60\n", "feeds.tll", "unknown key (did you mean 'ttl'?)"),
        ("[feed]\nttl = 60\n", "feed", "unknown table (did you mean '[feeds]'?)"),
        ("[feeds]\nlimit = '50'\n", "feeds.limit", "must be an integer, not '50'"),
        ("[feeds]\nlimit = 0\n", "feeds.limit", "must be greater than 0"),
        ("[feeds]\nfull_content = 1\n", "feeds.full_content", "must be true or false"),
        ("[sources]\nkeywords = 'film'\n", "sources.keywords", "must be a list of strings"),
        ("[smtp]\nsecurity = 'ssl'\n", "smtp.security", "must be one of"),
        ("[newsletter]\nsend_time = '\u00b2:00'\n", "newsletter.send_time", "must be a time of day"),
        ("[newsletter]\nimage_aspect = '16:\u00b2'\n", "newsletter.image_aspect", "must be width:height"),
        ("[authors.jane]\nurl = 'jane.example.org'\n", "authors.jane.url", "absolute http(s) URL"),
        ("[authors.jane]\nemail = 'jane'\n", "authors.jane.email", "email address"),
        ("[authors.jane]\nnmae = 'Jane'\n", "authors.jane.nmae", "did you mean 'name'?"),
    ],
)
def test_bad_keys_are_named_with_the_file(make_site: SiteFactory, addition: str, key: str, message: str) -> None:
    error = _config_error(make_site, GOOD + "\n" + addition)
    assert error.key == key
    assert error.file.endswith("syndicate.toml")
    assert message in str(error)
    assert f"[{key}]" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ("Europe/London", "Europe/Londn", "site.timezone", "unknown timezone 'Europe/Londn'"),
        ("https://test.example.org", "test.example.org", "site.url", "must be an absolute http(s) URL"),
        ("https://test.example.org", "ftp://test.example.org", "site.url", "must be an absolute http(s) URL"),
        ('title = "Test Reel"', "", "site.title", "is required"),
        ('timezone = "Europe/London"', 'language = "english language"', "site.language", "language tag"),
        ('timezone = "Europe/London"', 'permalink = "/posts/"', "site.permalink", "must contain {slug}"),
        ('timezone = "Europe/London"', 'permalink = "/{id}/"', "site.permalink", "unknown placeholder"),
    ],
)
def test_bad_values_are_named(make_site: SiteFactory, old: str, new: str, key: str, message: str) -> None:
    error = _config_error(make_site, GOOD.replace(old, new))
    assert error.key == key
    assert message in str(error)


def test_unparsable_toml_names_the_file(make_site: SiteFactory) -> None:
    error = _config_error(make_site, GOOD + "\n[feeds\n")
    assert "not valid TOML" in str(error) and "syndicate.toml" in str(error)


def test_missing_config_says_so(tmp_path: Path) -> None:
    with pytest.raises(syndicate.ConfigError, match=r"no syndicate\.toml here"):
        load_config(tmp_path)


@pytest.mark.parametrize("command", ["build", "check"])
@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ('timezone = "Europe/London"', 'timezone = "Mars/Olympus"', "[site.timezone]"),
        ('url = "https://test.example.org"', 'url = "test.example.org"', "[site.url]"),
        ('timezone = "Europe/London"', 'timezon = "Europe/London"', "did you mean 'timezone'?"),
    ],
)
def test_cli_exits_3_naming_file_and_key(make_site: SiteFactory, command: str, old: str, new: str, named: str) -> None:
    site = make_site({}, config=GOOD.replace(old, new))
    result = CliRunner().invoke(main, [command, "--site", str(site)])
    assert result.exit_code == ExitCode.CONFIG.value == 3
    assert named in result.stderr
    assert "syndicate.toml" in result.stderr


def test_the_demo_config_is_valid() -> None:
    config = load_config(REPO)
    assert config.site.title and config.site.url.startswith("https://")


def test_the_configuration_reference_documents_every_key_with_its_default() -> None:
    """docs/reference/config.md, as its MkDocs hook fills it in, has a row for every key the loader accepts."""
    spec = importlib.util.spec_from_file_location("docs_hook_config_keys", REPO / "docs" / ".hooks" / "config_keys.py")
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = hook.render_config_keys((REPO / "docs" / "reference" / "config.md").read_text(encoding="utf-8"))
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([^`]+)` \|.*$", page, re.M)}
    for key, _type, default, doc in documented_keys():
        assert key in rows, f"the configuration reference lacks {key}"
        assert f"`{default}`" in rows[key], f"the configuration reference gives the wrong default for {key}"
        assert doc.replace("|", "\\|") in rows[key], f"the configuration reference's text for {key} is stale"
