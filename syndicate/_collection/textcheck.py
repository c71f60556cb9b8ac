"""Characters XML cannot carry, found in an article file and reported where they stand.

A form feed or a vertical tab pasted from a word processor, or ``"\\x01"``
written as a YAML escape, would otherwise reach lxml and stop the whole build
("All strings must be XML compatible"). The loaders clean them here, through
the shared boundary in :mod:`syndicate._textguard`, and say so with a warning
naming the file and line, so ``check`` reports what ``build`` would have
choked on.
"""

from __future__ import annotations

from typing import Any

from .._model import Problem, Severity
from .._textguard import find_forbidden, has_forbidden, xml_safe

# Per file: a pasted document full of form feeds needs one report, not thousands.
_REPORTED = 10
# Quoted values in messages stay short: a hostile value must not flood the report.
_QUOTE_LIMIT = 80


def quoted(value: object) -> str:
    """``value`` as ``repr`` for a message, XML-safe and cut to a readable length."""
    text = xml_safe(repr(value))
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 1] + "…"


def cleaned_file_text(text: str, path: str, first_line: int = 1) -> tuple[str, list[Problem]]:
    """``text`` without XML-forbidden characters, and a warning for each (the first ten) found."""
    found = find_forbidden(text, limit=_REPORTED + 1)
    if not found:
        return text, []
    problems = [
        Problem(
            path,
            f"removed a character that XML cannot carry (column {item.column}: U+{item.codepoint:04X})",
            Severity.WARNING,
            item.line + first_line - 1,
        )
        for item in found[:_REPORTED]
    ]
    if len(found) > _REPORTED:
        problems.append(
            Problem(path, "removed more characters that XML cannot carry", Severity.WARNING, found[-1].line)
        )
    return xml_safe(text), problems


def cleaned_value(value: Any) -> tuple[Any, list[int]]:
    """A front-matter value with XML-forbidden characters removed from every string in it.

    Returns the cleaned value and the code points removed (YAML escapes such as
    ``"\\x01"`` or ``"\\ud800"`` produce them after the file's text was clean).
    """
    if isinstance(value, str):
        found = find_forbidden(value, limit=3)
        return (xml_safe(value), [item.codepoint for item in found]) if found else (value, [])
    if isinstance(value, list):
        removed: list[int] = []
        items = []
        for item in value:
            clean, gone = cleaned_value(item)
            items.append(clean)
            removed.extend(gone)
        return (items, removed) if removed else (value, [])
    if isinstance(value, dict):
        removed = []
        mapping = {}
        for key, item in value.items():
            clean_key, gone_key = cleaned_value(key)
            clean, gone = cleaned_value(item)
            mapping[clean_key] = clean
            removed.extend(gone_key + gone)
        return (mapping, removed) if removed else (value, [])
    return value, []


def has_forbidden_value(value: Any) -> bool:
    """Whether a string anywhere in a front-matter value (strings, lists, mappings and their keys) needs cleaning.

    One check over all the strings at once, gathered without a call per item:
    a few dozen per article, each checked alone, cost more than the check.
    """
    strings: list[str] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
    return has_forbidden("".join(strings))
