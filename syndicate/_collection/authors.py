"""The author registry: one file per person in ``content/authors/<slug>.md``.

An author is a record, not a string in a byline: a name, a bio, a web page,
an avatar, social handles and an e-mail address (published in Atom only when
``show_email: true``, since feeds are public and scraped). The front matter
holds the fields and the body holds the bio::

    ---
    name: Jane Doe
    email: jane@example.com
    show_email: false
    url: https://example.com/about/jane
    avatar: /images/authors/jane.jpg
    handles: ["@janedoe", "@jane@film.social"]
    ---
    Based in Portland, Oregon, Jane Doe covers documentaries and festivals.

``syndicate import`` creates or updates these files from desk bios; people
edit them by hand after that. ``[authors.<slug>]`` tables in
``syndicate.toml`` still work; a registry file wins where both say something.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml

from .._atomicfile import write_atomic
from .._model import Author, Problem, Severity
from .._slugs import slugify
from .._textguard import xml_safe

AUTHORS_FOLDER = "authors"
_MAX_FILE_BYTES = 64 * 1024
_FIELDS = ("name", "email", "show_email", "url", "avatar", "handles")


def author_files(content_dir: Path) -> list[tuple[str, os.stat_result]]:
    """The registry's files with their stat (part of the build's input signature)."""
    folder = content_dir / AUTHORS_FOLDER
    if not folder.is_dir():
        return []
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            # No symlinks: a record must not read a file from outside the site into a public bio.
            if (
                entry.name.endswith(".md")
                and not entry.name.startswith((".", "_"))
                and not entry.is_symlink()
                and entry.is_file()
            ):
                found.append((entry.path, entry.stat()))
    return sorted(found)


def _text(value: Any) -> str:
    return xml_safe(str(value)).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


def _handles(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(handle for handle in (_text(v) for v in value[:20]) if handle))


def parse_author_record(text: str, path: str, base_url: str) -> tuple[Author | None, list[Problem]]:
    """One registry file's author, or the problems that stop it."""
    from .markdown import FrontMatterError, split_front_matter

    try:
        meta, body, _ = split_front_matter(text)
    except FrontMatterError as exc:
        return None, [Problem(path, str(exc), Severity.ERROR, exc.line)]
    problems = []
    unknown = sorted(set(meta) - set(_FIELDS))
    if unknown:
        problems.append(Problem(path, f"unknown author field(s) {', '.join(unknown)}", Severity.WARNING))
    name = _text(meta.get("name"))
    slug = Path(path).stem
    if not name:
        return None, [*problems, Problem(path, "an author record needs a 'name'", Severity.ERROR, 2)]
    email = _text(meta.get("email"))
    if email and "@" not in email:
        problems.append(Problem(path, f"'email' is not an e-mail address: {email[:80]!r}", Severity.WARNING))
        email = ""
    avatar = _text(meta.get("avatar"))
    url = _text(meta.get("url"))
    author = Author(
        name=name,
        slug=slug,
        bio=" ".join(xml_safe(body).split()),
        email=email or None,
        url=urljoin(base_url + "/", url) if url else None,
        avatar=urljoin(base_url + "/", avatar) if avatar else None,
        handles=_handles(meta.get("handles")),
        show_email=meta.get("show_email") is True,
    )
    return author, problems


def load_author_registry(content_dir: Path, root: Path, base_url: str) -> tuple[dict[str, Author], list[Problem]]:
    """Every registry author by slug, and the problems of the files that could not be read."""
    authors: dict[str, Author] = {}
    problems: list[Problem] = []
    for path, info in author_files(content_dir):
        shown = os.path.relpath(path, root)
        if info.st_size > _MAX_FILE_BYTES:
            problems.append(Problem(shown, f"author record larger than {_MAX_FILE_BYTES} bytes", Severity.ERROR))
            continue
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(shown, f"cannot read author record: {exc}", Severity.ERROR))
            continue
        author, found = parse_author_record(text, shown, base_url)
        problems.extend(found)
        if author is not None:
            authors[author.slug] = author
    return authors, problems


def merged_authors(configured: dict[str, Author], registry: dict[str, Author]) -> dict[str, Author]:
    """``[authors.<slug>]`` tables overlaid by registry files, field by field (the file wins)."""
    merged = dict(configured)
    for slug, record in registry.items():
        known = merged.get(slug)
        if known is None:
            merged[slug] = record
            continue
        merged[slug] = replace(
            record,
            bio=record.bio or known.bio,
            email=record.email or known.email,
            url=record.url or known.url,
        )
    return merged


def author_record(author: Author, bio: str) -> str:
    """A registry file for ``author`` with ``bio`` as its body."""
    front: dict[str, Any] = {"name": author.name}
    if author.email:
        front["email"] = author.email
        front["show_email"] = author.show_email
    if author.url:
        front["url"] = author.url
    if author.avatar:
        front["avatar"] = author.avatar
    if author.handles:
        front["handles"] = list(author.handles)
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{header}---\n{bio.strip()}\n"


def record_desk_authors(
    content_dir: Path, people: Iterable[tuple[str, str, Iterable[str], Iterable[str]]], base_url: str
) -> list[Path]:
    """Create or update registry files from desk bios: (name, bio, e-mails, handles) for each person.

    An existing file keeps what a person wrote there; a desk bio only fills in
    what is missing (a bio, an e-mail address, handles it does not list yet).
    """
    written = []
    folder = content_dir / AUTHORS_FOLDER
    for name, bio, emails, handles in people:
        slug = slugify(name)
        path = folder / f"{slug}.md"
        existing = None
        if path.is_file():
            existing, _ = parse_author_record(path.read_text(encoding="utf-8"), str(path), base_url)
        email_list = list(emails)
        if existing is None:
            author = Author(name=name, slug=slug, email=email_list[0] if email_list else None, handles=tuple(handles))
            text = author_record(author, bio)
        else:
            author = replace(
                existing,
                email=existing.email or (email_list[0] if email_list else None),
                handles=tuple(dict.fromkeys([*existing.handles, *handles])),
            )
            text = author_record(author, existing.bio or bio)
        if write_atomic(path, text):
            written.append(path)
    return written
