"""``syndicate import``: plain-text CMS pastes to Markdown articles with front matter.

The written front matter carries a permanent ``id``, so the story keeps its
feed GUID even if its slug is edited later. Headlines in ``MORE:`` lines and
the related block are resolved against the collection where possible and
written as slugs (links in the body for ``MORE:``); unresolved ones are kept
as headlines and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ..atomicfile import write_atomic
from ..model import Problem, Severity
from ..slugs import article_slug
from . import Collection
from .context import ArticleContext
from .plaintext import MORE_PREFIX, parse_plaintext
from .render import summarise


@dataclass
class ImportResult:
    """The Markdown file written for one plain-text file, and what was off."""

    source: Path
    written: Path | None = None
    slug: str = ""
    problems: list[Problem] = field(default_factory=list)


_LIST_START = re.compile(r"^(\d+)([.)])(\s)|^([-+])(\s)")


def _markdown_escape(text: str) -> str:
    """Plain text as Markdown that renders as the same text (no emphasis, links, lists or headings)."""
    escaped = "".join("\\" + ch if ch in "\\`*_[]<>#" else ch for ch in text)
    # A paragraph starting "1. " or "- " would become a list.
    return _LIST_START.sub(lambda m: f"{m[1]}\\{m[2]}{m[3]}" if m[1] else f"\\{m[4]}{m[5]}", escaped)


def plaintext_to_markdown(
    text: str,
    source: str,
    context: ArticleContext,
    published: datetime,
    collection: Collection | None = None,
) -> tuple[str, str, list[Problem]]:
    """Convert one plain-text article; return (slug, Markdown document, problems)."""
    story = parse_plaintext(text)
    slug = article_slug(Path(source).stem)
    problems: list[Problem] = []

    def resolve(headline: str) -> tuple[str, str | None]:
        target = collection.resolve(headline) if collection is not None else None
        if target is None:
            problems.append(Problem(source, f"related story '{headline}' matches no article's title", Severity.WARNING))
            return headline, None
        return target.slug, target.url

    links = {headline: collection.resolve(headline) if collection is not None else None for headline in story.more}
    body: list[str] = []
    for paragraph in story.paragraphs:
        if paragraph.startswith(MORE_PREFIX + " "):
            headline = paragraph[len(MORE_PREFIX) + 1 :]
            target = links.get(headline)
            url = target.url if target is not None else None
            label = _markdown_escape(headline)
            body.append(f"**MORE:** [{label}]({url})" if url else f"**MORE:** {label}")
        else:
            body.append(_markdown_escape(paragraph))
    front: dict[str, Any] = {
        "id": context.permanent_id(slug, published),
        "title": story.title,
        "date": published.isoformat(timespec="minutes"),
    }
    if story.author_name:
        front["author"] = story.author_name
        front["author_bio"] = story.author_bio
    first = next((p for p in story.paragraphs if not p.startswith(MORE_PREFIX + " ")), "")
    if first:
        front["summary"] = summarise(first)
    if story.related:
        front["related"] = [resolve(headline)[0] for headline in story.related]
    if story.more:
        # Kept in the front matter too, so the loaded article knows its MORE: pointers.
        front["more"] = [resolve(headline)[0] for headline in story.more]
    if not story.author_name:
        problems.append(Problem(source, "no author bio paragraph found at the end", Severity.WARNING))
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    return slug, f"---\n{header}---\n\n" + "\n\n".join(body) + "\n", problems


def import_plaintext(
    files: list[Path],
    content_dir: Path,
    context: ArticleContext,
    collection: Collection | None,
    date: datetime | None = None,
    overwrite: bool = False,
) -> list[ImportResult]:
    """Convert each file to ``content_dir/<slug>.md``; one bad file never stops the rest.

    Without ``date`` the file's mtime is used and a warning says so.
    """
    results = []
    for file in files:
        result = ImportResult(source=file)
        results.append(result)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.problems.append(Problem(str(file), f"cannot read: {exc}"))
            continue
        published = date
        if published is None:
            published = datetime.fromtimestamp(file.stat().st_mtime, context.tz)
            result.problems.append(
                Problem(
                    str(file),
                    f"no --date given; using the file's modification time {published.isoformat(timespec='minutes')}",
                    Severity.WARNING,
                )
            )
        try:
            slug, document, problems = plaintext_to_markdown(text, str(file), context, published, collection)
        except ValueError as exc:
            result.problems.append(Problem(str(file), str(exc), line=1))
            continue
        result.slug = slug
        result.problems.extend(problems)
        target = content_dir / f"{slug}.md"
        if target.exists() and not overwrite:
            result.problems.append(Problem(str(file), f"{target} exists already (use --overwrite)"))
            continue
        write_atomic(target, document)
        result.written = target
    return results
