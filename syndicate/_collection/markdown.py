"""Load a Markdown article with YAML front matter."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import yaml

from .._dates import parse_date
from .._errors import FrontMatterError as FrontMatterError  # re-exported: its old import path
from .._model import Article, Problem, Severity
from .._slugs import article_slug
from .._textguard import capped, xml_safe
from .context import ArticleContext, make_tags
from .file_names import file_stem
from .front_matter_yaml import load_yaml
from .render import render_markdown, summarise
from .textcheck import cleaned_file_text, cleaned_value, has_forbidden_value, quoted

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Front matter is a few hundred bytes of keys; anything past this is not front matter but an attack or a mistake.
MAX_FRONT_MATTER = 64 * 1024
_MESSAGE_LIMIT = 300


class _NoAliasLoader(yaml.SafeLoader):
    """A safe loader that refuses YAML aliases (``*name``).

    An alias bomb ("billion laughs") expands a few lines into gigabytes; front
    matter never needs an alias, so the first one is an error, before any
    expansion. Used only when the text holds a ``*`` (the fast C loader, which
    cannot be told this, reads everything else).
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in front matter", event.start_mark
            )
        return super().compose_node(parent, index)


# Front matter: an opening "---" line, then everything up to the first "---" or "..." line. Found as
# two matches, not one pattern with a lazy ".*?" (which tries the closing line at every character).
_OPENING = re.compile(r"---[ \t]*\r?\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$\n?", re.M)

KNOWN_KEYS = frozenset(
    {
        "title",
        "date",
        "slug",
        "author",
        "author_bio",
        "coauthors",
        "tags",
        "summary",
        "image",
        "image_alt",
        "updated",
        "related",
        "draft",
        "id",
        "featured",
        "more",
    }
)


