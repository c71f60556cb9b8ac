"""What a loader needs to know about the site to turn a file into an Article."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from .._config import Config
from .._model import Author, Image, Problem, Tag
from .._slugs import slugify
from .authors import load_author_registry, merged_authors

# Bump when a loader's output changes, so cached articles are parsed again; also when the
# fields of Article, Author, Tag, Image or Problem change: the cache stores them pickled by
# position (see syndicate._model), and another order would read old values into new fields.
PARSER_VERSION = "13"


@dataclass(frozen=True)
class ArticleContext:
    """Site settings that shape a parsed article; part of the parse-cache key."""

    base_url: str
    domain: str
    timezone: str
    permalink: str = "/{slug}/"
    authors: dict[str, Author] = field(default_factory=dict)
    # What was wrong with the author registry's files when it was read (for ``check``); not a parse input.
    author_problems: tuple[Problem, ...] = field(default=(), compare=False, repr=False)
    # Each Author made by author(), by (name, bio): one object for thousands of articles, so the
    # parse cache pickles it once (see syndicate._store.articles) and a load keeps one copy.
    _made_authors: dict[tuple[str, str], Author] = field(default_factory=dict, init=False, compare=False, repr=False)

    @classmethod
    def from_config(cls, config: Config) -> ArticleContext:
        """The context of a site's config: authors from ``[authors.<slug>]`` tables and ``content/authors/``."""
        authors = {
            slug: Author(
                name=details.name or slug,
                slug=slug,
                bio=details.bio,
                email=details.email or None,
                url=details.url or None,
            )
            for slug, details in config.authors.items()
        }
        registry, problems = load_author_registry(config.content_dir, config.root, config.site.base_url)
        authors = merged_authors(authors, registry)
        return cls(
            base_url=config.site.base_url,
            domain=config.site.domain,
            timezone=config.site.timezone,
            permalink=config.site.permalink,
            authors=authors,
            author_problems=tuple(problems),
        )

    @property
    def tz(self) -> ZoneInfo:
        """The site's timezone, for naive dates."""
        return ZoneInfo(self.timezone)

    def fingerprint(self) -> str:
        """A string that changes whenever parsed output would change."""
        authors = sorted(
            (a.slug, a.name, a.bio, a.email, a.url, a.avatar, a.handles, a.show_email) for a in self.authors.values()
        )
        return repr((PARSER_VERSION, self.base_url, self.timezone, self.permalink, authors))

    def article_url(self, slug: str, published: datetime) -> str:
        """The absolute URL of an article page, from ``[site] permalink``."""
        path = self.permalink.format(
            slug=slug,
            year=f"{published.year:04d}",
            month=f"{published.month:02d}",
            day=f"{published.day:02d}",
        )
        return self.base_url + "/" + path.lstrip("/")

    def absolute(self, url: str, page_url: str | None = None) -> str:
        """``url`` made absolute against the article page (or the site root)."""
        return urljoin(page_url or self.base_url + "/", url)

    def permanent_id(self, slug: str, published: datetime) -> str:
        """A tag URI (RFC 4151) from the domain, the publication date and the slug."""
        return f"tag:{self.domain},{published.date().isoformat()}:{slug}"

    def author(self, name: str, bio: str = "") -> Author:
        """The Author called ``name``, with details from ``[authors.<slug>]`` if any.

        The same object for the same ``name`` and ``bio`` (Authors are immutable).
        """
        found = self._made_authors.get((name, bio))
        if found is None:
            found = self._made_authors.setdefault((name, bio), self._new_author(name, bio))
        return found

    def _new_author(self, name: str, bio: str) -> Author:
        slug = _name_slug(name)
        known = self.authors.get(slug)
        if known is not None:
            return known if known.bio or not bio else replace(known, bio=bio)
        return Author(name=name, slug=slug, bio=bio)

    def image(self, url: str, alt: str, page_url: str, width: object = None, height: object = None) -> Image:
        """An :class:`Image` with an absolute URL, a MIME type guessed from its name, and its size if sane."""
        absolute = self.absolute(url, page_url)
        mime, _ = mimetypes.guess_type(absolute.split("?")[0])
        return Image(
            url=absolute, alt=alt, mime_type=mime or "image/jpeg", width=_pixels(width), height=_pixels(height)
        )


_MAX_PIXELS = 20_000


def _pixels(value: object) -> int | None:
    """A width or height from front matter: a whole number of pixels within reason, else unknown."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if 0 < number <= _MAX_PIXELS else None


@lru_cache(maxsize=8192)
def _name_slug(name: str) -> str:
    # A site has a few dozen authors, each on thousands of articles: slug each name once.
    return slugify(name)


@lru_cache(maxsize=8192)
def _tag(cleaned: str) -> Tag:
    # A site has a few hundred tags used thousands of times: slug each name once.
    return Tag(name=cleaned, slug=slugify(cleaned))


def make_tags(names: list[str]) -> tuple[Tag, ...]:
    """Tags in the order given, without repeats (by slug)."""
    seen: dict[str, Tag] = {}
    for name in names:
        cleaned = " ".join(name.split())
        if cleaned:
            tag = _tag(cleaned)
            seen.setdefault(tag.slug, tag)
    return tuple(seen.values())
