"""Front matter's YAML read into Python values: PyYAML's safe loading, with the usual shapes built directly.

PyYAML's C loader parses and composes in C, but builds the values in Python,
through a general constructor (recursion guards, deferred generators, merge
keys) that costs more than the parsing for a few lines of ``key: value``. The
front matter of nearly every article is one mapping of plain keys to scalars
and to lists of scalars; for that shape the values are built here, calling
for each scalar the very function PyYAML's safe constructor calls for its tag
(so ``2026-11-01`` is a ``date``, ``yes`` is ``True``, as before).

Anything else goes to PyYAML's own constructor, from scratch: other shapes
(nesting deeper than a list or a mapping of scalars), non-string keys, merge
keys (``<<``), explicit tags, and any scalar whose construction fails, so every
error is PyYAML's own, raised where it would have been. The values are the
same either way; the fast path only skips the general machinery.

Before any of this, :mod:`.front_matter_lines` reads the commonest shapes of
all line by line, without libyaml (whose callback into Python for every
scalar's tag is most of what is left); it declines anything else, unchanged.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .front_matter_lines import read_lines

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
# Tags of scalars whose constructor (the loader's own, looked up as PyYAML does) builds a value from one node.
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "binary", "timestamp")
)


class _Unusual(Exception):
    """A node outside the shapes built here: PyYAML's constructor builds the document instead."""


def load_yaml(text: str, loader_class: Any) -> Any:
    """``yaml.load(text, Loader=loader_class)``, faster for the usual front matter; same values, same errors."""
    # The commonest shapes without libyaml at all (see front_matter_lines); the rest below.
    data = read_lines(text, loader_class)
    if data is not None:
        return data
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _document(node, loader)
        except _Unusual:
            return loader.construct_document(node)
    finally:
        loader.dispose()


def _document(node: Node, loader: Any) -> Any:
    if type(node) is MappingNode and node.tag == _MAP:
        return _mapping(node, loader, nested=False)
    if type(node) is ScalarNode:
        return _scalar(node, loader)
    raise _Unusual


def _mapping(node: MappingNode, loader: Any, *, nested: bool) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        # A string key only: "<<" (merge) and "=" (value) keys have tags of their own and go to PyYAML.
        if type(key_node) is not ScalarNode or key_node.tag != _STR:
            raise _Unusual
        kind = type(value_node)
        if kind is ScalarNode:
            value = _scalar(value_node, loader)
        elif nested:
            raise _Unusual
        elif kind is SequenceNode and value_node.tag == _SEQ:
            value = [_scalar(item, loader) for item in value_node.value]
        elif kind is MappingNode and value_node.tag == _MAP:
            value = _mapping(value_node, loader, nested=True)
        else:
            raise _Unusual
        mapping[key_node.value] = value
    return mapping


def _scalar(node: Node, loader: Any) -> Any:
    if type(node) is not ScalarNode:
        raise _Unusual
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag not in _SCALAR_TAGS:
        raise _Unusual
    try:
        return loader.yaml_constructors[tag](loader, node)
    except Exception:  # a value PyYAML cannot build: its own constructor reports it, in its own order
        raise _Unusual from None
