"""``message.eml``: the issue as one complete MIME message to a sample recipient.

It is built by the same :class:`~syndicate._newsletter.message.MessageTemplate`
that sending uses, so it is byte for byte what a subscriber would receive
(multipart/alternative, text then HTML, UTF-8), with the per-recipient markers
filled in for a made-up reader; it can be opened in any mail client or fed to
a spam checker. Nothing comes from the clock or a random source, so the bytes
are reproducible: the Date is the moment the issue is due, the Message-ID
fixed, the MIME boundary a hash of the content.
"""

from __future__ import annotations

from datetime import datetime

from .._config import Config
from .._model import RenderedIssue
from .message import Recipient, template_for, unsubscribe_base

SAMPLE_NAME = "Sample Reader"
SAMPLE_EMAIL = "reader@example.com"
SAMPLE_TOKEN = "sample"


def sample_message(config: Config, rendered: RenderedIssue, date: datetime) -> bytes:
    """The issue as sent to :data:`SAMPLE_EMAIL`, with CRLF line ends."""
    template = template_for(config, rendered)
    recipient = Recipient(SAMPLE_EMAIL, SAMPLE_NAME, f"{unsubscribe_base(config)}?token={SAMPLE_TOKEN}")
    message_id = f"<{rendered.week}.sample@{template.domain}>"
    return template.render(recipient, token=SAMPLE_TOKEN, now=date, message_id=message_id)
