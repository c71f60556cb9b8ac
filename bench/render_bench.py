"""CPU per article body of the Markdown renderer, beside the bare renderers it was chosen from (issue 15).

    python bench/render_bench.py CONTENT_DIR [--limit 3000]

CONTENT_DIR holds Markdown articles with front matter, e.g. a site written by
``bench/build_bench.py``'s generator. Prints milliseconds of CPU
(``time.process_time()``, best of three passes) per body for syndicate's
``render_markdown`` (HTML, text, first paragraph, images, nh3) and, for scale,
for each bare renderer that is installed: pyromark's events and HTML, nh3 alone,
and markdown-it-py, cmarkgfm and markdown-it-pyrs when present (none is a
dependency of syndicate but pyromark; this installs nothing).
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nh3
import pyromark

from syndicate._collection.render import render_markdown

PAGE = "https://bench.example.com/2026/11/01/story/"


def _bodies(content: Path, limit: int) -> list[str]:
    bodies = []
    for path in sorted(content.glob("*.md"))[:limit]:
        text = path.read_text(encoding="utf-8")
        bodies.append(text.split("\n---\n", 1)[1] if text.startswith("---\n") else text)
    return bodies


def _per_body(bodies: list[str], render: Callable[[str], object]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for body in bodies:
            render(body)
        best = min(best, time.process_time() - started)
    return best / len(bodies) * 1000


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("content", type=Path)
    parser.add_argument("--limit", type=int, default=3000)
    args = parser.parse_args()
    bodies = _bodies(args.content, args.limit)
    print(f"{len(bodies)} bodies, {sum(map(len, bodies)) // max(1, len(bodies))} characters on average")
    rows: list[tuple[str, Callable[[str], object]]] = [
        ("syndicate render_markdown", lambda body: render_markdown(body, PAGE)),
    ]
    fast = pyromark.Markdown(options=pyromark.Options.ENABLE_TABLES)
    rows += [("pyromark events", lambda body: tuple(fast.events(body))), ("pyromark HTML", fast.html)]
    html = [fast.html(body) for body in bodies]
    cleaned = iter(html * 3)
    rows.append(("nh3.clean of the HTML", lambda _: nh3.clean(next(cleaned), link_rel=None)))
    markdown_it = _optional("markdown_it")
    if markdown_it is not None:
        commonmark = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")
        rows += [("markdown-it-py parse", commonmark.parse), ("markdown-it-py HTML", commonmark.render)]
    cmarkgfm = _optional("cmarkgfm")
    if cmarkgfm is not None:
        unsafe = cmarkgfm.cmark.Options.CMARK_OPT_UNSAFE
        rows.append(
            (
                "cmarkgfm HTML",
                lambda body: cmarkgfm.markdown_to_html_with_extensions(body, unsafe, extensions=["table"]),
            )
        )
    pyrs = _optional("markdown_it_pyrs")
    if pyrs is not None:
        rows.append(("markdown-it-pyrs HTML", pyrs.MarkdownIt("commonmark").enable("table").render))
    for name, render in rows:
        print(f"{name:32s} {_per_body(bodies, render):.4f} ms per body")


if __name__ == "__main__":
    main()
