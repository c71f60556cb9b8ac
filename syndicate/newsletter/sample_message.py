"""``message.eml``: the issue as one complete MIME message to a sample recipient.

It is what a subscriber would receive (multipart/alternative, text then HTML,
UTF-8), with the per-recipient markers filled in for a made-up reader, so it
can be opened in any mail client or fed to a spam checker. Every header is
derived from the issue, never from the clock, so the bytes are reproducible:
the Date is the moment the issue is due, the boundary a hash of the content.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from ..config import Config
from ..model import RenderedIssue
from .personalise import Personaliser, recipient_values

SAMPLE_NAME = "Sample Reader"
SAMPLE_EMAIL = "reader@example.com"


def unsubscribe_base(config: Config) -> str:
    return config.newsletter.unsubscribe_url or f"{config.site.base_url}/unsubscribe"


def sender_address(config: Config) -> str:
    """``[smtp] from``, else the site's title at newsletter@<site domain>."""
    return config.smtp.from_ or formataddr((config.site.title, f"newsletter@{config.site.domain}"))


def sample_message(config: Config, rendered: RenderedIssue, date: datetime) -> bytes:
    """The issue as sent to :data:`SAMPLE_EMAIL`, serialised with CRLF line ends (``email.policy.SMTP``)."""
    unsubscribe = f"{unsubscribe_base(config)}?token=sample"
    text = Personaliser(rendered.text).fill(recipient_values(SAMPLE_NAME, SAMPLE_EMAIL, unsubscribe, for_html=False))
    body = Personaliser(rendered.html).fill(recipient_values(SAMPLE_NAME, SAMPLE_EMAIL, unsubscribe, for_html=True))
    message = EmailMessage(policy=SMTP)
    message["From"] = sender_address(config)
    message["To"] = formataddr((SAMPLE_NAME, SAMPLE_EMAIL))
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<{rendered.week}.sample@{config.site.domain or 'localhost'}>"
    if config.newsletter.list_id:
        message["List-Id"] = f"<{config.newsletter.list_id}>"
    targets = [f"<{unsubscribe}>"]
    if config.newsletter.unsubscribe_mailto:
        targets.append(f"<mailto:{config.newsletter.unsubscribe_mailto}?subject=unsubscribe>")
    message["List-Unsubscribe"] = ", ".join(targets)
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(body, subtype="html", charset="utf-8")
    digest = hashlib.sha256((text + body).encode("utf-8")).hexdigest()[:32]
    message.set_boundary(f"=_syndicate_{digest}")
    return message.as_bytes(policy=SMTP)
