"""The Markdown renderer (pulldown-cmark through pyromark, walked as events).

Property tests: any text renders without raising, its HTML is already what nh3
leaves it, and every Markdown link and image in it is absolute. Example tests
pin the layout markdown-it-py gave (the renderer before, whose bytes feeds keep)
and each documented difference between the two (docs/explanation/performance.md).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import nh3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from syndicate._collection.markdown_links import _PLAIN_PATH, _normalize_link, absolute_url, normalize_link, url_origin
from syndicate._collection.render import RenderedBody, render_markdown

PAGE = "https://x.example/news/2026/11/01/story/"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Markdown syntax, entities and control characters far more likely than chance would make them.
PIECES = st.sampled_from(
    [
        *(
            "*",
            "**",
            "_",
            "`",
            "```",
            "~~~",
            "\n",
            "\n\n",
            "    ",
            "\t",
            "> ",
            "- ",
            "1. ",
            "# ",
            "---",
            "|",
            "|---|",
            "\\",
        ),
        *(
            "[",
            "]",
            "(",
            ")",
            "!",
            "&amp;",
            "&#0;",
            "&#xD800;",
            "&nosuch;",
            "\x00",
            "\x01",
            "\x0c",
            "\ud800",
            "é",
            "東",
        ),
        *(
            "<b>",
            "</b>",
            "<div>\n",
            "<script>alert(1)</script>",
            '<a href="rel/">',
            "<!-- c -->",
            "<img src=x onerror=y>",
        ),
        *("[a]: /ref\n", "[a]", "<http://h.example/a>", "<a@b.example>", "[t](javascript:x)", "![i](data:text/html,x)"),
    ]
)
TEXT = st.lists(st.one_of(st.characters(), PIECES), max_size=60).map("".join)
# Destinations a writer puts in a Markdown link: paths, relative and absolute URLs, odd characters.
DESTINATION = st.lists(
    st.one_of(
        st.sampled_from(["/", "a", "..", ".", "?", "#", "%20", "%", "ä", ":", "//", "mailto:", "tel:"]), st.characters()
    ),
    max_size=8,
).map("".join)
SAFE_LINK = DESTINATION.filter(lambda d: not any(c in d for c in " \t\n<>()[]\\") and d.strip() == d)


def _urls(rendered: RenderedBody) -> list[str]:
    if not rendered.html.strip():
        return []
    document = lxml_html.fragment_fromstring(rendered.html, create_parent="div")
    return [*document.xpath("//a/@href"), *document.xpath("//img/@src")]


@SETTINGS
@given(TEXT)
def test_any_text_renders_and_its_html_is_already_clean(text: str) -> None:
    rendered = render_markdown(text, PAGE)
    assert nh3.clean(rendered.html, link_rel=None) == rendered.html
    assert "\x00" not in rendered.text and rendered.first_paragraph in rendered.text


@SETTINGS
@given(st.lists(st.tuples(TEXT.filter(lambda t: "<" not in t), SAFE_LINK, st.booleans()), max_size=5))
def test_markdown_links_and_images_are_absolute(parts: list[tuple[str, str, bool]]) -> None:
    # No "<" in the prose: every link in the output is then one written in Markdown, not raw HTML.
    source = "".join(f"{text}{'!' if image else ''}[x]({link})" for text, link, image in parts)
    rendered = render_markdown(source, PAGE)
    for url in _urls(rendered):
        assert url.startswith(("#", "mailto:", "tel:")) or urlsplit(url).scheme in ("http", "https"), url
    for src, _ in rendered.images:
        # Absolute: a URL with a scheme (one nh3 does not allow is kept out of the HTML, not out of this list).
        assert urlsplit(src).scheme or src.startswith("#"), src


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abz09-._~!$&'()*+,=@/:;?#%ä ", max_size=20))
def test_the_fast_paths_give_what_the_full_ones_give(url: str) -> None:
    if _PLAIN_PATH.fullmatch(url):
        assert _normalize_link(url) == url
    assert normalize_link(url) == _normalize_link(url)
    normalized = normalize_link(url)
    assert absolute_url(normalized, PAGE, url_origin(PAGE)) == urljoin(PAGE, normalized)


# (Markdown, the HTML markdown-it-py wrote for it, which the new renderer keeps.)
SAME_AS_BEFORE = [
    (
        "Hi *there* [a](/b) `c` &amp; x",
        '<p>Hi <em>there</em> <a href="https://x.example/b">a</a> <code>c</code> &amp; x</p>\n',
    ),
    ("- a\n- b\n", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"),
    ("- a\n\n- b\n", "<ul>\n<li>\n<p>a</p>\n</li>\n<li>\n<p>b</p>\n</li>\n</ul>\n"),
    ("- a\n  - b\n", "<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul>\n</li>\n</ul>\n"),
    ("1. x\n   ```py\n   code\n   ```\n", "<ol>\n<li>x<pre><code>code\n</code></pre>\n</li>\n</ol>\n"),
    ("3) y\n", '<ol start="3">\n<li>y</li>\n</ol>\n'),
    (">\n", "<blockquote></blockquote>\n"),
    ("    code\n    <b>", "<pre><code>code\n&lt;b&gt;\n</code></pre>\n"),
    (
        "| a | b |\n|:-|-:|\n| 1 | 2 |\n",
        "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n"
        "</tbody>\n</table>\n",
    ),
    ("a  \nb\n***\n", "<p>a<br>\nb</p>\n<hr>\n"),
    (
        "<https://xn--mnchen-3ya.example/%7e>",
        '<p><a href="https://xn--mnchen-3ya.example/%7e">https://münchen.example/~</a></p>\n',
    ),
    ("<a@b.example>", '<p><a href="mailto:a@b.example">a@b.example</a></p>\n'),
    ("[m](https://münchen.example/ä b)", "<p>[m](https://münchen.example/ä b)</p>\n"),
    ("[m](<https://münchen.example/ä b>)", '<p><a href="https://xn--mnchen-3ya.example/%C3%A4%20b">m</a></p>\n'),
    ("[t](#top) [m](mailto:a@b.example) [p](tel:+1) [r](../up)", None),
    ('<a href="rel/">raw</a> <script>x()</script>', '<p><a href="rel/">raw</a> </p>\n'),
    ("a\x00b", "<p>a\ufffdb</p>\n"),
]


@pytest.mark.parametrize(("source", "expected"), SAME_AS_BEFORE)
def test_html_keeps_markdown_it_pys_layout(source: str, expected: str | None) -> None:
    rendered = render_markdown(source, PAGE)
    if expected is None:  # the links' rule: fragment, mail and phone links stay, the rest are joined to the page
        assert _urls(rendered) == ["#top", "mailto:a@b.example", "tel:+1", "https://x.example/news/2026/11/01/up"]
    else:
        assert rendered.html == expected


def test_text_first_paragraph_and_images() -> None:
    source = (
        "# Head\n\n- tight *item*\n- two\n\nPara [link](/l) `code`\nnext ![alt *x*](p.jpg)\n\n"
        "```\nnot text\n```\n\n| h |\n|---|\n| cell |\n"
    )
    rendered = render_markdown(source, PAGE)
    # A tight list item's text is a paragraph (markdown-it held it in a hidden one); code is no text.
    assert rendered.text == "Head\ntight item\ntwo\nPara link code next\nh\ncell"
    assert rendered.first_paragraph == "tight item"
    assert rendered.images == (("https://x.example/news/2026/11/01/story/p.jpg", "alt x"),)


# The documented differences from markdown-it-py (docs/explanation/performance.md), each pinned.
DIFFERENCES = [
    # A link or image to a script, file or non-picture data URL: was the Markdown as text, now no URL.
    ("[x](javascript:alert(1))", "<p><a>x</a></p>\n"),
    ("![x](javascript:alert(1))", '<p><img alt="x"></p>\n'),
    ("<javascript:alert(1)>", "<p><a>javascript:alert(1)</a></p>\n"),
    # Tabs at a line's end are dropped (CommonMark), and two whitespace characters there, one a tab, break the line.
    ("a\t\nb", "<p>a\nb</p>\n"),
    ("a \t\nb", "<p>a<br>\nb</p>\n"),
    # After a link reference definition, an indented line continues the paragraph (was a code block), as in cmark.
    ("[a]: /u\n    b", "<p>b</p>\n"),
    ("> [a]: /u\nb", "<blockquote>\n<p>b</p>\n</blockquote>\n"),
    # The space after a backslash at a line's end is dropped, as in cmark.
    ("a\\ \nb", "<p>a\\\nb</p>\n"),
    # Tables follow pulldown-cmark's rules.
    ("x\na | b\n--|--", "<p>x\na | b\n--|--</p>\n"),
    ("| a |\n:-:\n| 1 |", "<p>| a |\n:-:\n| 1 |</p>\n"),
    ("a \\| b\n|---|", "<p>a | b\n|---|</p>\n"),
    ("a | b\n- | -", "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n</table>\n"),
    # An unclosed fence at the end of the file keeps a last line of spaces.
    ("```\nx\n    ", "<pre><code>x\n    </code></pre>\n"),
]


@pytest.mark.parametrize(("source", "expected"), DIFFERENCES)
def test_documented_differences_from_markdown_it_py(source: str, expected: str) -> None:
    assert render_markdown(source, PAGE).html == expected


def test_an_images_alt_is_its_plain_text() -> None:
    # markdown-it-py gave the label's Markdown source ("*Poster* `x`") as the article image's alt text.
    assert render_markdown("![*Poster* `x`](p.jpg)", PAGE).images == (
        ("https://x.example/news/2026/11/01/story/p.jpg", "Poster x"),
    )
    assert render_markdown("![x](javascript:alert(1))", PAGE).images == ()
