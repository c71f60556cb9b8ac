"""The MIME message of an issue: built once, personalised per recipient by substitution.

:class:`MessageTemplate` builds the skeleton with :class:`email.message.EmailMessage`
and serialises it once with ``email.policy.SMTP`` (CRLF line ends, encoded
and folded headers). Per recipient, only the varying headers (To, Date,
Message-ID, List-Unsubscribe) are formatted, and the two bodies are joined
from pre-encoded quoted-printable pieces: the static text between markers is
encoded once per issue; each substituted value is encoded on its own
soft-broken lines, so no line exceeds 76 characters and nothing is re-encoded
per recipient. That keeps a message's cost in microseconds, not milliseconds.

No header can be broken by outside text: the subject and names have control
characters (CR, LF, ...) replaced, and the address is validated.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses
from urllib.parse import quote

from .._config import Config
from .._errors import ConfigError, NewsletterError
from .._model import RenderedIssue
from . import placeholders
from .personalise import recipient_values
from .subscribers import InvalidAddressError, clean_name, normalize_address

_TEXT_SLOT = "SYNDICATETEXTBODYSLOT"
_HTML_SLOT = "SYNDICATEHTMLBODYSLOT"
_MARKERS = re.compile("|".join(re.escape(marker) for marker in placeholders.ALL))
_SOFT_BREAK = b"=\r\n"
_ASCII_PHRASE = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ .]*$")


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _qp(text: str) -> bytes:
    # binascii's encoder is C: fast, and wraps at 76 with soft breaks.
    return _crlf(binascii.b2a_qp(text.encode("utf-8"), istext=True))


class BodyTemplate:
    """One body (HTML or text) split at its markers, the static pieces pre-encoded."""

    def __init__(self, text: str) -> None:
        normalised = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
        pieces = _MARKERS.split(normalised)
        self.markers = _MARKERS.findall(normalised)
        self.encoded = [_qp(piece) for piece in pieces]

    def render(self, values: dict[str, str]) -> bytes:
        """The quoted-printable body with ``values`` substituted for the markers."""
        out = [self.encoded[0]]
        for marker, piece in zip(self.markers, self.encoded[1:], strict=True):
            # A soft break either side puts the value on lines of its own.
            out.append(_SOFT_BREAK)
            out.append(_qp(values.get(marker, "")))
            out.append(_SOFT_BREAK)
            out.append(piece)
        body = b"".join(out)
        return body if body.endswith(b"\r\n") else body + b"\r\n"


def one_line(text: str) -> str:
    """Outside text made safe for a header: control characters become spaces."""
    return clean_name(text)


def _sender(from_: str) -> Address:
    if not from_ or "\r" in from_ or "\n" in from_:
        raise ConfigError("set it to one sender, e.g. 'Reel Dispatch <news@example.com>'", key="smtp.from")
    pairs = getaddresses([from_])
    if len(pairs) != 1 or "@" not in pairs[0][1]:
        raise ConfigError(f"{from_!r} is not one address, e.g. 'Reel Dispatch <news@example.com>'", key="smtp.from")
    name, address = pairs[0]
    try:
        address = normalize_address(address)
    except InvalidAddressError as exc:
        raise ConfigError(f"{address!r}: {exc.reason}", key="smtp.from") from None
    username, _, domain = address.rpartition("@")
    return Address(display_name=one_line(name), username=username, domain=domain)


def _format_to(recipient: Recipient) -> bytes:
    name = clean_name(recipient.name)
    if not name:
        return f"To: {recipient.email}\r\n".encode("ascii")
    if _ASCII_PHRASE.match(name):
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        line = f'To: "{quoted}" <{recipient.email}>'
        if len(line) <= 78:
            return f"{line}\r\n".encode("ascii")
    # Non-ASCII or long: let the email package encode and fold it (rare, so its cost is fine).
    username, _, domain = recipient.email.rpartition("@")
    scratch = EmailMessage(policy=policy.SMTP)
    scratch["To"] = Address(display_name=name, username=username, domain=domain)
    folded: str = policy.SMTP.fold("To", scratch["To"])
    return folded.encode("ascii")


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who one message goes to, and the link that unsubscribes them."""

    email: str
    name: str
    unsubscribe_url: str
    subscriber_id: int = 0

    def values(self, *, for_html: bool) -> dict[str, str]:
        """The markers' values for this recipient (HTML-escaped for the HTML part)."""
        return recipient_values(clean_name(self.name), self.email, self.unsubscribe_url, for_html=for_html)


@dataclass(frozen=True, slots=True)
class ListSettings:
    """The list headers' inputs: List-Id and the unsubscribe mailbox."""

    list_id: str
    list_name: str
    unsubscribe_mailto: str


