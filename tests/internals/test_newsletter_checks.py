"""Each check of a rendered issue catches what it is for, and stays quiet otherwise."""

from __future__ import annotations

from syndicate._newsletter import placeholders
from syndicate._newsletter.checks import (
    GMAIL_CLIP_BYTES,
    check_images,
    check_inlined,
    check_links,
    check_no_active_content,
    check_no_placeholders,
    check_size,
    check_text_links,
)


def page(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


def test_inlined_styles_pass_and_missing_ones_are_named() -> None:
    css = (
        ".title { color: red; font-size: 20px; }\n.foot a { color: grey; }\n"
        "@media (max-width: 400px) { .title { color: blue; } }"
    )
    good = page(
        '<h1 class="title" style="color: red;font-size: 20px">x</h1><p class="foot"><a style="color:grey">a</a></p>'
    )
    bad = page('<h1 class="title" style="color: red">x</h1><p class="title">y</p><p class="foot"><a href="#">a</a></p>')
    assert check_inlined(good, css, "e") == []
    problems = check_inlined(bad, css, "e")
    assert [p.message for p in problems] == [
        "<h1> matching '.title' lacks inlined font-size",
        "<p> matching '.title' lacks inlined color, font-size",
        "<a> matching '.foot a' lacks inlined color",
    ]


def test_size_limit_is_gmails_102_kb() -> None:
    assert check_size("x" * (GMAIL_CLIP_BYTES - 1), "e") == []
    big = check_size("é" * (GMAIL_CLIP_BYTES // 2 + 1), "e")  # two bytes each in UTF-8
    assert big and "102 KB" in big[0].message


def test_every_image_needs_alt_an_absolute_src_and_dimensions() -> None:
    good = page('<img src="https://a.example/x.jpg" alt="A still" width="10" height="5">')
    assert check_images(good, "e") == []
    messages = [p.message for p in check_images(page('<img src="/x.jpg" alt=" ">'), "e")]
    assert any("no alt text" in m for m in messages)
    assert any("not an absolute" in m for m in messages)
    assert any("width/height" in m for m in messages)


def test_links_must_be_absolute_http_except_the_markers() -> None:
    good = page(f'<a href="https://a.example/">a</a><a href="{placeholders.UNSUBSCRIBE_URL}">u</a>')
    assert check_links(good, "e") == []
    for href in ("/relative/", "mailto:x@example.com", "javascript:alert(1)", "https://", "#top", ""):
        assert len(check_links(page(f'<a href="{href}">x</a>'), "e")) == 1, href
    assert len(check_links(good, "web", allowed=())) == 1, "the web copy allows no marker"


def test_no_script_and_no_external_stylesheet() -> None:
    assert check_no_active_content(page("<p>x</p>", "<style>p{color:red}</style>"), "e") == []
    assert len(check_no_active_content(page("<script>alert(1)</script>"), "e")) == 1
    assert len(check_no_active_content(page("", '<link rel="stylesheet" href="https://a.example/s.css">'), "e")) == 1
    assert len(check_no_active_content(page("", "<style>@import url(https://a.example/s.css);</style>"), "e")) == 1


def test_text_part_must_carry_every_story_link_of_the_html() -> None:
    html = page(
        '<a href="https://a.example/one?utm_source=n&amp;utm_medium=e">1</a><a href="https://a.example/two">2</a>'
    )
    links = ["https://a.example/one?utm_source=n&utm_medium=e", "https://a.example/two"]
    assert (
        check_text_links(
            html, "see https://a.example/one?utm_source=n&utm_medium=e and https://a.example/two", links, "t"
        )
        == []
    )
    missing = check_text_links(html, "only https://a.example/two", links, "t")
    assert [p.message for p in missing] == [
        "the text part lacks the story link https://a.example/one?utm_source=n&utm_medium=e"
    ]


def test_web_copy_must_not_carry_markers() -> None:
    assert check_no_placeholders(page("<p>Hello</p>"), "w") == []
    assert len(check_no_placeholders(page(f"<p>{placeholders.GREETING}</p>"), "w")) == 1
