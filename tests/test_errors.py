"""Bad input through the public API raises a SyndicateError, and the exception tree is the one drawn."""

from __future__ import annotations

import inspect
import pickle
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

import syndicate
from syndicate.cli import main

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def exported_exceptions() -> list[type[BaseException]]:
    return [
        value
        for name in syndicate.__all__
        if inspect.isclass(value := getattr(syndicate, name)) and issubclass(value, BaseException)
    ]


def drawn_tree() -> dict[str, str]:
    """``{exception: its parent}`` as drawn in the docstring of syndicate/_errors.py."""
    text = syndicate._errors.__doc__ or ""
    lines = text[text.index("    SyndicateError\n") :].split("\n\n")[0].splitlines()
    parents: dict[str, str] = {}
    stack: list[str] = []
    for line in lines:
        match = re.search(r"[A-Z]\w+", line)
        assert match, line
        depth = (match.start() - 4) // 4
        del stack[depth:]
        if stack:
            parents[match.group()] = stack[-1]
        stack.append(match.group())
    return parents


def test_every_exported_exception_is_a_syndicate_error_drawn_under_its_parent() -> None:
    parents = drawn_tree()
    for exception in exported_exceptions():
        assert issubclass(exception, syndicate.SyndicateError), exception
        if exception is syndicate.SyndicateError:
            continue
        assert exception.__name__ in parents, f"{exception.__name__} is missing from the tree in errors.py"
        assert exception.__bases__[0] is getattr(syndicate, parents[exception.__name__]), exception
    assert set(parents) == {e.__name__ for e in exported_exceptions()} - {"SyndicateError"}


def test_exceptions_that_inherit_builtins_keep_old_except_clauses_working() -> None:
    assert issubclass(syndicate.InvalidAddressError, ValueError)
    assert issubclass(syndicate.InvalidTokenError, ValueError)
    assert issubclass(syndicate.InvalidArgumentError, ValueError)
    assert issubclass(syndicate.ArticleNotFoundError, LookupError)


def test_old_import_paths_still_give_the_same_classes() -> None:
    from syndicate import InvalidAddressError, InvalidTokenError, LockedError, RelayUnavailableError

    assert (LockedError, RelayUnavailableError, InvalidAddressError, InvalidTokenError) == (
        syndicate.LockedError,
        syndicate.RelayUnavailableError,
        syndicate.InvalidAddressError,
        syndicate.InvalidTokenError,
    )


def test_a_folder_without_a_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(syndicate.SyndicateError) as raised:
        syndicate.Site.open(tmp_path)
    assert isinstance(raised.value, syndicate.ConfigError)


def test_an_unknown_slug_is_article_not_found(demo_site: Path) -> None:
    with syndicate.Site.open(demo_site) as site, pytest.raises(syndicate.ArticleNotFoundError) as raised:
        site.related("no-such-story", now=NOW)
    assert isinstance(raised.value, syndicate.SyndicateError) and raised.value.slug == "no-such-story"
    assert "no-such-story" in str(raised.value)


def test_related_answers_through_the_facade_as_the_cli_prints_it(demo_site: Path) -> None:
    with syndicate.Site.open(demo_site) as site:
        slug = next(iter(site.collection)).slug
        result = site.related(slug, explain=True, count=3, now=NOW)
    assert result.slug == slug and len(result.picks) <= 3
    data = result.as_json()
    assert set(data) == {"slug", "title", "picks", "unresolved_editor_picks"}
    assert all("reasons" in pick for pick in data["picks"])
    printed = CliRunner().invoke(
        main, ["related", slug, "--site", str(demo_site), "-k", "3", "--explain", "--json", "--now", NOW.isoformat()]
    )
    assert printed.exit_code == 0, printed.output
    assert printed.output.strip().startswith("{") and f'"slug": "{slug}"' in printed.output


@pytest.mark.parametrize(
    "call",
    [
        lambda site: site.cron_line("every ten minutes"),
        lambda site: site.related("", now=NOW),
        lambda site: site.related("hollow-pines-set-visit", count=0, now=NOW),
    ],
    ids=["cron schedule", "empty slug", "no picks asked for"],
)
def test_bad_arguments_raise_syndicate_errors(demo_site: Path, call: Callable[[syndicate.Site], object]) -> None:
    with syndicate.Site.open(demo_site) as site, pytest.raises(syndicate.SyndicateError):
        call(site)


def test_a_backup_never_replaces_a_file_unasked(demo_site: Path, tmp_path: Path) -> None:
    target = tmp_path / "backup.sqlite3"
    target.write_bytes(b"last night's copy")
    with syndicate.Site.open(demo_site) as site:
        site.store  # noqa: B018 - creates the state database to back up
        with pytest.raises(syndicate.TargetExistsError):
            site.backup_state(target)
    assert target.read_bytes() == b"last night's copy"


def test_an_unknown_slug_exits_2_with_one_line(demo_site: Path) -> None:
    result = CliRunner().invoke(main, ["related", "no-such-story", "--site", str(demo_site)])
    assert result.exit_code == 2
    assert "no article with slug or title 'no-such-story'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "error",
    [
        syndicate.AddressRefused("127.0.0.1 is a loopback address"),
        syndicate.ArticleNotFoundError("gone", "content"),
        syndicate.InvalidTokenError("bad signature", forged=True),
        syndicate.ExpiredTokenError("this confirmation link has expired"),
        syndicate.SourceError("https://example.com/feed", "HTTP 500"),
        syndicate.LedgerWriteError(Path("state.sqlite3"), "a send", "disk I/O error"),
        syndicate.OutboxWriteError(Path("outbox/1.eml"), "no space left"),
        syndicate.StateDamagedError("state.sqlite3", "file is not a database"),
        syndicate.DiskFullError("public/rss.xml", "disk full"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_errors_with_their_own_arguments_survive_pickling(error: syndicate.SyndicateError) -> None:
    # Work runs in forked workers: an error must cross back to the parent intact.
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    assert vars(copy) == vars(error)