class MessageTemplate:
    """An issue's message, ready to be personalised for each recipient.

    >>> lists = ListSettings("weekly.example.com", "Site", "unsub@example.com")
    >>> template = MessageTemplate(issue, sender="Site <news@example.com>", lists=lists)  # doctest: +SKIP
    >>> data = template.render(recipient, token="12.abc", now=now)  # doctest: +SKIP
    """

    def __init__(self, issue: RenderedIssue, *, sender: str, lists: ListSettings) -> None:
        self.week = issue.week
        self.sender = _sender(sender)
        self.domain = self.sender.domain
        self.unsubscribe_mailto = one_line(lists.unsubscribe_mailto) or self.sender.addr_spec
        list_id = re.sub(r"[^A-Za-z0-9.\-]", "", lists.list_id) or f"newsletter.{self.domain}"
        skeleton = EmailMessage(policy=policy.SMTP)
        skeleton["From"] = self.sender
        skeleton["Subject"] = one_line(issue.subject) or f"Newsletter {issue.week}"
        skeleton["List-Id"] = f"{one_line(lists.list_name).replace('<', '').replace('>', '')} <{list_id}>"
        skeleton["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        skeleton["MIME-Version"] = "1.0"
        skeleton.set_content(_TEXT_SLOT, subtype="plain", charset="utf-8", cte="7bit")
        skeleton.add_alternative(_HTML_SLOT, subtype="html", charset="utf-8", cte="7bit")
        for part in skeleton.iter_parts():
            # The parts' bodies are replaced by quoted-printable ones below.
            part.replace_header("Content-Transfer-Encoding", "quoted-printable")
            del part["MIME-Version"]
        # A boundary from the content keeps the bytes reproducible (message.eml is built with this
        # too); quoted-printable bodies write "=" as "=3D", so "=_" can never occur inside them.
        # Hashed with the fixed markers: the random ones differ from process to process.
        digest = hashlib.sha256(placeholders.published(issue.text + issue.html).encode("utf-8")).hexdigest()[:32]
        skeleton.set_boundary(f"=_syndicate_{digest}")
        data = skeleton.as_bytes(policy=policy.SMTP)
        head, _, body = data.partition(b"\r\n\r\n")
        before_text, _, rest = body.partition(_TEXT_SLOT.encode() + b"\r\n")
        between, _, after_html = rest.partition(_HTML_SLOT.encode() + b"\r\n")
        if not after_html:
            raise NewsletterError("building the message skeleton failed: body markers not found")
        self.head = head + b"\r\n"
        self.before_text = b"\r\n" + before_text
        self.between = between
        self.after_html = after_html
        self.text = BodyTemplate(issue.text)
        self.html = BodyTemplate(issue.html)
        self._date_second = -1
        self._date_header = b""

    def message_id(self, recipient: Recipient) -> str:
        """A fresh, unique Message-ID (a resend of the same issue gets a new one too)."""
        return f"<{self.week}.{recipient.subscriber_id}.{os.urandom(8).hex()}@{self.domain}>"

    def _date(self, now: datetime) -> bytes:
        second = int(now.timestamp())
        if second != self._date_second:
            self._date_second = second
            self._date_header = f"Date: {format_datetime(now)}\r\n".encode("ascii")
        return self._date_header

    def list_unsubscribe(self, recipient: Recipient, token: str) -> bytes:
        mailto = f"mailto:{self.unsubscribe_mailto}?subject={quote('unsubscribe ' + token)}"
        https = recipient.unsubscribe_url
        if len(https) + len(mailto) + 24 <= 78:
            return f"List-Unsubscribe: <{https}>, <{mailto}>\r\n".encode("ascii")
        return f"List-Unsubscribe: <{https}>,\r\n <{mailto}>\r\n".encode("ascii")

    def render(self, recipient: Recipient, *, token: str, now: datetime, message_id: str | None = None) -> bytes:
        """The whole message for one recipient, CRLF line ends, ready for DATA."""
        return b"".join(
            (
                self.head,
                _format_to(recipient),
                self._date(now),
                f"Message-ID: {message_id or self.message_id(recipient)}\r\n".encode("ascii"),
                self.list_unsubscribe(recipient, token),
                self.before_text,
                self.text.render(recipient.values(for_html=False)),
                self.between,
                self.html.render(recipient.values(for_html=True)),
                self.after_html,
            )
        )


def unsubscribe_base(config: Config) -> str:
    """The unsubscribe page: ``[newsletter] unsubscribe_url``, else ``<site url>/unsubscribe``."""
    return config.newsletter.unsubscribe_url or f"{config.site.base_url}/unsubscribe"


def sender_address(config: Config) -> str:
    """``[smtp] from``, else the site's title at newsletter@<site domain>."""
    return config.smtp.from_ or formataddr((config.site.title, f"newsletter@{config.site.domain}"))


def template_for(config: Config, issue: RenderedIssue) -> MessageTemplate:
    """The message template of ``issue`` with the site's sender and list headers."""
    return MessageTemplate(
        issue,
        sender=sender_address(config),
        lists=ListSettings(config.newsletter.list_id, config.site.title, config.newsletter.unsubscribe_mailto),
    )
