"""Markdown to HTML with pulldown-cmark (through pyromark), every link and image made absolute.

Feed readers and mail clients show content away from the site, so a relative
``/images/x.jpg`` would break; we resolve URLs against the article's page.

Raw HTML is allowed in articles (editors paste tables and figures), but the
result goes through nh3 before it reaches any feed or email: a stray
``<script>``, event handler or unknown tag in an article never leaves the site.

Why events and not pyromark's own HTML: one pass over pulldown-cmark's events
(a Rust CommonMark parser, about 30 times faster than markdown-it-py, which
rendered our articles before) writes the HTML, the plain text, the first
paragraph and the images together, and makes only the Markdown links absolute
(an ``href`` in pasted raw HTML is left as written, as before). The HTML is
laid out as markdown-it-py laid it out (the same line breaks between block
tags), so feeds keep their bytes for the same input; the few differences
between the two parsers are listed in docs/explanation/performance.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

import nh3
import pyromark

from .markdown_links import absolute_url, is_allowed_link, normalize_link, normalize_link_text, url_origin

# CommonMark plus GFM tables, nothing else: what markdown-it-py's "commonmark" preset with "table" parsed.
_MARKDOWN = pyromark.Markdown(options=pyromark.Options.ENABLE_TABLES)


@dataclass(frozen=True, slots=True)
class RenderedBody:
    """A rendered Markdown body: HTML, plain text, the first paragraph's text and the images (src, alt)."""

    html: str
    text: str
    first_paragraph: str
    images: tuple[tuple[str, str], ...]


_ALIGN = {
    "Left": ' style="text-align:left"',
    "Center": ' style="text-align:center"',
    "Right": ' style="text-align:right"',
}
# After a tight list item's text, these open on a new line; code and HTML blocks follow it directly
# (markdown-it's layout: its renderer for those did not add the line break).
_NEWLINE_AFTER_TEXT = frozenset(("Paragraph", "Heading", "List", "BlockQuote", "Table", "Rule"))
_SURROGATE = re.compile("[\ud800-\udfff]")
_INLINE_TAGS = frozenset(("Emphasis", "Strong", "Link", "Image"))


def _escape(text: str) -> str:
    # Most text has nothing to escape: four scans in C are cheaper than four replacements.
    if "&" in text or "<" in text or ">" in text or '"' in text:
        return escape(text, quote=False).replace('"', "&quot;")
    return text


def _destination(link: dict[str, str], page_url: str, page_origin: str) -> str | None:
    """The ``href``/``src`` of a Markdown link or image: normalised, absolute; None when not allowed."""
    url = link["dest_url"]
    if link["link_type"] == "Email":
        url = "mailto:" + url
    url = normalize_link(url)
    if not is_allowed_link(url):
        return None
    return url if url.startswith(("#", "mailto:", "tel:")) else absolute_url(url, page_url, page_origin)


