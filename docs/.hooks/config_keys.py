"""MkDocs hook: fill the configuration reference from the code.

``docs/reference/config.md`` holds the marker below; the table that replaces it
comes from :func:`syndicate._config.config_table_markdown`, so the documented
keys, types and defaults are the ones the loader validates, never a stale copy.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- config-keys -->"


def render_config_keys(markdown: str) -> str:
    """The page's Markdown with the marker replaced by the generated key table."""
    if MARKER not in markdown:
        return markdown
    from syndicate._config import config_table_markdown

    return markdown.replace(MARKER, config_table_markdown())


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return render_config_keys(markdown)
