"""The parse cache's pickles are positional: a change of the model's fields must come with a new parser version.

Articles and what they hold pickle as their field values in order (see
``syndicate._model``), and the parse cache keeps those pickles between builds.
Were a field added, removed or moved without bumping ``PARSER_VERSION``, a
cached parse would load its old values into the wrong fields. This test pins
the fields with the version they belong to: change both together.
"""

from __future__ import annotations

import dataclasses

from syndicate._collection.context import PARSER_VERSION
from syndicate._model import Article, Author, Image, Problem, Tag

PINNED_VERSION = "13"
PINNED_FIELDS = {
    "Article": (
        *("id", "slug", "title", "url", "published", "source_path", "content_html", "text", "summary", "updated"),
        *("author", "tags", "image", "related", "coauthors", "more", "draft", "featured", "has_permanent_id"),
        "content_hash",
    ),
    "Author": ("name", "slug", "bio", "email", "url", "avatar", "handles", "show_email"),
    "Tag": ("name", "slug"),
    "Image": ("url", "alt", "mime_type", "width", "height"),
    "Problem": ("path", "message", "severity", "line"),
}


def test_fields_change_only_with_the_parser_version() -> None:
    fields = {
        cls.__name__: tuple(f.name for f in dataclasses.fields(cls)) for cls in (Article, Author, Tag, Image, Problem)
    }
    if PARSER_VERSION == PINNED_VERSION:
        assert fields == PINNED_FIELDS, "fields changed: bump PARSER_VERSION, then pin the new fields and version here"
