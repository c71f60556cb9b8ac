"""What the send path adds to each message on its way out: the VERP return path and the DKIM signature.

:mod:`.send` calls :meth:`Envelope.return_path` for the MAIL FROM of each
message and :meth:`Envelope.sign` on its bytes; both do nothing special when
``[newsletter] verp_address`` and ``[smtp] dkim_*`` are unset.
"""

from __future__ import annotations

from email.utils import parseaddr

from .._config import Config
from .dkim import DkimSigner, dkim_signer
from .suppression import verp_addresses
from .verp import VerpAddresses

__all__ = ["Envelope"]


class Envelope:
    def __init__(self, verp: VerpAddresses | None, signer: DkimSigner | None) -> None:
        self.verp = verp
        self.signer = signer

    @classmethod
    def for_site(cls, config: Config, secret: bytes) -> Envelope:
        from_domain = parseaddr(config.smtp.from_)[1].rpartition("@")[2]
        return cls(verp_addresses(config, secret), dkim_signer(config, from_domain))

    def return_path(self, default: str, subscriber_id: int, week: str, email: str) -> str:
        """The MAIL FROM of one message: its own VERP address, or ``default`` (the From address)."""
        if self.verp is None:
            return default
        return self.verp.address(subscriber_id, week, email)

    def sign(self, message: bytes) -> bytes:
        return self.signer.sign(message) if self.signer is not None else message
