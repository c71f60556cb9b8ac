"""The article collection: loading, indexing and resolving references.

:func:`load_collection` reads a site's ``content/`` folder into a
:class:`Collection`, which indexes articles by slug, tag and author and
resolves editor references (slugs or headlines) to articles.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from .._config import Config
from .._model import Article, Author, Problem, Severity, Tag
from .._slugs import headline_key, slugify
from .._store import ArticleCache
from .ahead import BodiesAhead, FollowUp
from .context import ArticleContext
from .file_names import file_stem
from .loader import load_bodies as read_bodies
from .loader import read_articles
from .names import distinct_names
from .plaintext import more_paragraph_html


@dataclass(frozen=True, slots=True)
class Reference:
    """An editor's reference (slug or headline) and the article it names, if any."""

    text: str
    article: Article | None


class Collection:
    """Articles indexed by slug, tag and author; newest first.

    The collection holds every successfully parsed article, drafts and
    future-dated ones included; :meth:`published` filters those out.
    ``problems`` are the errors and warnings met while loading.
    """

    def __init__(self, articles: Iterable[Article], problems: Iterable[Problem] = ()) -> None:
        self.problems: list[Problem] = list(problems)
        articles, renamed = distinct_names(articles)
        self.problems.extend(renamed)
        by_slug: dict[str, Article] = {}
        # On a clash, the file named after the slug keeps it; then the first by path.
        for article in sorted(articles, key=lambda a: (file_stem(a.source_path) != a.slug, a.source_path)):
            other = by_slug.get(article.slug)
            if other is not None:
                self.problems.append(
                    Problem(
                        article.source_path,
                        f"duplicate slug '{article.slug}': {other.source_path} has it already (skipped)",
                    )
                )
                continue
            by_slug[article.slug] = article
        # Sorted once: an aware datetime's timestamp() costs a time zone lookup, 10,000 of them a tenth of a second.
        newest_first = sorted(by_slug.values(), key=_newest_first)
        self._by_title = {headline_key(a.title): a for a in newest_first}
        self._by_slug = by_slug
        self._by_slug = {slug: self._link_more(a) for slug, a in by_slug.items()}
        # _link_more changes neither date nor slug, so the order stays.
        self.articles: list[Article] = [self._by_slug[a.slug] for a in newest_first]
        self._check_references()

    def with_ids(self, ids: dict[str, str], problems: Iterable[Problem] = ()) -> Collection:
        """This collection with the GUIDs in ``ids`` (by source path) and ``problems`` added.

        The identity ledger's answer (see :mod:`.identity`): nothing else about the articles changes.
        """
        changed = copy.copy(self)
        changed.problems = [*self.problems, *problems]

        def renamed(article: Article) -> Article:
            guid = ids.get(article.source_path)
            return article if guid is None or guid == article.id else replace(article, id=guid)

        changed._by_slug = {slug: renamed(a) for slug, a in self._by_slug.items()}
        changed._by_title = {key: changed._by_slug[a.slug] for key, a in self._by_title.items()}
        changed.articles = [changed._by_slug[a.slug] for a in self.articles]
        return changed

    # -- lookups -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.articles)

    def __iter__(self) -> Iterator[Article]:
        return iter(self.articles)

    def get(self, slug: str) -> Article | None:
        """The article with this slug, or ``None``."""
        return self._by_slug.get(slug)

    def find_by_title(self, headline: str) -> Article | None:
        """The article whose title matches ``headline``, ignoring quotes, case and punctuation."""
        return self._by_title.get(headline_key(headline))

    def resolve(self, reference: str) -> Article | None:
        """An editor reference (a slug, a URL path or a headline) to its article."""
        text = reference.strip()
        by_slug = self._by_slug.get(text) or self._by_slug.get(text.strip("/").rsplit("/", 1)[-1])
        return by_slug or self.find_by_title(text)

    def editor_picks(self, article: Article) -> list[Reference]:
        """The article's editor references in order: ``related`` first, then ``MORE:``."""
        seen: set[str] = set()
        out = []
        for text in (*article.related, *article.more):
            target = self.resolve(text)
            key = target.slug if target else headline_key(text)
            if key in seen or (target is not None and target.slug == article.slug):
                continue
            seen.add(key)
            out.append(Reference(text, target))
        return out

    def published(self, now: datetime | None = None) -> list[Article]:
        """Articles that are not drafts and not dated after ``now``, newest first."""
        moment = now or datetime.now(UTC)
        return [a for a in self.articles if a.is_published(moment)]

    def filter(
        self,
        *,
        tag: str | None = None,
        author: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        now: datetime | None = None,
        include_unpublished: bool = False,
    ) -> list[Article]:
        """Articles matching all the given criteria, newest first.

        ``tag`` and ``author`` accept a name or a slug; ``since`` is inclusive
        and ``until`` exclusive.
        """
        pool = self.articles if include_unpublished else self.published(now)
        tag_slug = self._slug_of(tag, (t for a in self.articles for t in a.tags)) if tag else None
        authors = (a.author for a in self.articles if a.author is not None)
        author_slug = self._slug_of(author, authors) if author else None
        return [
            a
            for a in pool
            if (tag_slug is None or any(t.slug == tag_slug for t in a.tags))
            and (author_slug is None or (a.author is not None and a.author.slug == author_slug))
            and (since is None or a.published >= since)
            and (until is None or a.published < until)
        ]

    @staticmethod
    def _slug_of(wanted: str, named: Iterable[Tag | Author]) -> str:
        """The slug this collection gives the tag or author ``wanted`` (a name or a slug).

        By exact name first: ``José Ruiz`` may have been given a hashed slug to
        keep it apart from ``Jose Ruiz`` (see :mod:`.names`).
        """
        by_slug = None
        for item in named:
            if item.name == wanted:
                return item.slug
            if item.slug == wanted:
                by_slug = item.slug
        return by_slug or slugify(wanted)

    def tags(self, now: datetime | None = None) -> dict[str, tuple[Tag, list[Article]]]:
        """Every tag of a published article: ``{slug: (tag, articles newest first)}``."""
        out: dict[str, tuple[Tag, list[Article]]] = {}
        for article in self.published(now):
            for tag in article.tags:
                out.setdefault(tag.slug, (tag, []))[1].append(article)
        return out

    def authors(self, now: datetime | None = None) -> dict[str, tuple[Author, list[Article]]]:
        """Every author of a published article: ``{slug: (author, articles newest first)}``."""
        out: dict[str, tuple[Author, list[Article]]] = {}
        for article in self.published(now):
            for author in article.authors:
                out.setdefault(author.slug, (author, []))[1].append(article)
        return out

    # -- building ----------------------------------------------------------
    def _link_more(self, article: Article) -> Article:
        """Turn resolved ``MORE:`` pointers of plain-text articles into links."""
        if not article.more:
            return article
        html = article.content_html
        for headline in article.more:
            target = self.find_by_title(headline) or self._by_slug.get(headline)
            if target is not None:
                html = html.replace(more_paragraph_html(headline), more_paragraph_html(headline, target.url))
        return replace(article, content_html=html)

    def _check_references(self) -> None:
        for article in self.articles:
            for ref in self.editor_picks(article):
                if ref.article is None:
                    self.problems.append(
                        Problem(
                            article.source_path,
                            f"related story '{ref.text}' matches no article's slug or title",
                            Severity.WARNING,
                        )
                    )
            if not article.has_permanent_id:
                self.problems.append(
                    Problem(
                        article.source_path,
                        "no 'id' in front matter: the feed GUID is kept only by the identity ledger in "
                        "the state database, so losing it could show the story twice in readers "
                        f"(add 'id: {article.id}')",
                        Severity.WARNING,
                    )
                )


