"""The writers' last line of defence: no string reaches lxml or the JSON encoder unless XML can carry it.

The loaders (own articles) and the source normaliser (outside entries) are
where such characters are found and reported; this only makes sure that a
string which slipped past them (a new field, a config value written with a
TOML escape) cannot stop a build with lxml's "All strings must be XML
compatible", or the JSON Feed with an unencodable lone surrogate.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar

from .._textguard import xml_safe

_T = TypeVar("_T")


# The field names of each dataclass met (or () for any other type): dataclasses.fields() and
# is_dataclass() on every value cost more than scrubbing the strings, at a few dozen values per item.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = tuple(field.name for field in fields(kind)) if is_dataclass(kind) else ()
        _FIELD_NAMES[kind] = names
    return names


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, tuple):
        items = tuple(_scrubbed(item) for item in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, type):
        return value
    changes = {}
    for name in _field_names(type(value)):
        old = getattr(value, name)
        new = _scrubbed(old)
        if new is not old:
            changes[name] = new
    return replace(value, **changes) if changes else value


def xml_safe_copy(item: _T) -> _T:
    """``item`` (an Article, OutsideEntry, FeedMeta) itself when all its strings are XML-safe, else a clean copy."""
    result: _T = _scrubbed(item)
    return result
