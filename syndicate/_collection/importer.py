"""``syndicate import``: plain-text CMS pastes to Markdown articles with front matter.

The written front matter carries a permanent ``id``, so the story keeps its
feed GUID even if its slug is edited later. Headlines in ``MORE:`` lines and
the related block are resolved against the collection where possible and
written as slugs (links in the body for ``MORE:``); unresolved ones are kept
as headlines and reported.

The slug comes from the headline (a CMS paste is often called ``wrap.txt``),
unless one is given. The desk bio becomes the author's record in the
registry (``content/authors/<slug>.md``: bio, e-mail, handles), not text in
the story. The original is moved to ``content/.imported/`` (``keep`` leaves
it), and an import never leaves two files with one slug: a slug taken by
another file is refused, naming it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from .._atomicfile import write_atomic
from .._errors import InvalidArgumentError
from .._model import Problem, Severity
from .._slugs import article_slug
from . import Collection
from .authors import record_desk_authors
from .context import ArticleContext
from .plaintext import MORE_PREFIX, PlainTextStory, bio_problems, parse_plaintext
from .render import summarise

IMPORTED_FOLDER = ".imported"


@dataclass
class ImportResult:
    """The Markdown file written for one plain-text file, and what was off."""

    source: Path
    written: Path | None = None
    slug: str = ""
    problems: list[Problem] = field(default_factory=list)
    moved_to: Path | None = None  # where the original went (content/.imported/), unless kept
    authors: list[Path] = field(default_factory=list)  # registry records created or updated


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
    slug: str | None = None,
) -> tuple[str, str, list[Problem]]:
    """Convert one plain-text article; return (slug, Markdown document, problems).

    The slug is ``slug`` when given, else made from the headline.
    """
    story = parse_plaintext(text)
    slug = article_slug(slug or story.title)
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
    names = [name for name, _, _ in story.people()]
    if names:
        # The bio itself goes to the author registry (see import_plaintext), not into every story.
        front["author"] = names[0]
        if len(names) > 1:
            front["coauthors"] = names[1:]
    first = next((p for p in story.paragraphs if not p.startswith(MORE_PREFIX + " ")), "")
    if first:
        front["summary"] = summarise(first)
    if story.related:
        front["related"] = [resolve(headline)[0] for headline in story.related]
    if story.more:
        # Kept in the front matter too, so the loaded article knows its MORE: pointers.
        front["more"] = [resolve(headline)[0] for headline in story.more]
    problems.extend(bio_problems(story, source))
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    return slug, f"---\n{header}---\n\n" + "\n\n".join(body) + "\n", problems


def desk_files(paths: list[Path]) -> list[Path]:
    """The plain-text files named, folders expanded to the ``*.txt`` files inside them (hidden ones skipped)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*.txt")
                    if not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def _slug_owner(slug: str, target: Path, source: Path, collection: Collection | None, root: Path) -> str | None:
    """The file (relative to the site) that already publishes ``slug``: not ``target``, nor the original itself."""
    if collection is None:
        return None
    existing = collection.get(slug)
    if existing is None:
        return None
    owner = (root / existing.source_path).resolve()
    return None if owner in (target.resolve(), source.resolve()) else existing.source_path


def _record_authors(story: PlainTextStory, content_dir: Path, context: ArticleContext) -> list[Path]:
    people = [(name, bio, contact.emails, contact.handles) for name, bio, contact in story.people()]
    return record_desk_authors(content_dir, people, context.base_url)


def _move_original(file: Path, content_dir: Path) -> Path:
    """Move an imported original into ``content/.imported/`` (never overwriting an earlier one)."""
    folder = content_dir / IMPORTED_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file.name
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{file.stem}-{counter}{file.suffix}"
    shutil.move(file, target)
    return target


def import_plaintext(
    files: list[Path],
    content_dir: Path,
    context: ArticleContext,
    collection: Collection | None,
    date: datetime | None = None,
    overwrite: bool = False,
    *,
    slug: str | None = None,
    keep: bool = False,
    root: Path | None = None,
) -> list[ImportResult]:
    """Convert each file (folders: every ``*.txt`` inside) to ``content_dir/<slug>.md``.

    One bad file never stops the rest. Without ``date`` the file's mtime is
    used and a warning says so. ``slug`` names the one story imported (it
    cannot name several); ``keep`` leaves the originals where they are.
    ``root`` is the site folder the collection's paths are relative to
    (default: the content folder's parent).
    """
    files = desk_files(files)
    if slug is not None and len(files) != 1:
        raise InvalidArgumentError(f"--slug names one story, but {len(files)} files were given")
    taken: dict[str, Path] = {}
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
            story = parse_plaintext(text)
            chosen, document, problems = plaintext_to_markdown(text, str(file), context, published, collection, slug)
        except ValueError as exc:
            result.problems.append(Problem(str(file), str(exc), line=1))
            continue
        result.slug = chosen
        result.problems.extend(problems)
        target = content_dir / f"{chosen}.md"
        owner = _slug_owner(chosen, target, file, collection, root or content_dir.parent)
        if chosen in taken:
            result.problems.append(Problem(str(file), f"slug '{chosen}' is taken by {taken[chosen]} in this import"))
            continue
        if owner is not None:
            result.problems.append(
                Problem(str(file), f"slug '{chosen}' is already published by {owner} (give another with --slug)")
            )
            continue
        if target.exists() and not overwrite:
            result.problems.append(Problem(str(file), f"{target} exists already (use --overwrite)"))
            continue
        write_atomic(target, document)
        taken[chosen] = file
        result.written = target
        result.authors = _record_authors(story, content_dir, context)
        if not keep:
            result.moved_to = _move_original(file, content_dir)
    return results
