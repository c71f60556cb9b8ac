"""Markers for per-recipient data in a rendered issue.

An issue is rendered (Jinja2 -> MJML -> HTML, and text) once; these markers
survive MJML compilation and css-inline, and sending substitutes them per
recipient. They are plain ASCII with no characters HTML or URLs escape.
"""

from __future__ import annotations

GREETING = "%%SYN_GREETING%%"  # "Hi Jane," or a neutral greeting when the name is unknown
NAME = "%%SYN_NAME%%"  # the subscriber's name (HTML-escaped in HTML, raw in text)
EMAIL = "%%SYN_EMAIL%%"  # the subscriber's address
UNSUBSCRIBE_URL = "%%SYN_UNSUBSCRIBE_URL%%"  # one-click unsubscribe page with the signed token

ALL = (GREETING, NAME, EMAIL, UNSUBSCRIBE_URL)
