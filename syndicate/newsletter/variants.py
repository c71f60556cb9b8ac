"""The plain-text variant of a rendered message, for readers who chose it.

The issue's message is built once as multipart/alternative (text and HTML);
a reader who asked for plain text gets the same message with only its text
part. Converting the finished bytes, rather than keeping a second template,
keeps every per-recipient header and marker value exactly as the normal
variant has them.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser


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
