"""MkDocs hook: fill the command-line reference from the click commands themselves.

``docs/reference/cli.md`` holds one marker per top-level command,
``<!-- cli-command: syndicate._cli.build:build -->``; each becomes that command's
section (and its subcommands'): usage, description, every option as ``--help``
prints it, and the examples of its epilog. mkdocs-click was the first choice,
but it leaves epilogs out, and the examples live there; the exit-code line every
epilog ends with becomes a link to the exit-code table.

Adding a command to the CLI is adding one marker; ``tests/internals/test_docs.py`` fails
until it is there.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterator
from typing import Any

import click

MARKER = re.compile(r"^<!-- cli-command: (?P<module>[\w.]+):(?P<attribute>\w+) -->$", re.M)
PROGRAM = "syndicate"


def load_command(module: str, attribute: str) -> click.Command:
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command), f"{module}:{attribute} is not a click command"
    return command


def marked_commands(markdown: str) -> list[click.Command]:
    """The commands the page's markers name, in page order."""
    return [load_command(m.group("module"), m.group("attribute")) for m in MARKER.finditer(markdown)]


def _paragraphs(text: str) -> Iterator[str]:
    """Markdown for click help text: ``\\b`` paragraphs (click's "do not rewrap") become code blocks."""
    after_examples = False
    for paragraph in re.split(r"\n\s*\n", inspect.cleandoc(text)):
        if paragraph.startswith("Exit codes:"):
            yield "Exit codes: see [Exit codes](exit-codes.md)."
        elif paragraph.startswith("\b"):
            body = inspect.cleandoc(paragraph[1:].lstrip("\n"))
            yield f"```{'sh' if after_examples else 'text'}\n{body}\n```"
        else:
            yield " ".join(line.strip() for line in paragraph.splitlines())
        after_examples = paragraph.strip() == "Examples:"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def command_markdown(command: click.Command, path: str, level: int = 2, parent: click.Context | None = None) -> str:
    """The reference section of ``command`` (called ``path``) and, for a group, of each subcommand."""
    ctx = click.Context(command, info_name=path.rsplit(" ", 1)[-1], parent=parent)
    usage = f"{path} {' '.join(command.collect_usage_pieces(ctx))}"
    blocks = [f"{'#' * level} {path}", f"```text\nUsage: {usage}\n```"]
    if command.help:
        blocks += _paragraphs(command.help)
    options = [param for param in command.get_params(ctx) if isinstance(param, click.Option)]
    rows = [record for option in options if (record := option.get_help_record(ctx)) is not None]
    if rows:
        table = ["| option | description |", "|---|---|"]
        table += [f"| `{_cell(opts)}` | {_cell(help_text)} |" for opts, help_text in rows]
        blocks.append("\n".join(table))
    if command.epilog:
        blocks += _paragraphs(command.epilog)
    sections = ["\n\n".join(blocks)]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{path} lists {name!r} but cannot load it"
            sections.append(command_markdown(sub, f"{path} {name}", min(level + 1, 6), ctx))
    return "\n\n".join(sections)


def render_cli_reference(markdown: str) -> str:
    """The page's Markdown with every marker replaced by its command's section."""

    def section(match: re.Match[str]) -> str:
        command = load_command(match.group("module"), match.group("attribute"))
        return command_markdown(command, f"{PROGRAM} {command.name}")

    return MARKER.sub(section, markdown)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return render_cli_reference(markdown)
