"""Articles and what they hold survive pickling unchanged (worker processes and the parse cache rely on it).

They pickle compactly, as their field values in order; pickles written the
earlier way (a dataclass's state) still load, so a parse cache from before
the change is read as it is.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from syndicate import Article, Author, Image, Problem, Severity, Tag

AUTHOR = Author(
    name="Jane Doe",
    slug="jane-doe",
    bio="Covers festivals.",
    email="jane@example.com",
    url="https://example.com/jane",
    avatar="https://example.com/jane.jpg",
    handles=("@jane", "@jane@film.social"),
    show_email=True,
)
ARTICLE = Article(
    id="tag:example.com,2026-11-01:a-story",
    slug="a-story",
    title="A Story",
    url="https://example.com/a-story/",
    published=datetime(2026, 11, 1, 12, tzinfo=timezone(timedelta(hours=-5))),
    source_path="content/a-story.md",
    content_html="<p>Body</p>",
    text="Body",
    summary="A summary",
    updated=datetime(2026, 11, 2, tzinfo=UTC),
    author=AUTHOR,
    tags=(Tag("Box Office", "box-office"), Tag("Festivals", "festivals")),
    image=Image("https://example.com/a.jpg", "An image", "image/png", 640, 480),
    related=("another-story",),
    coauthors=(Author("John Roe", "john-roe"),),
    more=("A Headline",),
    draft=True,
    featured=True,
    has_permanent_id=True,
    content_hash="0123456789abcdef",
)
VALUES = [ARTICLE, AUTHOR, ARTICLE.image, ARTICLE.tags[0], Problem("content/a.md", "bad", Severity.WARNING, 3)]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_round_trip_keeps_every_field(value: Any) -> None:
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(value, protocol))
        assert copy == value
        assert type(copy) is type(value)


def _pickled_as_state(value: Any) -> bytes:
    """``value`` pickled as a frozen dataclass with slots pickles by default: its class, then its state."""

    class StatePickler(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if type(obj) in {Article, Author, Image, Tag, Problem}:
                return copyreg.__newobj__, (type(obj),), obj.__getstate__()  # type: ignore[attr-defined]
            return NotImplemented

    buffer = io.BytesIO()
    StatePickler(buffer, pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_pickles_of_the_earlier_form_still_load(value: Any) -> None:
    assert pickle.loads(_pickled_as_state(value)) == value


def test_the_compact_form_is_smaller() -> None:
    assert len(pickle.dumps(ARTICLE, pickle.HIGHEST_PROTOCOL)) < len(_pickled_as_state(ARTICLE))
