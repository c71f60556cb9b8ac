"""Markdown to HTML with markdown-it-py, every link and image made absolute.

Feed readers and mail clients show content away from the site, so a relative
``/images/x.jpg`` would break; we resolve URLs against the article's page.

Raw HTML is allowed in articles (editors paste tables and figures), but the
result goes through nh3 before it reaches any feed or email: a stray
``<script>``, event handler or unknown tag in an article never leaves the site.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")


@dataclass(frozen=True, slots=True)
class RenderedBody:
    """A rendered Markdown body: HTML, plain text, the first paragraph's text and the images (src, alt)."""

    html: str
    text: str
    first_paragraph: str
    images: tuple[tuple[str, str], ...]


_URL_ATTRIBUTE = {"link_open": "href", "image": "src"}


def _absolutise(tokens: list[Token], page_url: str) -> None:
    # Links and images only live among the children of inline tokens; looking
    # only there (not at every token's attributes) keeps long articles cheap.
    for token in tokens:
        for child in token.children or ():
            attr = _URL_ATTRIBUTE.get(child.type)
            if attr is None:
                continue
            value = child.attrs.get(attr)
            if isinstance(value, str) and not value.startswith(("#", "mailto:", "tel:")):
                child.attrs[attr] = urljoin(page_url, value)


def render_markdown(source: str, page_url: str) -> RenderedBody:
    """Render ``source``; return HTML, plain text, the first paragraph and images."""
    tokens = _PARSER.parse(source)
    _absolutise(tokens, page_url)
    html = nh3.clean(_PARSER.renderer.render(tokens, _PARSER.options, {}), link_rel=None)
    texts: list[str] = []
    first_paragraph = ""
    images: list[tuple[str, str]] = []
    in_paragraph = False
    for token in tokens:
        if token.type == "paragraph_open":
            in_paragraph = True
        elif token.type == "paragraph_close":
            in_paragraph = False
        elif token.type == "inline" and token.children is not None:
            words = []
            for child in token.children:
                if child.type in ("text", "code_inline"):
                    words.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    words.append(" ")
                elif child.type == "image":
                    images.append((str(child.attrGet("src")), child.content))
            line = "".join(words).strip()
            texts.append(line)
            if in_paragraph and not first_paragraph and line:
                first_paragraph = line
    return RenderedBody(html, "\n".join(t for t in texts if t), first_paragraph, tuple(images))


def summarise(text: str, limit: int = 280) -> str:
    """Cut ``text`` at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.-")
    return cut + "\u2026"