def _newest_first(article: Article) -> tuple[float, str]:
    return (-article.published.timestamp(), article.slug)


def load_collection(config: Config, cache: ArticleCache | None = None, *, with_bodies: bool = True) -> Collection:
    """Load the site's articles into a :class:`Collection` (problems included).

    ``with_bodies=False`` leaves Markdown bodies unrendered (empty
    ``content_html`` and ``text``): enough to choose feed items, which
    :func:`load_bodies` then completes. ``syndicate build`` does this so it
    renders only the bodies it publishes.
    """
    context = ArticleContext.from_config(config)
    articles, problems = read_articles(config.content_dir, config.root, context, cache, with_bodies=with_bodies)
    return Collection(articles, [*context.author_problems, *problems])


def load_bodies(
    config: Config, articles: Iterable[Article], cache: ArticleCache | None = None, ahead: BodiesAhead | None = None
) -> dict[str, Article]:
    """Whole articles for the body-less ones among ``articles`` (see :func:`load_collection`), by slug.

    ``ahead`` holds bodies already being rendered in the background (see :func:`render_bodies_ahead`).
    """
    context = ArticleContext.from_config(config)
    chosen = list(articles)
    by_path = read_bodies(chosen, config.root, context, cache, ahead=ahead)
    return {a.slug: by_path[a.source_path] for a in chosen if a.source_path in by_path}


def render_bodies_ahead(
    config: Config, articles: Iterable[Article], cache: ArticleCache | None = None, follow_up: FollowUp | None = None
) -> BodiesAhead:
    """Start rendering the bodies of ``articles`` in background processes; hand the result to :func:`load_bodies`.

    ``follow_up`` runs there too, on the whole articles (see :meth:`BodiesAhead.followed`).
    Use it as a context manager, so the processes are stopped if their work is never collected.
    """
    return BodiesAhead.start(articles, config.root, ArticleContext.from_config(config), cache, follow_up=follow_up)


__all__ = [
    "ArticleContext",
    "BodiesAhead",
    "Collection",
    "Reference",
    "load_bodies",
    "load_collection",
    "render_bodies_ahead",
]
