"""The plain-text variant of a rendered message, for readers who chose it.

The issue's message is built once as multipart/alternative (text and HTML);
a reader who asked for plain text gets the same message with only its text
part. Converting the finished bytes, rather than keeping a second template,
keeps every per-recipient header and marker value exactly as the normal
variant has them.
"""

from __future__ import annotations

from collections.abc import Iterable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from .._model import Subscriber
from .message import MessageTemplate, Recipient


def text_only(data: bytes) -> bytes:
    """``data`` (a multipart/alternative message) with its text/plain part alone, CRLF line ends."""
    message = BytesParser(policy=policy.SMTP).parsebytes(data)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    if body is None or not message.is_multipart():
        return data
    text = body.get_content().replace("\r\n", "\n")
    message.clear_content()  # drops the multipart Content-Type and both parts, keeps every other header
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    return message.as_bytes(policy=policy.SMTP)


class ReaderChoiceTemplate(MessageTemplate):
    """An issue's message template that gives readers who chose plain text the text-only variant.

    It wraps the template the send built (sharing its pre-encoded parts, so
    nothing is rebuilt) and changes only :meth:`render`; anything done to the
    message after rendering, such as a DKIM signature, then covers the variant
    the reader actually gets.
    """

    def __init__(self, template: MessageTemplate, plain_text_ids: Iterable[int]) -> None:
        vars(self).update(vars(template))  # the template as built once for the issue
        self.plain_text_ids = frozenset(plain_text_ids)

    def render(self, recipient: Recipient, **options: Any) -> bytes:
        data = super().render(recipient, **options)
        return text_only(data) if recipient.subscriber_id in self.plain_text_ids else data


def with_reader_choices(template: MessageTemplate, subscribers: Iterable[Subscriber]) -> MessageTemplate:
    """``template``, giving the text-only variant to those of ``subscribers`` who chose it."""
    chosen = [s.id for s in subscribers if s.plain_text]
    return ReaderChoiceTemplate(template, chosen) if chosen else template
