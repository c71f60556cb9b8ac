"""The common front matter read line by line, without libyaml: a narrow subset, exactly as PyYAML reads it.

Even PyYAML's C loader calls back into Python for every scalar (to resolve
its tag) and builds a node object for each, which costs more than anything
else in reading an article's few lines of ``key: value``. Nearly every
article's front matter is one of a handful of line shapes; this module reads
those, and only those, and says "not mine" (``None``) for anything else, so
the caller hands the text to PyYAML unchanged. It is not a YAML parser: each
line must match one of the shapes below in full, or the whole text goes to
PyYAML.

The shapes, every line at column 0 unless said otherwise:

* a blank line, or a comment line (``#`` after any spaces);
* ``key: value``, the key letters, digits, ``_``, ``.`` or ``-`` (not first),
  resolving to a string (``yes:`` or ``2026:`` does not), the value one of:

  - a plain scalar on one line: not starting with a YAML indicator, without
    ``": "``, ``" #"`` or a final ``:``; trailing spaces are not part of it;
  - ``"text"`` without ``"`` or ``\\`` inside (no escapes), or ``'text'``
    without ``'`` inside;
  - ``[a, b, "c"]`` on one line: items as above, plain ones also without
    ``, [ ] { } # : ?`` (where PyYAML's two loaders disagree or YAML ends
    the item), no empty item;
  - nothing, for null, or for a block sequence: the following ``- item``
    lines, all at one indentation (0 too), items as plain or quoted values.

Characters: only those YAML reads as printable, and none of the ones it
reads as a line break (U+0085, U+2028, U+2029) or skips (U+FEFF); no tabs.
``\\r\\n`` line ends are read as ``\\n`` (no value spans a line, so the kind of
line break changes nothing).

A plain scalar gets its tag from PyYAML's own implicit resolvers, in PyYAML's
order, and a non-string value is built by the very constructor function
PyYAML's safe loader calls for that tag; a scalar that function cannot build
(month 13, a 5,000-digit integer) makes the text PyYAML's, so the error is
PyYAML's own. ``tests/internals/test_front_matter_lines.py`` holds these
shapes to ``yaml.load`` with every loader the articles are read with.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

_STR = "tag:yaml.org,2002:str"
# Tags of plain scalars built here, each by SafeConstructor's own function (others: "merge", "value", "yaml").
_BUILT = frozenset(f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp"))
# Bound to one instance: the functions only read node.value and class constants (regexes, bool words).
_CONSTRUCTOR = SafeConstructor()

# Anything but what YAML reads as printable text on one line (and U+FEFF, which it may skip).
_OUTSIDE = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")

# A plain scalar may not start with one of these (YAML's indicators), nor with a space.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@` ")
# Nor may a plain item of a flow sequence hold one of these anywhere ("?" and ":" split PyYAML's loaders).
_FLOW_STOPS = frozenset(",[]{}#:?")
_FLOW_MARKS = frozenset("[]{}#")
_KEY_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_KEY_LIMIT = 128
# Keys already found plain and resolving to a string: a site uses a few dozen, in every article.
_KEYS: set[str] = set()
_KEYS_LIMIT = 1024
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# The commonest timestamp, "2026-11-01T12:00:00+00:00", in full (ASCII digits only); see _timestamp.
_OFFSET_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})([-+])([0-9]{2}):([0-9]{2})"
)


class _Unread(Exception):
    """Outside the shapes read here: PyYAML reads the text instead."""


def read_lines(text: str, loader_class: Any) -> dict[str, Any] | None:
    """``yaml.load(text, Loader=loader_class)`` for the shapes above; ``None`` for any other text.

    ``None`` also for a loader that resolves or builds values other than
    PyYAML's safe loaders do, and for a text without any key (PyYAML says what
    that is).
    """
    if (
        loader_class.yaml_implicit_resolvers is not Resolver.yaml_implicit_resolvers
        or loader_class.yaml_constructors is not SafeConstructor.yaml_constructors
    ):
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if "\t" in text or _OUTSIDE.search(text):
        return None
    try:
        return _read(text)
    except _Unread:
        return None


def _read(text: str) -> dict[str, Any] | None:
    data: dict[str, Any] = {}
    key = ""
    items: list[Any] | None = None  # the block sequence of the last key, while its "- item" lines may follow
    indent = -1  # the indentation of those lines, once the first is read
    for line in text.split("\n"):
        if not line:
            continue
        first = line[0]
        if first == " " or first == "#" or first == "-":
            content = line.lstrip(" ")
            if not content or content[0] == "#":
                continue  # a blank or comment line
            if items is None or content[0] != "-" or content[1:2] != " ":
                raise _Unread  # indented text, or an item of no sequence
            level = len(line) - len(content)
            if indent >= 0 and level != indent:
                raise _Unread
            indent = level
            items.append(_scalar(content[2:].strip(" ")))
            continue
        if items is not None:
            if not items:
                data[key] = _plain("")  # "key:" and no item: null, as PyYAML resolves an empty plain scalar
            items = None
        key, colon, rest = line.partition(":")
        if not colon or (key not in _KEYS and not _is_key(key)):
            raise _Unread
        if not rest:
            items = data[key] = []
            indent = -1
            continue
        if rest[0] != " ":
            raise _Unread  # "key:value" is one plain scalar in YAML, not a pair
        value = rest.strip(" ")
        if not value:
            items = data[key] = []
            indent = -1
        elif value[0] == "[":
            data[key] = _flow(value)
        else:
            data[key] = _scalar(value)
    if items is not None and not items:
        data[key] = _plain("")
    return data or None


def _is_key(key: str) -> bool:
    """A plain key of the usual letters that PyYAML resolves to a string."""
    if not 0 < len(key) <= _KEY_LIMIT or key[0] == "-" or not _KEY_CHARACTERS.issuperset(key) or _tag(key) != _STR:
        return False
    if len(_KEYS) < _KEYS_LIMIT:
        _KEYS.add(key)
    return True


def _flow(value: str) -> list[Any]:
    """``[a, b, "c"]``: a flow sequence of scalars on one line, nothing after it."""
    inner = value[1:-1]
    if value[-1] != "]" or not _FLOW_MARKS.isdisjoint(inner):
        raise _Unread
    if not inner.strip(" "):
        return []
    items = []
    for part in inner.split(","):
        item = part.strip(" ")
        if not item:
            raise _Unread  # an empty item: PyYAML's to report
        first = item[0]
        if first == '"' or first == "'":
            items.append(_quoted(item))
        elif first in _INDICATORS or not _FLOW_STOPS.isdisjoint(item):
            raise _Unread
        else:
            items.append(_plain(item))
    return items


def _scalar(value: str) -> Any:
    """One scalar in block context, as written (spaces around it taken off): quoted without escapes, or plain."""
    if not value:
        raise _Unread  # "- " alone: a null item, left to PyYAML
    first = value[0]
    if first == '"' or first == "'":
        return _quoted(value)
    # ": " or a final ":" would make a mapping; " #" begins a comment.
    if first in _INDICATORS or ": " in value or " #" in value or value[-1] == ":":
        raise _Unread
    return _plain(value)


def _quoted(value: str) -> str:
    quote = value[0]
    inner = value[1:-1]
    if len(value) < 2 or value[-1] != quote or quote in inner or "\\" in inner:
        raise _Unread
    return inner


def _tag(value: str) -> str:
    """The tag PyYAML's resolver gives a plain scalar (``Resolver.resolve``; safe loaders add no wildcard)."""
    resolvers = Resolver.yaml_implicit_resolvers.get(value[:1])
    if resolvers is None:
        return _STR
    for tag, regexp in resolvers:
        if regexp.match(value):
            return str(tag)
    return _STR


