"""DKIM signing of every outgoing message (dkimpy), when ``[smtp] dkim_selector`` and ``dkim_key_file`` are set.

The signed headers are the ones mailbox providers require of bulk senders
(From, Subject, List-Unsubscribe, List-Unsubscribe-Post) plus the usual set
(To, Date, Message-ID, MIME headers, List-Id). ``From`` is listed twice so
that a second From header added in transit breaks the signature (RFC 6376
8.15, "oversigning"). The key is read once per run, not once per message.
"""

from __future__ import annotations

from pathlib import Path

import dkim

from ..config import Config
from ..errors import ConfigError

__all__ = ["SIGNED_HEADERS", "DkimSigner", "dkim_signer"]

SIGNED_HEADERS: tuple[bytes, ...] = (
    b"From",
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"List-Id",
    b"MIME-Version",
    b"Content-Type",
    b"Reply-To",
)


class DkimSigner:
    """Signs messages for one domain with one selector and key."""

    def __init__(self, selector: str, domain: str, private_key: bytes) -> None:
        self.selector = selector
        self.domain = domain
        self._key = private_key
        self._ed25519 = b"BEGIN" not in private_key  # dkimpy takes ed25519 keys as raw base64

    def sign(self, message: bytes) -> bytes:
        """``message`` with a DKIM-Signature header in front."""
        try:
            header = dkim.sign(
                message,
                self.selector.encode("ascii"),
                self.domain.encode("ascii"),
                self._key,
                include_headers=list(SIGNED_HEADERS),
                signature_algorithm=b"ed25519-sha256" if self._ed25519 else b"rsa-sha256",
                linesep=b"\r\n",
            )
        except (dkim.DKIMException, ValueError, IndexError) as exc:  # a malformed key surfaces as binascii.Error
            raise ConfigError(f"DKIM signing failed: {exc}", key="smtp.dkim_key_file") from None
        return bytes(header) + message


def dkim_signer(config: Config, from_domain: str) -> DkimSigner | None:
    """The site's signer, or None when DKIM is not configured."""
    smtp = config.smtp
    if not smtp.dkim_selector and not smtp.dkim_key_file:
        return None
    if not smtp.dkim_selector or not smtp.dkim_key_file:
        missing = "smtp.dkim_selector" if not smtp.dkim_selector else "smtp.dkim_key_file"
        raise ConfigError("must be set too: DKIM needs both a selector and a key file", key=missing)
    path = config.path(smtp.dkim_key_file)
    try:
        key = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the DKIM key {path}: {exc.strerror}", key="smtp.dkim_key_file") from None
    domain = smtp.dkim_domain or from_domain
    if not domain:
        raise ConfigError("cannot tell the DKIM domain: set [smtp] from or dkim_domain", key="smtp.dkim_domain")
    signer = DkimSigner(smtp.dkim_selector, domain, key.strip() if b"BEGIN" not in key else key)
    signer.sign(b"From: check@" + domain.encode() + b"\r\nSubject: key check\r\n\r\nx\r\n")  # a bad key fails now
    return signer
