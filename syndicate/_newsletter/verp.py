"""VERP return paths: ``bounces+<signed id>@domain``, one per recipient and issue.

Every message goes out with its own envelope sender (MAIL FROM), so a bounce,
which mail servers send back to the envelope sender, names the recipient it is
about without anyone parsing the bounce's prose. The id is
``<subscriber id>.<week>.<signature>``: the signature is an HMAC (keyed with
``SYNDICATE_SECRET``) over the id, the week and the address, so a bounce
cannot be forged to suppress somebody else, and an id that outlives its
address (the row was erased and the number reused) stops matching.

The signature is lower-case base32: some mail servers fold the local part's
case, and the id must survive that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from .._errors import InvalidAddressError
from .._store.subscribers import email_key

_SIGNATURE_BYTES = 10  # 80 bits: 16 base32 characters, and forging by guessing is hopeless
_ID = re.compile(r"(\d{1,18})\.(\d{4}-w\d{2}|test)\.([a-z2-7]{16})")


@dataclass(frozen=True, slots=True)
class VerpId:
    """What a return path claims: a subscriber and an issue (not yet checked)."""

    subscriber_id: int
    week: str  # "2026-W47", or "test" for --to copies
    signature: str


class VerpAddresses:
    """Makes the return path of each message and reads it back from a bounce."""

    def __init__(self, secret: bytes, base_address: str, separator: str = "+") -> None:
        local, at, domain = base_address.rpartition("@")
        if not at or not local or not domain:
            raise InvalidAddressError(base_address, "no local part or no domain")
        self._key = secret
        self.local = local
        self.domain = domain
        self.separator = separator

    def _signature(self, subscriber_id: int, week: str, email: str) -> str:
        message = f"syndicate-verp:{subscriber_id}:{week.lower()}:{email_key(email)}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
        return base64.b32encode(digest).decode("ascii").lower()

    def address(self, subscriber_id: int, week: str, email: str) -> str:
        """The envelope sender of the message of ``week`` to ``email``."""
        signature = self._signature(subscriber_id, week, email)
        return f"{self.local}{self.separator}{subscriber_id}.{week.lower()}.{signature}@{self.domain}"

    def parse(self, address: str) -> VerpId | None:
        """The id an address carries when it is one of our return paths (signature not yet checked)."""
        local, at, domain = address.strip().strip("<>").rpartition("@")
        if not at or domain.casefold() != self.domain.casefold():
            return None
        prefix = f"{self.local}{self.separator}".casefold()
        if not local.casefold().startswith(prefix):
            return None
        match = _ID.fullmatch(local[len(prefix) :].lower())
        if match is None:
            return None
        week = match.group(2)
        return VerpId(int(match.group(1)), week.upper() if week != "test" else week, match.group(3))

    def verify(self, claimed: VerpId, email: str) -> bool:
        """True when ``claimed`` was made by us for ``email`` (the address the id's row holds now)."""
        expected = self._signature(claimed.subscriber_id, claimed.week, email)
        return hmac.compare_digest(expected.encode(), claimed.signature.encode())
