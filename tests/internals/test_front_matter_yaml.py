"""The front matter's YAML reader gives what ``yaml.load`` gives: the same values, or the same error.

Its fast path builds the usual shapes itself; these tests hold it to PyYAML's
safe loading on those shapes, on every shape it hands back to PyYAML, and on
generated documents full of YAML syntax.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate._collection.front_matter_yaml import load_yaml
from syndicate._collection.markdown import _NoAliasLoader
from syndicate._collection.textcheck import has_forbidden_value
from syndicate._textguard import xml_safe

LOADERS = [getattr(yaml, "CSafeLoader", yaml.SafeLoader), yaml.SafeLoader, _NoAliasLoader]


def _outcome(text: str, loader: Any, read: Any) -> tuple[str, Any]:
    """What reading ``text`` gives: ("value", the value) or ("error", its type and message)."""
    try:
        return "value", _comparable(read(text, loader))
    except Exception as exc:  # any exception PyYAML raises is part of the behaviour compared
        return "error", (type(exc), str(exc))


def _comparable(value: Any) -> Any:
    """``value`` with types kept (True is not 1) and NaN equal to itself, for comparing two loads."""
    if isinstance(value, dict):
        return ("dict", [(_comparable(k), _comparable(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_comparable(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def _same_as_pyyaml(text: str) -> None:
    for loader in LOADERS:
        expected = _outcome(text, loader, lambda t, lo: yaml.load(t, Loader=lo))
        assert _outcome(text, loader, load_yaml) == expected, (loader, text)


EXAMPLES = [
    "",
    "# only a comment\n",
    "title: A story\ndate: 2026-11-01T12:00:00+00:00\ntags: [a, b, 3, yes, null, 2026-01-02]\n",
    "title: 'quoted'\nauthor: \"Jane \\x01 Doe\"\ndraft: no\nfeatured: On\nid: 0x1F\nscore: 1_000\nratio: .inf\n",
    "image:\n  url: /a.jpg\n  alt: An image\n  width: 640\n",
    "title: one\ntitle: two\n",  # duplicate key: the last wins, in the first one's place
    "date: 2026-13-01\n",  # month 13: PyYAML's ValueError
    "tags: [2026-02-30]\ndate: 2026-13-45\n",  # two bad values: PyYAML's order decides which is reported
    "updated: 2026-01-01 10:00:00 +05:30:15\n",
    "n: 1" + "0" * 5000 + "\n",
    "base: &b {x: 1}\nmore:\n  <<: *b\n  y: 2\n",  # merge key (alias: the no-alias loader refuses it)
    "<<: {x: 1}\ny: 2\n",  # merge key without an alias
    "=: value key\n",
    "1: int key\n",
    "[a, b]: unhashable\n",
    "? complex\n: key\n",
    "nested: {a: {b: c}}\n",
    "list: [[a], {b: c}]\n",
    "tagged: !!str 12\nother: !!int '12'\nbad: !!int 'twelve'\n",
    "python: !!python/object:os.system {}\n",
    "custom: !mine value\n",
    "binary: !!binary aGVsbG8=\nbroken: !!binary '%%%'\n",
    "set: !!set {a, b}\nomap: !!omap [a: 1]\n",
    "- a\n- b\n",
    "just a scalar\n",
    "--- a\n--- b\n",
    "key: [unclosed\n",
    "key: value\n  bad indent: x\n",
    "anchor: &a plain\nuse: *a\n",
    "empty:\nnothing: ~\n",
    "date: 2026-11-01\ntime: 12:30\nsexagesimal: 190:20:30\nfloaty: 6.8523015e+5\n",
]


@pytest.mark.parametrize("text", EXAMPLES)
def test_same_as_pyyaml_on_examples(text: str) -> None:
    _same_as_pyyaml(text)


PIECES = st.sampled_from(
    [
        *("key", "title", "date", "tags", "<<", "=", "~", "null", "yes", "No", "0x1", "0o7", "1_0", "-.5", ".nan"),
        *("2026-11-01", "2026-02-30", "2026-11-01T10:00:00Z", "12:30:00", "!!int", "!!str", "!!float", "!foo"),
        *("!!binary", ": ", ", ", "- ", "[", "]", "{", "}", "'", '"', "\\x01", "&a ", "*a", "? ", "#", "\n"),
        *("  ", "\t", "é", "\x00"),
    ]
)
DOCUMENT = st.lists(st.one_of(PIECES, st.characters()), max_size=40).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT)
def test_same_as_pyyaml_on_generated_documents(text: str) -> None:
    _same_as_pyyaml(text)


SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), st.dates(), st.datetimes()
)
SHAPE = st.dictionaries(
    st.text(max_size=10),
    st.one_of(SCALAR, st.lists(SCALAR, max_size=4), st.dictionaries(st.text(max_size=10), SCALAR, max_size=3)),
    max_size=6,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SHAPE, st.booleans())
def test_same_as_pyyaml_on_the_usual_shapes(data: dict[str, Any], flow: bool) -> None:
    _same_as_pyyaml(yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT)
def test_without_a_backslash_no_value_holds_what_the_text_does_not(text: str) -> None:
    # The loader skips cleaning front-matter values when the (cleaned) front matter has no
    # backslash: only an escape can make a character XML forbids.
    clean = xml_safe(text)
    if "\\" in clean:
        return
    for loader in LOADERS:
        try:
            data = load_yaml(clean, loader)
        except Exception:  # not YAML: nothing to clean
            continue
        assert not has_forbidden_value(data), (loader, clean, data)
