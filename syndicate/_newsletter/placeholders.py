"""Markers for per-recipient data in a rendered issue, unguessable by content.

An issue is rendered (Jinja2 -> MJML -> HTML, and text) once; these markers
survive MJML compilation and css-inline, and sending substitutes them per
recipient. They are plain ASCII with no characters HTML or URLs escape.

Only our templates can place a marker: each carries a random part drawn when
this process starts (before any outside feed is read), so no article, outside
title or link can contain one. Marker-like text in content (the fixed
``%%SYN_EMAIL%%`` of old, or a guessed random part) is just text and goes out
as written. An issue stored with the send ledger records the markers it was
rendered with, and a later run translates them to its own
(:func:`translate`), so a run that resumes an issue fills in the same places.
"""

from __future__ import annotations

import secrets

_RUN = secrets.token_hex(8)  # 64 random bits per process; never written anywhere public by sending


def _marker(name: str) -> str:
    return f"%%SYN_{name}_{_RUN}%%"


GREETING = _marker("GREETING")  # "Hi Jane," or a neutral greeting when the name is unknown
NAME = _marker("NAME")  # the subscriber's name (HTML-escaped in HTML, raw in text)
EMAIL = _marker("EMAIL")  # the subscriber's address
UNSUBSCRIBE_URL = _marker("UNSUBSCRIBE_URL")  # one-click unsubscribe page with the signed token

ALL = (GREETING, NAME, EMAIL, UNSUBSCRIBE_URL)

# The fixed markers issues were rendered with before markers became random: only an issue
# stored by that version (opened, not finished) still has them, and it is resumed as it was.
LEGACY = ("%%SYN_GREETING%%", "%%SYN_NAME%%", "%%SYN_EMAIL%%", "%%SYN_UNSUBSCRIBE_URL%%")


def translate(text: str, rendered_with: tuple[str, ...] | list[str]) -> str:
    """``text`` rendered with the markers ``rendered_with`` (in :data:`ALL`'s order), with this process's instead."""
    for old, new in zip(rendered_with, ALL, strict=True):
        if old != new:
            text = text.replace(old, new)
    return text


def published(text: str) -> str:
    """``text`` (rendered by this process) with the fixed markers in place of this process's.

    For the archive's ``email.html`` and ``email.txt``: a preview of where the
    per-recipient data go, byte for byte the same from every build, and never
    showing anyone the random part. Nothing is sent from these files.
    """
    for mine, fixed in zip(ALL, LEGACY, strict=True):
        text = text.replace(mine, fixed)
    return text
