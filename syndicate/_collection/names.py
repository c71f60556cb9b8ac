"""Tags and authors whose names differ but whose slugs are the same, told apart.

``José Ruiz`` and ``Jose Ruiz`` are two people; their slug is ``jose-ruiz``
either way, and one author feed would carry both. Across the whole
collection, names that share a slug but not a :func:`~syndicate._slugs.name_key`
are found; one keeps the slug and the others get a hash suffix, with a
warning. Which one keeps it does not depend on file order: the plain-ASCII
name first (it is the one the slug spells), then the smallest key. Names that
differ only in case or punctuation (``Box Office``, ``box-office``) are one
name and share the slug, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .._model import Article, Author, Problem, Severity, Tag
from .._slugs import name_key, with_hash

# (kind, slug) -> {name key: (a name with that key, the first file using it)}
_Seen = dict[tuple[str, str], dict[str, tuple[str, str]]]


def _record(seen: _Seen, keys: dict[str, str], kind: str, slug: str, name: str, path: str) -> None:
    key = keys.get(name)
    if key is None:
        key = keys[name] = name_key(name)
    group = seen.setdefault((kind, slug), {})
    if key not in group or path < group[key][1]:
        group[key] = (name, path)


def distinct_names(articles: Iterable[Article]) -> tuple[list[Article], list[Problem]]:
    """``articles`` with colliding tag and author slugs made distinct, and a warning for each renamed name."""
    listed = list(articles)
    seen: _Seen = {}
    keys: dict[str, str] = {}
    for article in listed:
        for tag in article.tags:
            _record(seen, keys, "tag", tag.slug, tag.name, article.source_path)
        if article.author is not None:
            _record(seen, keys, "author", article.author.slug, article.author.name, article.source_path)
    renamed: dict[tuple[str, str, str], str] = {}  # (kind, slug, key) -> new slug
    problems: list[Problem] = []
    for (kind, slug), group in seen.items():
        if len(group) < 2:
            continue
        keeper = min(group, key=lambda key: (not group[key][0].isascii(), key))
        for key, (name, path) in sorted(group.items()):
            if key == keeper:
                continue
            new = with_hash(slug, name)
            renamed[(kind, slug, key)] = new
            problems.append(
                Problem(
                    path,
                    f"{kind} '{name}' has the same slug '{slug}' as the {kind} '{group[keeper][0]}': "
                    f"its feed is published at '{new}' instead",
                    Severity.WARNING,
                )
            )
    if not renamed:
        return listed, problems
    return [_renamed(article, renamed, keys) for article in listed], problems


def _renamed(article: Article, renamed: dict[tuple[str, str, str], str], keys: dict[str, str]) -> Article:
    tags = tuple(
        Tag(tag.name, renamed[("tag", tag.slug, keys[tag.name])])
        if ("tag", tag.slug, keys[tag.name]) in renamed
        else tag
        for tag in article.tags
    )
    author: Author | None = article.author
    if author is not None and ("author", author.slug, keys[author.name]) in renamed:
        author = replace(author, slug=renamed[("author", author.slug, keys[author.name])])
    if author is article.author and all(a is b for a, b in zip(tags, article.tags, strict=True)):
        return article
    return replace(article, tags=tags, author=author)