class _BodyWriter:
    """One body's walk over the events: the HTML written, the plain text, the first paragraph, the images."""

    __slots__ = (
        "after_li",
        "alt",
        "autolink_text",
        "blocks",
        "cell",
        "first_paragraph",
        "has_rows",
        "html",
        "image",
        "image_depth",
        "images",
        "in_head",
        "in_paragraph",
        "indented_code",
        "page_origin",
        "page_url",
        "table_alignments",
        "texts",
        "words",
    )

    def __init__(self, page_url: str) -> None:
        self.page_url = page_url
        self.page_origin = url_origin(page_url)
        self.html: list[str] = []
        self.texts: list[str] = []
        self.first_paragraph = ""
        self.images: list[tuple[str, str]] = []
        # The plain text of the paragraph, heading or table cell being read (None between them).
        self.words: list[str] | None = None
        self.in_paragraph = False
        # The open containers (Item, List, BlockQuote, CodeBlock, HtmlBlock, Table): text met
        # right inside an Item is a tight item's text, which markdown-it held in a hidden paragraph.
        self.blocks: list[str] = []
        self.after_li = False  # just wrote <li>: a block opening next goes on a new line
        # Inside an image the text is its alt text, not the body's.
        self.image_depth = 0
        self.image: tuple[str | None, str] = (None, "")
        self.alt: list[str] = []
        self.autolink_text: str | None = None
        self.table_alignments: tuple[str, ...] = ()
        self.cell = 0
        self.in_head = False
        self.has_rows = False
        self.indented_code = False

    def inline(self) -> None:
        """Inline content comes: in a tight item with no run open, it starts one (a paragraph)."""
        self.after_li = False
        if self.words is None and self.blocks and self.blocks[-1] == "Item":
            self.words, self.in_paragraph = [], True

    def block(self, tag: str) -> None:
        """A block opens: the open run ends, and the line breaks around it follow markdown-it's."""
        if self.after_li:
            self.after_li = False
            self.html.append("\n")
        elif self.words is not None and self.blocks and self.blocks[-1] == "Item":
            self.end_run()  # the tight item's text
            if tag in _NEWLINE_AFTER_TEXT:
                self.html.append("\n")
        self.end_run()

    def end_run(self) -> None:
        if self.words is None:
            return
        line = "".join(self.words).strip()
        if line:
            self.texts.append(line)
            if self.in_paragraph and not self.first_paragraph:
                self.first_paragraph = line
        self.words = None
        self.in_paragraph = False

    def rendered(self) -> RenderedBody:
        self.end_run()
        html = nh3.clean("".join(self.html), link_rel=None)
        return RenderedBody(html, "\n".join(self.texts), self.first_paragraph, tuple(self.images))

    def start(self, tag: str, value: Any) -> None:
        out = self.html.append
        if tag in _INLINE_TAGS:
            self.inline()
            if tag == "Image":
                self.image_depth += 1
                if self.image_depth == 1:
                    image = value["Image"]
                    self.image, self.alt = (_destination(image, self.page_url, self.page_origin), image["title"]), []
            elif self.image_depth:
                pass  # inside an image's alt text, markup is dropped
            elif tag == "Link":
                link = value["Link"]
                href, title = _destination(link, self.page_url, self.page_origin), link["title"]
                out(
                    ("<a" if href is None else f'<a href="{_escape(href)}"')
                    + (f' title="{_escape(title)}"' if title else "")
                    + ">"
                )
                if link["link_type"] in ("Autolink", "Email"):
                    self.autolink_text = normalize_link_text(link["dest_url"])
            else:
                out("<em>" if tag == "Emphasis" else "<strong>")
            return
        if tag == "TableHead":
            self.in_head, self.cell = True, 0
            out("<thead>\n<tr>\n")
            return
        if tag == "TableRow":
            if not self.has_rows:
                self.has_rows = True
                out("<tbody>\n")
            self.cell = 0
            out("<tr>\n")
            return
        if tag == "TableCell":
            alignments = self.table_alignments
            align = _ALIGN.get(alignments[self.cell], "") if self.cell < len(alignments) else ""
            out(("<th" if self.in_head else "<td") + align + ">")
            self.words = []
            return
        self.block(tag)
        if tag == "Paragraph":
            out("<p>")
            self.words, self.in_paragraph = [], True
        elif tag == "Heading":
            out(f"<h{value['Heading']['level'][1]}>")
            self.words = []
        elif tag == "Item":
            out("<li>")
            self.after_li = True
        elif tag == "List":
            first = value["List"]
            out("<ul>\n" if first is None else "<ol>\n" if first == 1 else f'<ol start="{first}">\n')
        elif tag == "BlockQuote":
            out("<blockquote>\n")
        elif tag == "CodeBlock":
            fence = value["CodeBlock"]
            self.indented_code = fence == "Indented"
            info = "" if fence == "Indented" else fence["Fenced"].split(maxsplit=1)
            out(f'<pre><code class="language-{_escape(info[0])}">' if info else "<pre><code>")
        elif tag == "Table":
            self.table_alignments, self.has_rows = value["Table"], False
            out("<table>\n")
        if tag in ("Item", "List", "BlockQuote", "CodeBlock", "HtmlBlock", "Table"):
            self.blocks.append(tag)

    def end(self, tag: str, value: Any) -> None:
        out = self.html.append
        if tag == "Image":
            self.image_depth -= 1
            if self.image_depth == 0:
                (src, title), alt = self.image, "".join(self.alt)
                out(
                    ("<img" if src is None else f'<img src="{_escape(src)}"')
                    + f' alt="{_escape(alt)}"'
                    + (f' title="{_escape(title)}"' if title else "")
                    + " />"
                )
                if src is not None:
                    self.images.append((src, alt))
            return
        if self.image_depth:
            return  # markup inside an image's alt text
        if tag == "Link":
            out("</a>")
            self.autolink_text = None
        elif tag == "Emphasis":
            out("</em>")
        elif tag == "Strong":
            out("</strong>")
        elif tag == "Paragraph":
            self.end_run()
            out("</p>\n")
        elif tag == "Heading":
            self.end_run()
            if self.html[-1].endswith(("\t", " ")):
                # pulldown-cmark leaves a heading's closing tabs in its text; CommonMark strips them.
                self.html[-1] = self.html[-1].rstrip(" \t")
            out(f"</h{value['Heading'][1]}>\n")
        elif tag == "TableCell":
            self.end_run()
            out("</th>\n" if self.in_head else "</td>\n")
            self.cell += 1
        elif tag == "TableHead":
            self.in_head = False
            out("</tr>\n</thead>\n")
        elif tag == "TableRow":
            out("</tr>\n")
        else:
            self.end_run()
            self.after_li = False
            if self.blocks:  # always, for the events pulldown-cmark gives; never an IndexError if not
                self.blocks.pop()
            if tag == "Item":
                out("</li>\n")
            elif tag == "List":
                out("</ol>\n" if value["List"] else "</ul>\n")
            elif tag == "BlockQuote":
                if self.html[-1] == "<blockquote>\n":
                    self.html[-1] = "<blockquote>"  # an empty quote is one line, as markdown-it wrote it
                out("</blockquote>\n")
            elif tag == "CodeBlock":
                if self.indented_code and not self.html[-1].endswith((">", "\n")):
                    out("\n")  # indented code's last line, at the end of the file, ends too (as in markdown-it)
                out("</code></pre>\n")
            elif tag == "Table":
                out("</tbody>\n</table>\n" if self.has_rows else "</table>\n")

    def text(self, kind: str, value: str) -> None:
        if self.autolink_text is not None:
            value, self.autolink_text = self.autolink_text, None
        if self.image_depth:
            self.alt.append(value)
            return
        if self.blocks and self.blocks[-1] in ("CodeBlock", "HtmlBlock"):
            self.html.append(_escape(value))
            return
        self.inline()
        if self.words is not None:
            self.words.append(value)
        self.html.append(_escape(value) if kind == "Text" else f"<code>{_escape(value)}</code>")


