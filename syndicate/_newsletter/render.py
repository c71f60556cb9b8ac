"""Render an :class:`Issue`: Jinja2 -> MJML -> HTML (styles inlined), and plain text.

The email is rendered once per issue; per-recipient data are the markers of
:mod:`.placeholders`, which survive MJML and css-inline untouched and are
substituted when sending. The web copy is the same template rendered with
``web = true``: no greeting, no unsubscribe link, no marker left in it.

Styles: ``<mj-style inline="inline">`` blocks are taken out of the MJML
before compiling (mjml-python ignores ``inline``) and inlined on the elements
by css-inline, because Gmail over IMAP and other clients drop ``<style>``.
Every other style (MJML's column media queries, our responsive tweaks) stays
in ``<head>`` for the clients that honour it.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import css_inline
import jinja2
import mjml

from .._config import Config
from .._errors import NewsletterError
from .._model import Article, Issue, OutsideEntry, RelatedPick
from .._sources.normalize import plain_text
from . import placeholders
from .templates import template_dirs, template_environment

EMAIL_WIDTH = 600  # px: the body width every client renders well
LEAD_IMAGE_WIDTH = 552  # EMAIL_WIDTH minus the 24 px side padding of the lead section
THUMBNAIL_WIDTH = 168
OUTSIDE_SUMMARY_CHARS = 180

_INLINE_STYLE = re.compile(r"<mj-style\b[^>]*\binline\s*=\s*[\"']inline[\"'][^>]*>(.*?)</mj-style>", re.S | re.I)
_LINE_BREAKS = re.compile(r"[\s\u2028\u2029\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """How links are made: absolute, and tagged with UTM parameters when they are ours."""

    base_url: str
    utm: bool
    utm_source: str
    utm_medium: str
    utm_campaign: str

    def link(self, url: str) -> str:
        """``url`` with our UTM parameters if it points at our own site (outside links stay clean)."""
        if not self.utm or not _same_site(url, self.base_url):
            return url
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")]
        query += [
            ("utm_source", self.utm_source),
            ("utm_medium", self.utm_medium),
            ("utm_campaign", self.utm_campaign),
        ]
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _same_site(url: str, base_url: str) -> bool:
    target, base = urlsplit(url), urlsplit(base_url)
    return target.scheme in ("http", "https") and (target.hostname or "") == (base.hostname or "")


@dataclass(frozen=True, slots=True)
class ImageView:
    url: str
    alt: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class RelatedView:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class StoryView:
    """A story as the templates see it: links already absolute and tagged."""

    title: str
    url: str
    canonical_url: str
    summary: str
    author: str
    kicker: str
    published: str
    image: ImageView | None
    related: tuple[RelatedView, ...]


@dataclass(frozen=True, slots=True)
class OutsideView:
    title: str
    url: str
    source: str
    source_url: str
    summary: str


@dataclass(frozen=True, slots=True)
class RenderOutput:
    """Everything one rendering produced; ``story_links`` are the links the text part must carry."""

    subject: str
    preheader: str
    email_html: str
    email_text: str
    web_html: str
    story_links: tuple[str, ...]
    inline_css: str


def single_line(text: str, limit: int | None = None) -> str:
    """``text`` on one line (header-safe): every run of whitespace or control characters is one space."""
    line = _LINE_BREAKS.sub(" ", text).strip()
    if limit is not None and len(line) > limit:
        cut = line[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:-–—")
        line = f"{cut}…"
    return line


def plain_summary(summary_html: str, limit: int = OUTSIDE_SUMMARY_CHARS) -> str:
    """An outside summary as plain text: every tag dropped (scripts with their content), then shortened."""
    return single_line(plain_text(summary_html), limit)


def image_size(width: int, aspect: str) -> tuple[int, int]:
    across, _, down = aspect.partition(":")
    return width, round(width * int(down) / int(across))


def archive_base_url(config: Config) -> str:
    """The archive's URL with a trailing slash: ``[newsletter] archive_url`` or ``<site>/newsletter/``."""
    base = config.newsletter.archive_url or f"{config.site.base_url}/newsletter/"
    return base if base.endswith("/") else base + "/"


def link_policy(config: Config, week: str) -> LinkPolicy:
    settings = config.newsletter
    return LinkPolicy(
        base_url=config.site.base_url,
        utm=settings.utm,
        utm_source=settings.utm_source,
        utm_medium=settings.utm_medium,
        utm_campaign=settings.utm_campaign.replace("{week}", week),
    )


def _day(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b}"


def week_range_label(start: datetime, end: datetime) -> str:
    """``16–22 November 2026``; months and years are named where they differ."""
    last = end.date().fromordinal(end.date().toordinal() - 1)
    first = start.date()
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"


def _story_view(
    article: Article, related: tuple[RelatedPick, ...], links: LinkPolicy, image_width: int, aspect: str
) -> StoryView:
    image = None
    if article.image is not None and urlsplit(article.image.url).scheme in ("http", "https"):
        width, height = image_size(image_width, aspect)
        image = ImageView(article.image.url, single_line(article.image.alt) or article.title, width, height)
    return StoryView(
        title=single_line(article.title),
        url=links.link(article.url),
        canonical_url=article.url,
        summary=single_line(article.summary),
        author=_byline(article),
        kicker=article.tags[0].name if article.tags else "",
        published=_day(article.published),
        image=image,
        related=tuple(RelatedView(single_line(p.title), links.link(p.url)) for p in related),
    )