def _plain(value: str) -> Any:
    # Most values start with a character no implicit resolver is listed under: a string, no call needed.
    if value[:1] not in Resolver.yaml_implicit_resolvers:
        return value
    tag = _tag(value)
    if tag == _STR:
        return value
    if tag not in _BUILT:
        raise _Unread
    try:
        if tag == _TIMESTAMP:
            moment = _timestamp(value)
            if moment is not None:
                return moment
        return SafeConstructor.yaml_constructors[tag](_CONSTRUCTOR, ScalarNode(tag, value))
    except Exception:  # a value PyYAML cannot build: it reports that, in its own words and order
        raise _Unread from None


def _timestamp(value: str) -> datetime | None:
    """``SafeConstructor.construct_yaml_timestamp`` for the one shape of ``_OFFSET_TIMESTAMP``, else ``None``.

    The same calls, in the same order, on the same numbers, as PyYAML's for that
    shape (no fraction, an offset with minutes), without its general regular
    expression and ``groupdict``: the date is in nearly every article.
    """
    match = _OFFSET_TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, sign, tz_hour, tz_minute = match.groups()
    delta = timedelta(hours=int(tz_hour), minutes=int(tz_minute))
    if sign == "-":
        delta = -delta
    return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), 0, tzinfo=timezone(delta))