def fenced(text: str) -> tuple[int, int, int] | None:
    r"""Where ``text``'s front matter starts and ends, and where its body starts; ``None`` without one.

    The group and the end of what ``\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*\r?$\n?``
    (dot-all, multi-line) matches: the front matter ends at the first closing line.
    """
    opening = _OPENING.match(text)
    if opening is None:
        return None
    start = opening.end()
    # The opening line ends in "\n", so "^" matches where the search starts, as in the one pattern.
    closing = _CLOSING.search(text, start)
    if closing is None:
        return None
    return start, closing.start(), closing.end()


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Split a document into (front matter, body, line number where the body starts)."""
    found = fenced(text)
    if found is None:
        raise FrontMatterError("no front matter: the file must start with a '---' line", 1)
    start, end, body_start = found
    front = text[start:end]
    if len(front) > MAX_FRONT_MATTER:
        raise FrontMatterError(
            f"front matter is {len(front):,} characters, more than the {MAX_FRONT_MATTER:,} allowed", 1
        )
    try:
        data = load_yaml(front, _NoAliasLoader if "*" in front else _YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise FrontMatterError(capped(f"bad YAML in front matter: {problem}", _MESSAGE_LIMIT)[0], line) from None
    except Exception as exc:  # hostile text: whatever PyYAML raises is this file's problem
        # PyYAML's constructors raise more than YAMLError for values they cannot build: ValueError
        # for a 60,000-digit integer or month 13, AttributeError for an offset with seconds.
        message = capped(f"bad value in front matter: {xml_safe(str(exc))}", _MESSAGE_LIMIT)[0]
        raise FrontMatterError(message, None) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError("front matter must be a mapping of keys to values", 2)
    body_line = text.count("\n", 0, body_start) + 1
    return data, text[body_start:], body_line


# Dates a feed can carry: RFC 3339 offsets are whole minutes, and a year near 1 or 9999 overflows
# once moved to another offset. Older than this is a typo, not an archive.
EARLIEST_YEAR = 1800
LATEST_YEAR = 9000


def feed_date(moment: datetime) -> datetime:
    """``moment`` as a feed can write it; ``ValueError`` for a year outside the range feeds can carry.

    Before standard time (1883 in Chicago, 1972 in Monrovia) zones have
    offsets with seconds (-05:50:36), which RFC 3339 cannot write: such a
    date is given in UTC instead.
    """
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"date {moment.date().isoformat()} is outside the years {EARLIEST_YEAR}-{LATEST_YEAR}")
    offset = moment.utcoffset()
    if offset is not None and offset.seconds % 60:
        return moment.astimezone(UTC)
    return moment


def _key_line(text: str, key: str) -> int | None:
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _cleaned_meta(
    meta: dict[Any, Any], text: str, front_end: int, path: str, problems: list[Problem]
) -> dict[Any, Any]:
    """Front matter without XML-forbidden characters (YAML escapes make them), each removal reported.

    ``text`` is the file's text, already without them, its front matter ending at ``front_end``.
    """
    # YAML copies characters from the text into values, except in escapes ("\x01", "\ud800"), which
    # take a backslash: without one, every value is as clean as the text (nearly every article).
    if text.find("\\", 0, front_end) < 0 or not has_forbidden_value(meta):
        return meta
    cleaned: dict[Any, Any] = {}
    for key, value in meta.items():
        clean_key, gone_key = cleaned_value(key)
        clean, gone = cleaned_value(value)
        cleaned[clean_key] = clean
        removed = gone_key + gone
        if removed:
            codes = ", ".join(f"U+{code:04X}" for code in removed)
            problems.append(
                Problem(
                    path,
                    f"{quoted(clean_key)}: removed characters that XML cannot carry ({codes})",
                    Severity.WARNING,
                    _key_line(text, str(clean_key)) or 2,
                )
            )
    return cleaned


def _string_list(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return [str(item) for item in value]
    raise ValueError(
        f"'{key}' must be a list of strings (or a comma-separated string), not {type(value).__name__}: {quoted(value)}"
    )


def load_markdown(
    text: str, path: str, context: ArticleContext, with_body: bool = True
) -> tuple[Article | None, list[Problem]]:
    """Parse a Markdown article. Errors return ``None`` plus the problems found.

    ``with_body=False`` skips rendering the body (most of the cost): the article
    comes back with empty ``content_html`` and ``text``, and ``summary``/``image``
    only from the front matter. Every problem is still found (all come from the
    front matter), so a build can choose feed items from such stubs and render
    only the bodies it will publish.
    """
    text, problems = cleaned_file_text(text, path)

    def error(message: str, key: str | None = None, line: int | None = None) -> None:
        # Capped: a message may quote a value (a date), and a hostile value must not flood the report.
        message = capped(message, _MESSAGE_LIMIT)[0]
        problems.append(Problem(path, message, Severity.ERROR, line or (key and _key_line(text, key)) or None))

    try:
        meta, body, _ = split_front_matter(text)
    except FrontMatterError as exc:
        return None, [*problems, Problem(path, str(exc), Severity.ERROR, exc.line)]
    meta = _cleaned_meta(meta, text, len(text) - len(body), path, problems)

    # Nearly always every key is known: one check, before sorting what is not.
    unknown = () if KNOWN_KEYS.issuperset(meta) else sorted(set(map(str, meta)) - KNOWN_KEYS)
    for key in unknown:
        problems.append(
            Problem(path, f"unknown front-matter key {quoted(key)} (ignored)", Severity.WARNING, _key_line(text, key))
        )

    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        error("missing title: front matter needs 'title: ...'", "title" if "title" in meta else None, 2)
    published: datetime | None = None
    if "date" not in meta:
        error("missing date: front matter needs 'date: YYYY-MM-DD HH:MM'", line=2)
    else:
        try:
            published = feed_date(parse_date(meta["date"], context.tz))
        except ValueError as exc:
            error(str(exc), "date")
    updated = None
    if meta.get("updated") is not None:
        try:
            updated = feed_date(parse_date(meta["updated"], context.tz))
        except ValueError as exc:
            error(f"updated: {exc}", "updated")
    try:
        tag_names = _string_list(meta.get("tags"), "tags")
    except ValueError as exc:
        error(str(exc), "tags")
        tag_names = []
    try:
        related = _string_list(meta.get("related"), "related")
    except ValueError as exc:
        error(str(exc), "related")
        related = []
    try:
        more = _string_list(meta.get("more"), "more")
    except ValueError as exc:
        error(str(exc), "more")
        more = []
    for flag in ("draft", "featured"):
        if flag in meta and not isinstance(meta[flag], bool):
            error(f"'{flag}' must be true or false, not {quoted(meta[flag])}", flag)
    author_name = meta.get("author")
    if author_name is not None and not isinstance(author_name, str):
        error(f"'author' must be a name, not {quoted(author_name)}", "author")
        author_name = None
    try:
        coauthor_names = _string_list(meta.get("coauthors"), "coauthors")
    except ValueError as exc:
        error(str(exc), "coauthors")
        coauthor_names = []
    if published is None or (problems and any(p.severity is Severity.ERROR for p in problems)):
        return None, problems
    assert isinstance(title, str)

    slug = article_slug(str(meta.get("slug") or file_stem(path)))
    url = context.article_url(slug, published)
    rendered = render_markdown(body, url) if with_body else None
    permanent = meta.get("id")
    summary = meta.get("summary")
    image = meta.get("image")
    image_obj = None
    if isinstance(image, dict):
        image_obj = context.image(
            str(image.get("url", "")), str(image.get("alt", "")), url, image.get("width"), image.get("height")
        )
    elif isinstance(image, str) and image:
        image_obj = context.image(image, str(meta.get("image_alt", title)), url)
    elif rendered is not None and rendered.images:
        src, alt = rendered.images[0]
        image_obj = context.image(src, alt, url)
    article = Article(
        id=str(permanent) if permanent else context.permanent_id(slug, published),
        slug=slug,
        title=" ".join(title.split()),
        url=url,
        published=published,
        updated=updated,
        source_path=path,
        content_html=rendered.html if rendered else "",
        text=rendered.text if rendered else "",
        summary=str(summary).strip() if summary else summarise(rendered.first_paragraph) if rendered else "",
        author=context.author(author_name, str(meta.get("author_bio") or "")) if author_name else None,
        coauthors=tuple([context.author(name) for name in coauthor_names]) if coauthor_names else (),
        tags=make_tags(tag_names),
        image=image_obj,
        related=tuple(related),
        more=tuple(more),
        draft=bool(meta.get("draft", False)),
        featured=bool(meta.get("featured", False)),
        has_permanent_id=bool(permanent),
    )
    return article, problems


def complete_markdown(stub: Article, text: str, context: ArticleContext) -> Article:
    """A stub from ``load_markdown(..., with_body=False)`` made whole from its file's ``text``.

    Only the body is rendered (the front matter was read already); summary and
    image fall back to the body exactly as :func:`load_markdown` does.
    """
    # Cleaned as load_markdown cleaned it (the stub's problems already say what was removed).
    text = xml_safe(text)
    found = fenced(text)
    rendered = render_markdown(text[found[2] :] if found else text, stub.url)
    image = stub.image
    if image is None and rendered.images:
        src, alt = rendered.images[0]
        image = context.image(src, alt, stub.url)
    return replace(
        stub,
        content_html=rendered.html,
        text=rendered.text,
        summary=stub.summary or summarise(rendered.first_paragraph),
        image=image,
    )
