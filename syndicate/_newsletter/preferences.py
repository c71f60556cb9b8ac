"""A reader's own choices, set on the preferences page: plain text, a pause, or leaving.

The page's link is the one every issue carries for unsubscribing (its token
signs the subscriber's id and address), so the reader needs nothing else to
manage their subscription. Sending honours the choices when it picks who
gets an issue (:meth:`SubscriberTable.receiving`) and which variant.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .._errors import PreferenceError as PreferenceError  # re-exported: its old import path
from .._model import Subscriber
from .._store.subscribers import SubscriberTable
from .._textguard import whole_number

PAUSE_CHOICES = (1, 2, 4, 8, 12, 26)
MAX_PAUSE_WEEKS = 52


def apply_preference(
    table: SubscriberTable, subscriber: Subscriber, form: dict[str, str], now: datetime
) -> tuple[Subscriber, str]:
    """Apply one posted preferences form; return the subscriber as stored and what changed, in words."""
    kind = form.get("preference", "")
    if kind == "format":
        value = form.get("plain_text", "")
        if value not in ("0", "1"):
            raise PreferenceError("plain_text must be 0 or 1")
        updated = table.set_plain_text(subscriber.id, value == "1")
        notice = "You will get the plain-text version." if value == "1" else "You will get the designed version."
    elif kind == "pause":
        text = form.get("weeks", "").strip()
        weeks = whole_number(text, 3) or 0
        if not 1 <= weeks <= MAX_PAUSE_WEEKS:
            raise PreferenceError(f"weeks must be a whole number from 1 to {MAX_PAUSE_WEEKS}")
        updated = table.set_paused_until(subscriber.id, now + timedelta(weeks=weeks))
        notice = f"Paused for {weeks} week{'s' if weeks != 1 else ''}."
    elif kind == "resume":
        updated = table.set_paused_until(subscriber.id, None)
        notice = "The newsletter resumes with the next issue."
    else:
        raise PreferenceError("unknown preference")
    return updated or subscriber, notice
