"""The documentation site (docs/, mkdocs.yml) is complete and its examples run.

As sqlite-utils' test_docs.py does: every command and group of the CLI (lazy
ones included) has its section in the CLI reference, every configuration key is
in the configuration reference, every exit code is in its table; and, beyond
that, every ```python example in docs/ runs as pasted against a copy of the
demo site, and so does every ```sh example marked ``<!-- runnable -->`` on the
line before its fence. ``mkdocs build --strict`` runs when mkdocs is installed
(the ``docs`` extra).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from conftest import REPO

from syndicate.cli import main
from syndicate.cli.common import ExitCode
from syndicate.config import documented_keys

DOCS = REPO / "docs"
CLI_PAGE = DOCS / "reference" / "cli.md"
CONFIG_PAGE = DOCS / "reference" / "config.md"
EXIT_CODES_PAGE = DOCS / "reference" / "exit-codes.md"

RUNNABLE_MARK = "<!-- runnable -->"
_FENCE = re.compile(r"^(?P<mark><!-- runnable -->\n)?```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```\s*$", re.M | re.S)
_DIRECTIVE = re.compile(r"^::: mkdocs-click\n(?P<options>(?:[ \t]+:\w+:.*\n)+)", re.M)


def _load_hook() -> object:
    spec = importlib.util.spec_from_file_location("config_keys_hook", DOCS / ".hooks" / "config_keys.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _walk(command: click.Command, path: str) -> Iterator[str]:
    """Every command path under ``command``, asking groups as click does (so lazy commands count)."""
    yield path
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path.rsplit(" ", 1)[-1])
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{path} lists {name!r} but cannot load it"
            yield from _walk(sub, f"{path} {name}")


def _documented_commands(markdown: str) -> set[str]:
    """The command paths the CLI page's mkdocs-click directives generate sections for."""
    documented: set[str] = set()
    for match in _DIRECTIVE.finditer(markdown):
        options = dict(re.findall(r":(\w+):[ \t]*(.*)", match.group("options")))
        module = importlib.import_module(options["module"])
        command = getattr(module, options["command"])
        documented.update(_walk(command, options["prog_name"]))
    return documented


def _blocks(page: Path, lang: str, *, runnable_only: bool = False) -> list[str]:
    text = page.read_text(encoding="utf-8")
    return [
        m.group("body")
        for m in _FENCE.finditer(text)
        if m.group("lang") == lang and (m.group("mark") or not runnable_only)
    ]


def _pages_with(lang: str, *, runnable_only: bool = False) -> list[Path]:
    return [p for p in sorted(DOCS.rglob("*.md")) if _blocks(p, lang, runnable_only=runnable_only)]


def _page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


# --- every command, key and exit code is documented ---------------------------------------


def test_every_cli_command_and_group_is_documented() -> None:
    commands = set(_walk(main, "syndicate"))
    markdown = CLI_PAGE.read_text(encoding="utf-8")
    documented = _documented_commands(markdown)
    assert "## syndicate\n" in markdown, "the top-level group needs its own section"
    documented.add("syndicate")
    missing = sorted(commands - documented)
    assert not missing, f"add a '::: mkdocs-click' section to docs/reference/cli.md for: {missing}"
    # Lazy groups count: these are loaded only when asked for, never imported at start-up.
    assert {"syndicate newsletter send", "syndicate subscribers import", "syndicate feeds links"} <= commands


def test_the_cli_page_documents_no_command_that_does_not_exist() -> None:
    documented = _documented_commands(CLI_PAGE.read_text(encoding="utf-8"))
    assert documented <= set(_walk(main, "syndicate"))


def test_every_command_has_help_text_for_its_section() -> None:
    undocumented = []
    for path in _walk(main, "syndicate"):
        command: click.Command = main
        ctx = click.Context(main, info_name="syndicate")
        for name in path.split()[1:]:
            assert isinstance(command, click.Group)
            found = command.get_command(ctx, name)
            assert found is not None
            command = found
        if not (command.help or "").strip():
            undocumented.append(path)
        undocumented += [f"{path} {p.name}" for p in command.params if isinstance(p, click.Option) and not p.help]
    assert not undocumented, f"commands or options without help text: {undocumented}"


def test_every_config_key_is_in_the_configuration_reference() -> None:
    hook = _load_hook()
    page = CONFIG_PAGE.read_text(encoding="utf-8")
    assert hook.MARKER in page  # type: ignore[attr-defined]
    rendered = hook.render_config_keys(page)  # type: ignore[attr-defined]
    for key, type_name, default, doc in documented_keys():
        assert f"| `{key}` | {type_name} | `{default}` |" in rendered, key
        assert doc.strip(), f"config key {key} has no doc"


def test_the_config_hook_leaves_other_pages_alone() -> None:
    hook = _load_hook()
    text = "# A page\n\nNothing to fill in.\n"
    assert hook.on_page_markdown(text, page=None, config=None, files=None) == text  # type: ignore[attr-defined]


def test_every_exit_code_is_in_its_table() -> None:
    page = EXIT_CODES_PAGE.read_text(encoding="utf-8")
    for code in ExitCode:
        assert re.search(rf"^\| {code.value} \| `{code.name}` \|", page, re.M), code


# --- the examples run as pasted ------------------------------------------------------------


def test_examples_are_found() -> None:
    """Guard the collectors below: a broken regex must not make every example test vanish."""
    assert len(_pages_with("python")) >= 5
    assert len(_pages_with("sh", runnable_only=True)) >= 4
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(re.escape(RUNNABLE_MARK) + r"\n(.*)", text):
            assert match.group(1).startswith("```sh"), f"{_page_id(page)}: {RUNNABLE_MARK} must precede a ```sh fence"


@pytest.mark.parametrize("page", _pages_with("python"), ids=_page_id)
def test_python_examples_run_against_the_demo_site(
    page: Path, demo_site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The page's ```python blocks, in order, in one namespace, as a reader pasting them would."""
    monkeypatch.chdir(demo_site)
    monkeypatch.setenv("SYNDICATE_SECRET", "docs-example-secret-0123456789")
    namespace: dict[str, object] = {"__name__": "__docs_example__"}
    for number, block in enumerate(_blocks(page, "python"), 1):
        code = compile(block, f"{_page_id(page)} (python example {number})", "exec")
        exec(code, namespace)
    assert capsys.readouterr().out.strip(), "an example should show something"


@pytest.mark.parametrize("page", _pages_with("sh", runnable_only=True), ids=_page_id)
def test_runnable_shell_examples_run_against_the_demo_site(page: Path, demo_site: Path) -> None:
    """The page's runnable ```sh blocks, in order, in a copy of the demo site, with `syndicate` on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for number, block in enumerate(_blocks(page, "sh", runnable_only=True), 1):
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", block],
            cwd=demo_site,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (
            f"{_page_id(page)}, runnable sh example {number} exited {done.returncode}:\n{block}\n"
            f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        )


# --- the site builds ------------------------------------------------------------------------


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocs_click") is None:
        pytest.skip("mkdocs is not installed: pip install -e '.[docs]' to build the documentation site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    cli_html = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "syndicate newsletter send" in cli_html  # a lazy group's command, generated
    config_html = (tmp_path / "site" / "reference" / "config" / "index.html").read_text(encoding="utf-8")
    assert "sources.allow_private" in config_html  # the hook filled the table
    api_html = (tmp_path / "site" / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert 'id="syndicate.Site"' in api_html
