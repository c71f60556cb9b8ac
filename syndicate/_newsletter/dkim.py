"""DKIM signing of every outgoing message (dkimpy), when ``[smtp] dkim_selector`` and ``dkim_key_file`` are set.

The signed headers are the ones mailbox providers require of bulk senders
(From, Subject, List-Unsubscribe, List-Unsubscribe-Post) plus the usual set
(To, Date, Message-ID, MIME headers, List-Id). ``From`` is listed twice so
that a second From header added in transit breaks the signature (RFC 6376
8.15, "oversigning"). The key is read once per run, not once per message.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from .._config import Config
from .._errors import ConfigError

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


class _OpenSslDkim(dkim.DKIM):  # type: ignore[misc]
    """dkimpy's signer with the RSA operation done by OpenSSL (through cryptography).

    dkimpy computes RSA signatures in pure Python (``pow``): about 7 ms of CPU
    per message here, fifteen times what the rest of a send costs. Everything
    else (canonicalisation, the header list, folding) stays dkimpy's; only
    :meth:`gen_header`'s signing step differs, so dkimpy still verifies it.
    """

    rsa_key: rsa.RSAPrivateKey

    def gen_header(
        self,
        fields: list[tuple[bytes, bytes]],
        include_headers: tuple[bytes, ...],
        canon_policy: Any,
        header_name: bytes,
        pk: Any,
        standardize: bool = False,
    ) -> bytes:
        header_value = b"; ".join(b"=".join(x) for x in fields)
        header_value = dkim.fold(header_value, namelen=len(header_name), linesep=b"\r\n")
        header_value = dkim.RE_BTAG.sub(b"\\1", header_value)
        h = dkim.HashThrough(self.hasher(), self.debug_content)
        headers = canon_policy.canonicalize_headers(self.headers)
        self.signed_headers = dkim.hash_headers(
            h, canon_policy, headers, include_headers, (header_name, b" " + header_value), dict(fields)
        )
        algorithm = hashes.SHA256() if self.signature_algorithm == b"rsa-sha256" else hashes.SHA1()
        signature = self.rsa_key.sign(h.digest(), padding.PKCS1v15(), Prehashed(algorithm))
        fields = [(b"b", base64.b64encode(signature)) if name == b"b" else (name, value) for name, value in fields]
        header_value = b"; ".join(b"=".join(x) for x in fields) + self.linesep
        return bytes(dkim.fold(header_value, namelen=len(header_name), linesep=self.linesep))


class DkimSigner:
    """Signs messages (rsa-sha256) for one domain with one selector and key."""

    def __init__(self, selector: str, domain: str, private_key_pem: bytes) -> None:
        self.selector = selector
        self.domain = domain
        self._pem = private_key_pem
        try:
            key = serialization.load_pem_private_key(private_key_pem, password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"not a PEM private key without a passphrase: {exc}", key="smtp.dkim_key_file") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError("the DKIM key must be an RSA key (rsa-sha256)", key="smtp.dkim_key_file")
        if key.key_size < 1024:
            raise ConfigError(
                f"a {key.key_size}-bit DKIM key is refused by receivers: use 2048", key="smtp.dkim_key_file"
            )
        self._key = key

    def sign(self, message: bytes) -> bytes:
        """``message`` with a DKIM-Signature header in front."""
        head, blank, body = message.partition(b"\r\n\r\n")
        if blank and body.count(b"\n") == body.count(b"\r\n"):
            # dkimpy would split the whole 55 KB message into lines with a regex and join the body
            # again (~0.7 ms); for a CRLF body that yields these very bytes, so parse the head only.
            signer = _OpenSslDkim(head + blank, linesep=b"\r\n")
            signer.body = body
        else:
            signer = _OpenSslDkim(message, linesep=b"\r\n")
        signer.rsa_key = self._key
        try:
            header = signer.sign(
                self.selector.encode("ascii"),
                self.domain.encode("ascii"),
                self._pem,
                include_headers=list(SIGNED_HEADERS),
                canonicalize=(b"relaxed", b"simple"),  # dkimpy's default; relaxed body costs ~1 ms on 55 KB
            )
        except (dkim.DKIMException, ValueError, IndexError) as exc:
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
    signer = DkimSigner(smtp.dkim_selector, domain, key)
    signer.sign(b"From: check@" + domain.encode() + b"\r\nSubject: key check\r\n\r\nx\r\n")  # a bad key fails now
    return signer
