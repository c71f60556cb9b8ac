"""The weekly newsletter: selecting an issue, rendering it, and sending it.

Contract between the stages (the newsletter-rendering work fills in the
selection and MJML rendering behind it; sending relies only on this):

* :func:`prepare_issue` selects and renders the issue of an ISO week and
  returns a :class:`~syndicate.model.RenderedIssue` whose HTML and text carry
  the markers of :mod:`syndicate.newsletter.placeholders`, or ``None`` for an
  empty week.
"""

from __future__ import annotations

import html
from datetime import datetime

from ..model import RenderedIssue
from ..site import Site
from . import placeholders
from .weeks import week_window


def prepare_issue(site: Site, week: str, *, now: datetime | None = None) -> RenderedIssue | None:
    """The rendered issue of ``week`` (placeholder rendering: plain HTML, no MJML yet)."""
    tz = site.config.site.tz
    start, end = week_window(week, tz)
    stories = site.collection.filter(since=start, until=end, now=now or end)
    if not stories:
        return None
    lead = stories[0]
    items_html = "".join(f'<li><a href="{html.escape(a.url)}">{html.escape(a.title)}</a></li>' for a in stories)
    items_text = "\n".join(f"- {a.title}\n  {a.url}" for a in stories)
    page = (
        f"<html><body><p>{placeholders.GREETING}</p><ul>{items_html}</ul>"
        f'<p><a href="{placeholders.UNSUBSCRIBE_URL}">Unsubscribe</a></p></body></html>'
    )
    text = f"{placeholders.GREETING}\n\n{items_text}\n\nUnsubscribe: {placeholders.UNSUBSCRIBE_URL}\n"
    return RenderedIssue(
        week=week,
        subject=lead.title,
        preheader=lead.summary,
        html=page,
        text=text,
        story_urls=tuple(a.url for a in stories),
    )


__all__ = ["prepare_issue"]
