"""Read the plain-text article format news desks paste from their CMS.

The shape (see DESIGN.md)::

    Headline On The First Line

    Paragraphs separated by blank lines...

    MORE: Headline Of Another Story The Desk Wants To Push

    Related Stories on Example Site:

    Headline Of A Related Story
    Another Related Headline

    Based in Chicago, Jane Doe covers documentaries and festivals. ...

Headlines in ``MORE:`` lines and the related block are kept as written; the
:class:`~syndicate.collection.Collection` resolves them to articles by title.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from ..model import Article, Problem, Severity
from ..slugs import article_slug
from .context import ArticleContext
from .render import summarise
from .textcheck import cleaned_file_text

MORE_PREFIX = "MORE:"
_RELATED_MARKER = re.compile(r"^\s*Related\s+Stories\s+on\s+.+:\s*$", re.I)
_WORD = r"[A-Z\u00c0-\u00de][\w'\u2019.-]+"
_PARTICLE = r"(?:de|da|del|van|von|der|le|la|di|du|bin|al)"
# A person's name: two to four capitalised words, with particles such as "van" or "de".
_NAME = rf"(?P<name>{_WORD}(?:\s+(?:{_PARTICLE}\s+)*{_WORD}){{1,3}})"
_BIO_PATTERNS = (
    re.compile(rf"^Based in [^,]+,\s+{_NAME}\s+(?:writes|covers|reports|is|has|reviews|edits)\b"),
    re.compile(rf"^{_NAME}\s+is (?:a \w+ )?(?:writer |critic |journalist |reporter )?based in\b"),
    re.compile(rf"^{_NAME}\s+(?:writes|covers|reports)\s+(?:about|on)?\b"),
)


@dataclass(frozen=True, slots=True)
class PlainTextStory:
    """The parts of a plain-text article before it becomes an Article."""

    title: str
    paragraphs: tuple[str, ...]
    more: tuple[str, ...]
    related: tuple[str, ...]
    author_name: str
    author_bio: str


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def bio_author(paragraph: str) -> str | None:
    """The author's name if ``paragraph`` reads like a closing author bio."""
    for pattern in _BIO_PATTERNS:
        match = pattern.match(paragraph)
        if match:
            return match.group("name").strip()
    return None


def _looks_like_headline(line: str) -> bool:
    return len(line) <= 200 and not line.endswith((".", '?"', '."')) and bio_author(line) is None


def parse_plaintext(text: str) -> PlainTextStory:
    """Split a plain-text article into headline, paragraphs, pointers and bio.

    Raises ``ValueError`` when there is no headline.
    """
    blocks = _blocks(text.lstrip("\ufeff"))
    if not blocks:
        raise ValueError("empty file: the first line must be the headline")
    title = blocks[0][0]
    rest = [blocks[0][1:], *blocks[1:]] if len(blocks[0]) > 1 else blocks[1:]
    paragraphs: list[str] = []
    more: list[str] = []
    related: list[str] = []
    author_name = author_bio = ""
    if rest:
        last = " ".join(rest[-1])
        name = bio_author(last)
        if name:
            author_name, author_bio = name, last
            rest = rest[:-1]
    in_related = False
    for block in rest:
        if _RELATED_MARKER.match(block[0]):
            in_related = True
            related.extend(line for line in block[1:] if _looks_like_headline(line))
            continue
        if in_related and all(_looks_like_headline(line) for line in block):
            related.extend(block)
            continue
        in_related = False
        prose: list[str] = []
        for line in block:
            if line.upper().startswith(MORE_PREFIX):
                if prose:
                    paragraphs.append(" ".join(prose))
                    prose = []
                pointer = line[len(MORE_PREFIX) :].strip()
                if pointer:
                    more.append(pointer)
                    paragraphs.append(f"{MORE_PREFIX} {pointer}")
            else:
                prose.append(line)
        if prose:
            paragraphs.append(" ".join(prose))
    return PlainTextStory(title, tuple(paragraphs), tuple(more), tuple(related), author_name, author_bio)


def more_paragraph_html(headline: str, url: str | None = None) -> str:
    """The HTML of a ``MORE:`` pointer, linked once the collection resolves it."""
    label = html.escape(headline, quote=False)
    target = f'<a href="{html.escape(url)}">{label}</a>' if url else label
    return f'<p class="more"><strong>More:</strong> {target}</p>'


def story_html(story: PlainTextStory) -> str:
    """The story's paragraphs as HTML, ``MORE:`` pointers as (not yet linked) pointer paragraphs."""
    parts = []
    for paragraph in story.paragraphs:
        if paragraph.startswith(MORE_PREFIX + " "):
            parts.append(more_paragraph_html(paragraph[len(MORE_PREFIX) + 1 :]))
        else:
            parts.append(f"<p>{html.escape(paragraph, quote=False)}</p>")
    return "\n".join(parts) + "\n"


def load_plaintext(
    text: str,
    path: str,
    context: ArticleContext,
    published: datetime,
    date_is_guess: bool,
) -> tuple[Article | None, list[Problem]]:
    """Parse a plain-text article dated ``published``.

    ``date_is_guess`` (the date came from the file's mtime) adds a warning, so
    a missing date is never silently replaced.
    """
    text, problems = cleaned_file_text(text, path)
    try:
        story = parse_plaintext(text)
    except ValueError as exc:
        return None, [*problems, Problem(path, str(exc), Severity.ERROR, 1)]
    if date_is_guess:
        problems.append(
            Problem(
                path,
                f"plain-text article has no date; using the file's modification time "
                f"{published.isoformat(timespec='minutes')} (run `syndicate import --date` to fix it)",
                Severity.WARNING,
            )
        )
    if not story.author_name:
        problems.append(Problem(path, "no author bio paragraph found at the end", Severity.WARNING))
    slug = article_slug(PurePath(path).stem)
    url = context.article_url(slug, published)
    body_text = "\n".join(p for p in story.paragraphs if not p.startswith(MORE_PREFIX + " "))
    first = next((p for p in story.paragraphs if not p.startswith(MORE_PREFIX + " ")), "")
    article = Article(
        id=context.permanent_id(slug, published),
        slug=slug,
        title=story.title,
        url=url,
        published=published,
        source_path=path,
        content_html=story_html(story),
        text=body_text,
        summary=summarise(first),
        author=context.author(story.author_name, story.author_bio) if story.author_name else None,
        related=story.related,
        more=story.more,
    )
    return article, problems
