"""The line-by-line reader of the common front matter gives exactly what ``yaml.load`` gives, or declines.

``read_lines`` either returns PyYAML's value for a text (with every loader
articles are read with: the C loader, the pure-Python one, and the one that
refuses aliases) or ``None``, leaving the text to PyYAML. These tests hold it
to that on the shapes it reads, on near misses, and on generated documents
made of front-matter lines with YAML's traps mixed in. Values are compared
with their types and, for dates, their time zones (two equal instants in
different zones are different front matter).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syndicate._collection import front_matter_lines
from syndicate._collection.front_matter_lines import read_lines
from syndicate._collection.front_matter_yaml import load_yaml
from syndicate._collection.markdown import _NoAliasLoader

LOADERS = [getattr(yaml, "CSafeLoader", yaml.SafeLoader), yaml.SafeLoader, _NoAliasLoader]


def _exact(value: Any) -> Any:
    """``value`` with every type, and every date's zone, kept: ``True`` is not ``1``, 12:00Z is not 07:00-05:00."""
    if isinstance(value, dict):
        return ("dict", [(_exact(k), _exact(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_exact(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, repr(value))


def _pyyaml(text: str, loader: Any) -> tuple[str, Any]:
    try:
        return "value", _exact(yaml.load(text, Loader=loader))
    except Exception as exc:  # any exception PyYAML raises is part of what is compared
        return "error", (type(exc), str(exc))


def _read_or_decline(text: str) -> bool:
    """Whether ``read_lines`` read ``text``; when it did, its value is PyYAML's for every loader."""
    read = False
    for loader in LOADERS:
        value = read_lines(text, loader)
        if value is not None:
            read = True
            assert ("value", _exact(value)) == _pyyaml(text, loader), (loader, text)
        # And the reader the articles go through, read here or not, is PyYAML's too.
        try:
            outcome: tuple[str, Any] = "value", _exact(load_yaml(text, loader))
        except Exception as exc:
            outcome = "error", (type(exc), str(exc))
        assert outcome == _pyyaml(text, loader), (loader, text)
    return read


READ = [
    "title: A story\n",
    'id: tag:bench.example.com,2026-09-10:story-2035\ntitle: "For source (2035)"\n'
    "date: 2026-09-10T05:05:00+00:00\nauthor: Saanra Anelka\ntags: [office prize 100, the at 99]\n"
    "image: /images/story-2035.jpg\n",
    "date: 2026-10-21 11:00\nupdated: 2026-10-21T11:00-05:00\nother: 2026-10-21T11:00:00-05:30\n",
    "date: 2026-10-21\nwhen: 2026-10-21T11:00:00Z\nfraction: 2026-10-21T11:00:00.5+01:00\n",
    "title: 'single: quoted # not a comment'\nsummary: \"double: quoted, with 'inner' quotes\"\n",
    "title: Interview: \n",  # not read (a mapping in a value), but PyYAML's error either way
    'title: It\'s "great" C# a:b a :b 50% done!\n',
    "title:    spaced   out   \n",
    "title: \xa0non-breaking\xa0 \nauthor: Tomás Ferreira — “quoted” ‘too’ 🎬\n",
    'tags: []\nmore: [ ]\nrelated: [a,b,  c d  ,"e: f"]\n',
    "tags: ['a', \"b\", c]\n",
    "tags:\n- a\n- 'b'\n- \"c\"\nnext: 1\n",
    "tags:\n  - a\n  -   b\n\n  # a comment\n  - 2026-01-02\nnext:\n",
    "draft: yes\nfeatured: No\nnumber: 0x1F\nfloat: 1_000.5\nnan: .nan\nnothing: ~\nempty:\nsexagesimal: 190:20:30\n",
    "# a comment\n\ntitle: x\n   # indented comment\n",
    "tags:\n\n- a\n# c\n\n- b\nx: 1\nmore:\n  # c\n    - a\n    - b\ny:\n",
    "title: one\ntitle: two\n",
    "title: Windows\r\ndate: 2026-01-01\r\n",
    "a.b: 1\nc-d: 2\n_e: 3\n9f: 4\n",
    "n: " + "9" * 5000 + "\n",
    "date: 2026-13-01T00:00:00+00:00\n",
    "date: 2026-01-01T00:00:00+24:00\n",
    "date: 2026-02-30\n",
]

DECLINED = [
    "",
    "# only a comment\n",
    "title: a\n  continued\n",
    "tags:\n- a\n  continued\n",
    "tags:\n  - a\n - b\n",
    "tags:\n  - a\n    - b\n",
    "tags:\n-\n- b\n",
    "tags:\n- - nested\n",
    "tags:\n- a: b\n",
    "title: x\n- a\n",
    "  title: indented\n",
    "title : spaced key\n",
    "title:value\n",
    "yes: key\n",
    "null: key\n",
    "1: key\n",
    "<<: {a: 1}\n",
    "title: *alias\n",
    "title: &anchor x\n",
    "title: !!str 1\n",
    "title: -5\n",
    "title: a # comment\n",
    "title: 'it''s'\n",
    'title: "escaped \\" quote"\n',
    'title: "a\\x01"\n',
    'title: "unclosed\n',
    'title: "x" y\n',
    "tags: [a, [b]]\n",
    "tags: [a, {b: c}]\n",
    "tags: [a, b,]\n",
    "tags: [a, , b]\n",
    "tags: [a?b]\n",
    "tags: [a:b]\n",
    "tags: [a # c]\n",
    'tags: ["a, b"]\n',
    "tags: [a\n",
    "tags: [a] b\n",
    "image:\n  url: /a.jpg\n",
    "title:\ttab\n",
    "title: a\x85b\n",
    "title: a\u2028b\n",
    "title: \ufeffa\n",
    "title: a\x7fb\n",
    "title: a\x00b\n",
    "title: a\rb\n",
    "--- title: x\n",
    "%YAML 1.1\n",
    "? key\n: value\n",
]


@pytest.mark.parametrize("text", READ)
def test_reads_the_usual_shapes_as_pyyaml_does(text: str) -> None:
    _read_or_decline(text)


def test_reads_the_usual_shapes_itself() -> None:
    # Not a value test (the one above is): the fast path must really take these, or it saves nothing.
    unread = [text for text in READ[:16] if read_lines(text, LOADERS[0]) is None and "Interview" not in text]
    assert unread == []


@pytest.mark.parametrize("text", DECLINED)
def test_declines_what_it_does_not_read(text: str) -> None:
    assert not _read_or_decline(text)


def test_declines_for_a_loader_other_than_the_safe_ones() -> None:
    class Custom(yaml.SafeLoader):
        pass

    Custom.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: "a date")
    assert read_lines("date: 2026-01-01\n", Custom) is None
    assert read_lines("date: 2026-01-01\n", yaml.FullLoader) is None


# Pieces of front-matter lines, YAML's traps among them: indicators, quotes, escapes, comments,
# indentation, flow and block sequences, resolvable words and numbers, line breaks YAML knows
# and Python does not (and the other way round), characters YAML refuses.
KEYS = st.one_of(
    st.sampled_from(["title", "date", "tags", "a.b", "c-d", "_e", "y"]),
    st.sampled_from(["title", "date", "tags", "a.b", "c-d", "_e", "y"]),
    st.sampled_from(["title", "date", "tags", "a.b", "c-d", "_e", "y"]),
    st.sampled_from(["9", "1.5", "yes", "No", "null", "~", "-k", "<<", "=", "a b", "é", "'q'"]),
)
# Words the reader takes (or must decline for their meaning: a date that is no date), drawn most of the time...
WORDS = st.sampled_from(
    [
        *("plain", "two words", "it's", 'say "hi"', "C#", "a#b", "a:b", "a :b", "50%", "x", "é", "\xa0", "—", "🎬"),
        *("yes", "No", "on", "OFF", "true", "null", "Null", "~", "0", "-1", "+2", "0x1F", "0o17", "017", "1_000"),
        *("1.5", "-.5", ".inf", ".NaN", "6.8523015e+5", "190:20:30", "12:30", "1e5", "2026-11-01", "2026-13-01"),
        *("2026-02-30", "2026-1-2", "2026-11-01T12:00:00Z", "2026-11-01 12:00", "2026-11-01T12:00:00+05:30"),
        *("2026-11-01T12:00:00-00:00", "2026-11-01T12:00:00+24:00", "2026-11-01T12:00:00.123456789+01:00"),
        *("2026-11-01t12:00:00+01", "2026-11-01 12:00:00 -5", "2026-11-01T12:00:60+00:00", "\ud7ff", "\ue000"),
    ]
)
# ... and YAML's traps: indicators, quotes, escapes, comments, characters it refuses or reads as line breaks.
TRAPS = st.sampled_from(
    [
        *("", " ", "a: b", "a:", "a?b", "٢٠٢٦-11-01T12:00:00+00:00", "-", "- ", "?", "? x", ":", ": x", ",", "["),
        *("]", "{", "}", "#", " #", "&a", "*a", "!", "!!str", "|", ">", "'", '"', "%", "@", "`", "\\", "\\x01"),
        *('\\"', "''", "\ufeff", "\x85", "\u2028", "\u2029", "\x7f", "\x00", "\x01", "\t", "\r", "\ufffd"),
    ]
)
TEXT = st.lists(st.one_of(WORDS, WORDS, WORDS, WORDS, WORDS, TRAPS), min_size=1, max_size=3).map("".join)
SCALAR = st.one_of(
    TEXT,
    TEXT,
    TEXT,
    TEXT.map(lambda text: f'"{text}"'),
    TEXT.map(lambda text: f"'{text}'"),
)
SPACES = st.sampled_from(["", "", "", " ", "  ", "\t"])


@st.composite
def _line(draw: st.DrawFn) -> str:
    kinds = ["pair"] * 6 + ["flow"] * 2 + ["empty", "item", "item", "item", "comment", "blank", "raw"]
    kind = draw(st.sampled_from(kinds))
    key = draw(KEYS)
    if kind == "pair":
        return f"{key}:{draw(st.sampled_from([' ', ' ', ' ', '  ', '']))}{draw(SCALAR)}{draw(SPACES)}"
    if kind == "flow":
        items = draw(st.lists(st.tuples(SPACES, SCALAR, SPACES).map("".join), max_size=4))
        comma = draw(st.sampled_from([", ", ", ", ",", " ,"]))
        return f"{key}: [{comma.join(items)}{draw(st.sampled_from(['', '', '', ',']))}]"
    if kind == "empty":
        return f"{key}:{draw(SPACES)}"
    if kind == "item":
        indent = draw(st.sampled_from(["", "", "  ", "  ", " ", "    "]))
        return f"{indent}-{draw(st.sampled_from([' ', ' ', ' ', '  ', '']))}{draw(SCALAR)}"
    if kind == "comment":
        return f"{draw(st.sampled_from(['', '  ']))}#{draw(SCALAR)}"
    if kind == "blank":
        return draw(SPACES)
    return draw(st.text(max_size=12))


DOCUMENT = st.tuples(st.lists(_line(), max_size=8), st.sampled_from(["\n", "\n", "\n", "\n", "\r\n", "\r"])).map(
    lambda parts: "".join(line + parts[1] for line in parts[0])
)


GOOD_KEY = st.sampled_from(["title", "date", "tags", "a.b", "c-d", "_e", "y", "author_bio"])


@st.composite
def _front_matter(draw: st.DrawFn) -> str:
    """Front matter as articles have it: pairs, flow and block sequences, comments; a trap now and then."""
    lines: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        key = draw(st.one_of(GOOD_KEY, GOOD_KEY, GOOD_KEY, GOOD_KEY, KEYS))
        shape = draw(st.sampled_from(["pair", "pair", "pair", "flow", "block", "empty", "comment"]))
        if shape == "pair":
            lines.append(f"{key}: {draw(SCALAR)}{draw(st.sampled_from(['', '', ' ']))}")
        elif shape == "flow":
            items = draw(st.lists(SCALAR, max_size=4))
            lines.append(f"{key}: [{draw(st.sampled_from([', ', ',', ' , '])).join(items)}]")
        elif shape == "block":
            lines.append(f"{key}:")
            indent = draw(st.sampled_from(["", "  ", "    "]))
            for item in draw(st.lists(SCALAR, max_size=3)):
                lines.append(f"{indent}-{draw(st.sampled_from([' ', ' ', '  ']))}{item}")
                if draw(st.integers(min_value=0, max_value=9)) == 0:
                    lines.append(draw(st.sampled_from(["", "# between", "  # between", " "])))
        elif shape == "empty":
            lines.append(f"{key}:")
        else:
            lines.append(f"# {draw(SCALAR)}")
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n"]))
    return "".join(line + newline for line in lines)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_front_matter())
@example("title: x\ntags:\n- a\n- b\n")
def test_same_as_pyyaml_on_generated_front_matter(text: str) -> None:
    _read_or_decline(text)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT)
def test_same_as_pyyaml_on_generated_lines(text: str) -> None:
    _read_or_decline(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.integers(min_value=-24 * 60 + 1, max_value=24 * 60 - 1),
    st.sampled_from(["T", "t", " "]),
)
def test_dates_with_an_offset_are_pyyaml_s(moment: datetime, offset: int, separator: str) -> None:
    # The commonest timestamp is built without PyYAML's constructor: the same datetime, zone and all.
    sign = "-" if offset < 0 else "+"
    written = moment.replace(microsecond=0).isoformat(separator)
    text = f"date: {written}{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}\n"
    assert _read_or_decline(text)
    found = read_lines(text, LOADERS[0])
    assert found is not None
    assert found["date"].tzinfo == timezone(timedelta(minutes=offset))


@settings(max_examples=100, deadline=None)
@given(st.dates())
def test_dates_alone_are_pyyaml_s(day: date) -> None:
    assert _read_or_decline(f"date: {day.isoformat()}\n")


def test_known_keys_are_remembered_only_up_to_a_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hostile front matter with a new key in every file must not grow memory without end.
    monkeypatch.setattr(front_matter_lines, "_KEYS", set())
    monkeypatch.setattr(front_matter_lines, "_KEYS_LIMIT", 3)
    for number in range(10):
        assert read_lines(f"key{number}: x\n", LOADERS[0]) == {f"key{number}": "x"}
    assert len(front_matter_lines._KEYS) == 3
