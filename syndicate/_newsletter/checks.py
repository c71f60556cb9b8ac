"""Checks a rendered issue must pass before it goes out.

Each check returns problems (warnings; the build treats them as errors under
``--strict``). They read the HTML with lxml, the way a mail client would see it:

* styles the template marks inline are on the elements (clients drop <style>);
* the HTML is under Gmail's 102 KB clipping limit;
* every image has alt text; every link is absolute http(s) (markers excepted);
* no <script>, no external stylesheet;
* the text part carries every story link of the HTML part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import html as lxml_html

from .._model import Problem, Severity
from . import placeholders

GMAIL_CLIP_BYTES = 102 * 1024

_RULE = re.compile(r"([^{}@]+)\{([^{}]*)\}")
_AT_BLOCK = re.compile(r"@[^{]+\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", re.S)
# ".name" or ".name tag": the selector forms the default templates use, and that we can check
# without a CSS engine. Other selectors are still inlined by css-inline, just not verified here.
_CHECKABLE = re.compile(r"^\.([A-Za-z0-9_-]+)(?:\s+([a-z][a-z0-9]*))?$")


def _problem(where: str, message: str) -> Problem:
    return Problem(where, message, Severity.WARNING)


def _parse(document: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(document.encode("utf-8"))


def _class_rules(css: str) -> dict[tuple[str, str | None], list[str]]:
    """``{(class, descendant tag or None): [property, ...]}`` for the checkable rules (at-rules ignored)."""
    rules: dict[tuple[str, str | None], list[str]] = {}
    for selectors, body in _RULE.findall(_AT_BLOCK.sub("", css)):
        props = [d.split(":", 1)[0].strip().lower() for d in body.split(";") if ":" in d]
        for selector in selectors.split(","):
            match = _CHECKABLE.match(selector.strip())
            if match:
                rules.setdefault((match.group(1), match.group(2)), []).extend(props)
    return rules


def _style_properties(element: lxml_html.HtmlElement) -> set[str]:
    style = (element.get("style") or "").lower()
    return {d.split(":", 1)[0].strip() for d in style.split(";") if ":" in d}


def check_inlined(document: str, inline_css: str, where: str) -> list[Problem]:
    """Every element an inline-marked rule selects carries that rule's properties in ``style``."""
    rules = _class_rules(inline_css)
    problems = []
    for element in _parse(document).iter():
        if not isinstance(element.tag, str):
            continue
        for name in (element.get("class") or "").split():
            for (rule_class, descendant), props in rules.items():
                if rule_class != name:
                    continue
                targets = [element] if descendant is None else list(element.iter(descendant))[:50]
                for target in targets:
                    present = _style_properties(target)
                    missing = [p for p in props if p not in present]
                    if missing:
                        label = f".{name}" if descendant is None else f".{name} {descendant}"
                        problems.append(
                            _problem(where, f"<{target.tag}> matching '{label}' lacks inlined {', '.join(missing)}")
                        )
    return problems


def check_size(document: str, where: str) -> list[Problem]:
    size = len(document.encode("utf-8"))
    if size >= GMAIL_CLIP_BYTES:
        return [_problem(where, f"HTML is {size / 1024:.1f} KB; Gmail clips messages over 102 KB (fewer stories?)")]
    return []


def check_images(document: str, where: str) -> list[Problem]:
    problems = []
    for image in _parse(document).iter("img"):
        src = image.get("src") or ""
        if not (image.get("alt") or "").strip():
            problems.append(_problem(where, f"image {src or '(no src)'} has no alt text"))
        if not src.startswith(("http://", "https://")):
            problems.append(_problem(where, f"image src {src!r} is not an absolute http(s) URL"))
        if not (image.get("width") and image.get("height")):
            problems.append(_problem(where, f"image {src} has no width/height attributes"))
    return problems


def check_links(document: str, where: str, allowed: Iterable[str] = placeholders.ALL) -> list[Problem]:
    """Every ``href`` is absolute http(s), or exactly one of the per-recipient markers."""
    allowed_set = set(allowed)
    problems = []
    for anchor in _parse(document).iter("a"):
        href = (anchor.get("href") or "").strip()
        if href in allowed_set:
            continue
        if not href.startswith(("http://", "https://")) or not href.split("//", 1)[1]:
            label = " ".join(anchor.text_content().split())[:60]
            problems.append(_problem(where, f"link {href!r} ({label!r}) is not an absolute http(s) URL"))
    return problems


def check_no_active_content(document: str, where: str) -> list[Problem]:
    root = _parse(document)
    problems = [_problem(where, "contains a <script> element") for _ in root.iter("script")]
    for link in root.iter("link"):
        if "stylesheet" in (link.get("rel") or "").lower():
            problems.append(_problem(where, f"links an external stylesheet {link.get('href')!r}"))
    for style in root.iter("style"):
        if "@import" in (style.text or ""):
            problems.append(_problem(where, "a <style> block @imports an external stylesheet"))
    return problems


def check_text_links(document: str, text: str, story_links: Iterable[str], where: str) -> list[Problem]:
    """The text part contains every story link that the HTML part contains."""
    hrefs = {a.get("href") for a in _parse(document).iter("a")}
    return [
        _problem(where, f"the text part lacks the story link {link}")
        for link in story_links
        if link in hrefs and link not in text
    ]


def check_no_placeholders(document: str, where: str) -> list[Problem]:
    """The web copy must carry no per-subscriber data, not even a marker."""
    return [_problem(where, f"contains the per-recipient marker {m}") for m in placeholders.ALL if m in document]


def check_rendered(
    email_html: str, email_text: str, web_html: str, inline_css: str, story_links: Iterable[str], week: str
) -> list[Problem]:
    """All the checks of a rendered issue, email and web copy."""
    email, web = f"newsletter {week} email.html", f"newsletter {week} index.html"
    links = tuple(story_links)
    problems: list[Problem] = []
    problems += check_inlined(email_html, inline_css, email)
    problems += check_size(email_html, email)
    problems += check_images(email_html, email)
    problems += check_links(email_html, email)
    problems += check_no_active_content(email_html, email)
    problems += check_text_links(email_html, email_text, links, f"newsletter {week} email.txt")
    missing = [link for link in links if link not in email_html.replace("&amp;", "&")]
    problems += [_problem(email, f"the HTML part lacks the story link {link}") for link in missing]
    problems += check_links(web_html, web, allowed=())
    problems += check_images(web_html, web)
    problems += check_no_active_content(web_html, web)
    problems += check_no_placeholders(web_html, web)
    return problems