def render_markdown(source: str, page_url: str) -> RenderedBody:
    """Render ``source``; return HTML, plain text, the first paragraph and images."""
    writer = _BodyWriter(page_url)
    out = writer.html.append
    if "\x00" in source:  # CommonMark: NUL is replaced, for safety (pulldown-cmark passes it through)
        source = source.replace("\x00", "\ufffd")
    # Events are dicts or bare strings (pyromark's typed unions are more than this loop needs).
    try:
        events: Iterable[Any] = _MARKDOWN.events(source)
    except UnicodeEncodeError:
        # A lone surrogate cannot cross into Rust as UTF-8. The loaders remove them first; any
        # other caller gets U+FFFD in their place rather than an exception.
        events = _MARKDOWN.events(_SURROGATE.sub("\ufffd", source))
    for event in events:
        if type(event) is str:  # SoftBreak, HardBreak, Rule
            if event == "Rule":
                writer.block("Rule")
                out("<hr />\n")
            elif writer.image_depth:
                writer.alt.append("\n")
            else:
                if writer.words is not None:
                    writer.words.append(" ")
                out("\n" if event == "SoftBreak" else "<br />\n")
            continue
        ((kind, value),) = event.items()
        if kind == "Text" or kind == "Code":
            writer.text(kind, value)
        elif kind == "Start":
            writer.start(value if type(value) is str else next(iter(value)), value)
        elif kind == "End":
            writer.end(value if type(value) is str else next(iter(value)), value)
        elif kind == "Html" or kind == "InlineHtml":
            if writer.image_depth:
                writer.alt.append(value)
                continue
            if kind == "InlineHtml":
                writer.inline()
            out(value)
    return writer.rendered()


def summarise(text: str, limit: int = 280) -> str:
    """Cut ``text`` at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.-")
    return cut + "\u2026"