def _byline(article: Article) -> str:
    """Every author's name from the registry record: "Jane Doe", "Jane Doe and Sam Lee"."""
    names = [single_line(person.name) for person in article.authors]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""


def _source_home(entry: OutsideEntry) -> str:
    parts = urlsplit(entry.source_url or entry.url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", "")) if parts.scheme in ("http", "https") else entry.url


def _outside_view(entry: OutsideEntry) -> OutsideView:
    return OutsideView(
        title=single_line(entry.title),
        url=entry.url,
        source=single_line(entry.source_title) or (urlsplit(entry.url).hostname or ""),
        source_url=_source_home(entry),
        summary=plain_summary(entry.summary_html),
    )


def template_context(issue: Issue, config: Config) -> dict[str, Any]:
    """The data every newsletter template receives (documented in docs/explanation/newsletter.md)."""
    links = link_policy(config, issue.week)
    aspect = config.newsletter.image_aspect
    stories = [
        _story_view(s.article, s.related, links, LEAD_IMAGE_WIDTH if i == 0 else THUMBNAIL_WIDTH, aspect)
        for i, s in enumerate(issue.stories)
    ]
    issue_url = archive_base_url(config) + issue.week + "/"
    year, week_number = issue.week.split("-W")
    return {
        "site": {
            "title": config.site.title,
            "url": links.link(config.site.base_url + "/"),
            "description": config.site.description,
            "language": config.site.language,
        },
        "issue": {
            "week": issue.week,
            "number": int(week_number),
            "year": int(year),
            "dates": week_range_label(issue.start, issue.end),
            # A catch-up issue after missed send days: the templates say "what you missed".
            "digest": issue.is_digest,
        },
        "lead": stories[0] if stories else None,
        "stories": stories,
        "more_stories": stories[1:],
        "around_the_web": [_outside_view(e) for e in issue.around_the_web],
        "postal_address": config.newsletter.postal_address.strip(),
        "view_in_browser_url": links.link(issue_url),
        "archive_url": links.link(archive_base_url(config)),
        "placeholders": {
            "greeting": placeholders.GREETING,
            "name": placeholders.NAME,
            "email": placeholders.EMAIL,
            "unsubscribe_url": placeholders.UNSUBSCRIBE_URL,
        },
        "email_width": EMAIL_WIDTH,
    }


def story_links(context: dict[str, Any]) -> tuple[str, ...]:
    """Every story link of the issue: our stories, their related picks and the outside ones."""
    out: list[str] = []
    for story in context["stories"]:
        out.append(story.url)
        out.extend(r.url for r in story.related)
    out.extend(o.url for o in context["around_the_web"])
    return tuple(dict.fromkeys(out))


def split_inline_styles(mjml_source: str) -> tuple[str, str]:
    """(MJML without the ``inline="inline"`` style blocks, the CSS of those blocks)."""
    css = "\n".join(block.strip() for block in _INLINE_STYLE.findall(mjml_source))
    return _INLINE_STYLE.sub("", mjml_source), css


def compile_mjml(mjml_source: str, template: str) -> tuple[str, str]:
    """MJML -> HTML with the inline-marked styles inlined; returns (html, inline css)."""
    body, css = split_inline_styles(mjml_source)
    try:
        compiled = mjml.mjml2html(body)
    except Exception as exc:  # mjml-python raises plain exceptions on bad markup
        raise NewsletterError(f"{template}: the MJML does not compile: {exc}") from exc
    inliner = css_inline.CSSInliner(
        inline_style_tags=False,  # MJML's own head styles (media queries, resets) stay where they are
        keep_style_tags=True,
        load_remote_stylesheets=False,
        extra_css=css or None,
    )
    return inliner.inline(compiled), css


def _render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateNotFound as exc:
        raise NewsletterError(f"template {exc.name!r} not found in the site's templates or the defaults") from exc
    except jinja2.TemplateError as exc:
        where = getattr(exc, "filename", None) or name
        line = getattr(exc, "lineno", None)
        raise NewsletterError(f"{where}{f':{line}' if line else ''}: {exc}") from exc


def _wrap(text: str, width: int = 72, indent: str = "") -> str:
    return textwrap.fill(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def render_issue(issue: Issue, config: Config, env: jinja2.Environment) -> RenderOutput:
    """Render the email (HTML and text), the web copy, the subject and the preheader."""
    env.filters.setdefault("wrap", _wrap)
    context = template_context(issue, config)
    subject = single_line(_render(env, "newsletter.subject.j2", context), 200)
    if not subject:
        raise NewsletterError("newsletter.subject.j2 rendered an empty subject")
    preheader = single_line(_render(env, "newsletter.preheader.j2", context), 150)
    context.update(subject=subject, preheader=preheader)
    email_html, css = compile_mjml(_render(env, "newsletter.mjml.j2", {**context, "web": False}), "newsletter.mjml.j2")
    web_html, _ = compile_mjml(_render(env, "newsletter.mjml.j2", {**context, "web": True}), "newsletter.mjml.j2")
    text = _render(env, "newsletter.txt.j2", {**context, "web": False})
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return RenderOutput(
        subject=subject,
        preheader=preheader,
        email_html=email_html,
        email_text=text,
        web_html=web_html,
        story_links=story_links(context),
        inline_css=css,
    )


def default_environment(config: Config) -> jinja2.Environment:
    """The environment of a site: its own templates first, then the packaged defaults."""
    return template_environment(template_dirs(config))
