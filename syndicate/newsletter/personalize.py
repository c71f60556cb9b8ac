"""Per-recipient values for the markers of :mod:`~syndicate.newsletter.placeholders`.

The issue is rendered once; here each subscriber's greeting, name, address
and unsubscribe link are made into the strings that replace the markers, in
two flavours: HTML-escaped for the HTML part, raw for the text part.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from . import placeholders
from .subscribers import clean_name

NEUTRAL_GREETING = "Hello,"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who one message goes to, and the link that unsubscribes them."""

    email: str
    name: str
    unsubscribe_url: str
    subscriber_id: int = 0


def greeting(name: str) -> str:
    """``Hi Jane,`` for a known first name, a neutral greeting otherwise."""
    first = clean_name(name).split(" ")[0] if name else ""
    return f"Hi {first}," if first else NEUTRAL_GREETING


def text_values(recipient: Recipient) -> dict[str, str]:
    name = clean_name(recipient.name)
    return {
        placeholders.GREETING: greeting(name),
        placeholders.NAME: name,
        placeholders.EMAIL: recipient.email,
        placeholders.UNSUBSCRIBE_URL: recipient.unsubscribe_url,
    }


def html_values(recipient: Recipient) -> dict[str, str]:
    return {marker: html.escape(value, quote=True) for marker, value in text_values(recipient).items()}
