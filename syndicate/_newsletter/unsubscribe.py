"""Signed tokens (HMAC) for unsubscribe and sign-up links, and the entry point of the web app.

A token is ``<subscriber id>.<signature>``: the signature is an HMAC-SHA256,
keyed with the secret from ``SYNDICATE_SECRET``, over the id and the address,
so it cannot be forged or moved to another subscriber without the secret, and
it stops working if the id is ever given to another address.

The web app (:mod:`.webapp`) answers ``GET`` on an unsubscribe link with the
preferences page (a GET never unsubscribes: mail scanners follow links), and
the RFC 8058 one-click ``POST`` (body ``List-Unsubscribe=One-Click``) that
mail clients send from the ``List-Unsubscribe`` header. A malformed token
gets 400, a forged or altered one 403; neither changes anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import TYPE_CHECKING
from urllib.parse import quote

from .._errors import InvalidTokenError as InvalidTokenError  # re-exported: its old import path
from .._errors import SecretMissingError
from .._model import Subscriber, SubscriberStatus
from .._store.subscribers import SubscriberTable, email_key
from .._textguard import whole_number
from .site_parts import SiteParts

if TYPE_CHECKING:
    from .._config import Config
    from .._store import Store
    from .webapp import SubscriptionApp

SECRET_ENV = "SYNDICATE_SECRET"
MIN_SECRET_LENGTH = 16
_SIGNATURE_BYTES = 16  # 128 bits: forging is hopeless, and the link stays short


def load_secret(environ: dict[str, str] | None = None) -> bytes:
    """The signing secret from ``SYNDICATE_SECRET``; a clear error when unset or too short."""
    value = (environ if environ is not None else os.environ).get(SECRET_ENV, "")
    if not value:
        raise SecretMissingError(
            f"environment variable {SECRET_ENV} is not set; it signs unsubscribe links "
            f"(set it to a long random string, e.g. the output of: python3 -c 'import secrets; "
            f"print(secrets.token_urlsafe(32))')"
        )
    if len(value) < MIN_SECRET_LENGTH:
        raise SecretMissingError(
            f"environment variable {SECRET_ENV} is too short: use at least {MIN_SECRET_LENGTH} characters"
        )
    return value.encode("utf-8")


class TokenSigner:
    """Makes and checks signed tokens with one secret, for one purpose.

    The purpose is part of what is signed, so a sign-up confirmation token can
    never be replayed as an unsubscribe token or the other way round.
    """

    def __init__(self, secret: bytes, purpose: str = "unsubscribe") -> None:
        self._key = secret
        self.purpose = purpose

    def _signature(self, subject_id: int, email: str) -> str:
        message = f"syndicate-{self.purpose}:{subject_id}:{email_key(email)}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def token(self, subject_id: int, email: str) -> str:
        return f"{subject_id}.{self._signature(subject_id, email)}"

    def subscriber_id(self, token: str) -> int:
        """The id a token claims (not yet verified); InvalidTokenError when malformed."""
        claimed, dot, signature = token.strip().partition(".")
        number = whole_number(claimed, 18)
        if not dot or number is None or not signature:
            raise InvalidTokenError(f"malformed {self.purpose} token", forged=False)
        return number

    def verify_email(self, token: str, subject_id: int, email: str) -> None:
        """Raise InvalidTokenError unless ``token`` was made for ``subject_id`` and ``email``."""
        if self.subscriber_id(token) != subject_id:
            raise InvalidTokenError(f"{self.purpose} token not valid", forged=True)
        signature = token.strip().partition(".")[2]
        if not hmac.compare_digest(signature.encode(), self._signature(subject_id, email).encode()):
            raise InvalidTokenError(f"{self.purpose} token not valid", forged=True)

    def verify(self, token: str, subscriber: Subscriber | None) -> Subscriber:
        """Return ``subscriber`` when ``token`` is its valid token; raise otherwise."""
        claimed = self.subscriber_id(token)
        if subscriber is None or subscriber.id != claimed:
            raise InvalidTokenError(f"{self.purpose} token not valid", forged=True)
        self.verify_email(token, subscriber.id, subscriber.email)
        return subscriber


def check_token(table: SubscriberTable, signer: TokenSigner, token: str) -> Subscriber:
    """The subscriber a valid token names; InvalidTokenError otherwise. Changes nothing."""
    return signer.verify(token, table.get(signer.subscriber_id(token)))


def unsubscribe_with_token(table: SubscriberTable, signer: TokenSigner, token: str) -> tuple[Subscriber, bool]:
    """Unsubscribe the token's subscriber; return it and whether this changed anything."""
    subscriber = check_token(table, signer, token)
    if subscriber.status is SubscriberStatus.UNSUBSCRIBED:
        return subscriber, False
    table.set_status(subscriber.id, SubscriberStatus.UNSUBSCRIBED)
    return table.get(subscriber.id) or subscriber, True


def unsubscribe_link(base_url: str, token: str) -> str:
    """The https link carried in the message and its List-Unsubscribe header."""
    joiner = "&" if "?" in base_url else "?"
    return f"{base_url}{joiner}token={quote(token, safe='.')}"


def unsubscribe_app(site: SiteParts) -> SubscriptionApp:
    """The site's subscription WSGI app (sign-up, confirmation, preferences, unsubscribe).

    The name is the one from when the app only unsubscribed; it needs ``SYNDICATE_SECRET``.
    """
    return subscription_app(site.config, site.store)


def subscription_app(config: Config, store: Store) -> SubscriptionApp:
    """The subscription WSGI app over ``store``, with the webhook routes mounted under ``/webhooks/``."""
    from .webapp import SubscriptionApp
    from .webhooks import WebhookEndpoints  # not at the top: webhooks -> suppression -> this module

    app = SubscriptionApp(store, config, load_secret())
    app.mounts["/webhooks/"] = WebhookEndpoints(store, config)
    return app


def make_app(site_dir: str | None = None) -> SubscriptionApp:
    """A WSGI app factory for any WSGI server.

    For example ``gunicorn 'syndicate._newsletter.unsubscribe:make_app("/srv/site")'``.
    Without ``site_dir``, the site folder is ``$SYNDICATE_SITE`` or the current folder.
    The config and the secrets are read as :meth:`syndicate.Site.open` reads them.
    """
    from .._config import load_config, load_secret_files
    from .._store import Store

    config = load_config(site_dir or os.environ.get("SYNDICATE_SITE", "."))
    load_secret_files(config, None)
    return subscription_app(config, Store(config.database_path))
