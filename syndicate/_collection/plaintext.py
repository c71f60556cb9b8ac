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
:class:`~syndicate._collection.Collection` resolves them to articles by title.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath

from .._model import Article, Problem, Severity
from .._slugs import article_slug
from .bios import Contact, DeskBio, is_contact_line, looks_like_bio, read_bio, read_contact
from .context import ArticleContext
from .render import summarise
from .textcheck import cleaned_file_text

MORE_PREFIX = "MORE:"
_RELATED_MARKER = re.compile(r"^\s*Related\s+Stories\s+on\s+.+:\s*$", re.I)


@dataclass(frozen=True, slots=True)
class PlainTextStory:
    """The parts of a plain-text article before it becomes an Article."""

    title: str
    paragraphs: tuple[str, ...]
    more: tuple[str, ...]
    related: tuple[str, ...]
    bios: tuple[DeskBio, ...] = ()  # the closing bio paragraphs, one per byline (usually one)
    contact: Contact = field(default_factory=Contact)  # a contact line standing on its own after the bio
    unrecognised_bio: str = ""  # a closing paragraph that reads like a bio but names nobody we can tell

    @property
    def author_name(self) -> str:
        return self.bios[0].name if self.bios else ""

    @property
    def author_bio(self) -> str:
        return self.bios[0].text if self.bios else ""

    def people(self) -> list[tuple[str, str, Contact]]:
        """Each byline: (name, bio, contact); a shared bio or contact line goes to each person it names."""
        found: list[tuple[str, str, Contact]] = []
        for bio in self.bios:
            contact = bio.contact if bio.contact.text else self.contact
            found.extend((name, bio.text, contact) for name in bio.names)
        return found


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
    """The (first) author's name if ``paragraph`` reads like a closing author bio."""
    bio = read_bio(paragraph)
    return bio.name if bio is not None else None


def _looks_like_headline(line: str) -> bool:
    return len(line) <= 200 and not line.endswith((".", '?"', '."')) and read_bio(line) is None


def _closing_bios(rest: list[list[str]]) -> tuple[list[list[str]], tuple[DeskBio, ...], Contact, str]:
    """Take the bio paragraphs (and a contact line on its own) off the end of the story.

    The bio closes the story but may come before the related block or after
    it, and two bylines may each have a paragraph; what follows a bio may only
    be the related block, another bio or a contact line.
    """
    bios: list[DeskBio] = []
    contact = Contact()
    unrecognised = ""
    kept = list(rest)
    index = len(kept) - 1
    in_tail = True
    while index >= 0 and in_tail:
        text = " ".join(kept[index])
        bio = read_bio(text)
        if bio is not None:
            bios.insert(0, bio)
            del kept[index]
        elif is_contact_line(text) and not bios and not contact.text:
            contact = read_contact(text)
            del kept[index]
        elif _RELATED_MARKER.match(kept[index][0]) or (
            all(_looks_like_headline(line) for line in kept[index]) and _related_before(kept, index)
        ):
            pass  # the related block: the bio may stand before it
        else:
            if not bios and looks_like_bio(text):
                unrecognised = text
            in_tail = False
        index -= 1
    return kept, tuple(bios), contact, unrecognised


def _related_before(blocks: list[list[str]], index: int) -> bool:
    """Whether a related-stories marker opens a block at or before ``index`` with only headlines since."""
    for position in range(index, -1, -1):
        if _RELATED_MARKER.match(blocks[position][0]):
            return True
        if not all(_looks_like_headline(line) for line in blocks[position]):
            return False
    return False


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
    rest, bios, contact, unrecognised = _closing_bios(rest)
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
    return PlainTextStory(title, tuple(paragraphs), tuple(more), tuple(related), bios, contact, unrecognised)


def bio_problems(story: PlainTextStory, path: str) -> list[Problem]:
    """What ``check`` says about a story's closing bio: missing, or there but not recognised (quoted)."""
    if story.bios:
        return []
    if story.unrecognised_bio:
        quoted = story.unrecognised_bio if len(story.unrecognised_bio) <= 300 else story.unrecognised_bio[:299] + "…"
        return [
            Problem(
                path,
                f'the closing paragraph reads like an author bio but names no author it can tell: "{quoted}" '
                "(write it as 'Jane Doe covers …', 'Jane Doe is a … based in …' or 'Based in <place>, Jane Doe …')",
                Severity.WARNING,
            )
        ]
    return [Problem(path, "no author bio paragraph found at the end", Severity.WARNING)]


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
    problems.extend(bio_problems(story, path))
    slug = article_slug(PurePath(path).stem)
    url = context.article_url(slug, published)
    authors = [context.author(name, bio) for name, bio, _ in story.people()]
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
        author=authors[0] if authors else None,
        coauthors=tuple(authors[1:]),
        related=story.related,
        more=story.more,
    )
    return article, problems
