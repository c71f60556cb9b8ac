"""Unsubscribe tokens (HMAC-signed) and the small WSGI app that honours them.

A token is ``<subscriber id>.<signature>``: the signature is an HMAC-SHA256,
keyed with the secret from ``SYNDICATE_SECRET``, over the id and the address,
so it cannot be forged or moved to another subscriber without the secret, and
it stops working if the id is ever given to another address.

The app answers ``GET`` with a confirmation page (a GET never unsubscribes:
mail scanners follow links) whose button posts back, and the RFC 8058
one-click ``POST`` (body ``List-Unsubscribe=One-Click``) that mail clients
send from the ``List-Unsubscribe`` header. A malformed token gets 400, a
forged or altered one 403; neither changes anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from ..errors import SecretMissingError
from ..model import Subscriber, SubscriberStatus
from ..site import Site
from ..store.subscribers import SubscriberTable, email_key

SECRET_ENV = "SYNDICATE_SECRET"
MIN_SECRET_LENGTH = 16
_SIGNATURE_BYTES = 16  # 128 bits: forging is hopeless, and the link stays short
_MAX_BODY = 64 * 1024


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


class InvalidTokenError(ValueError):
    """A token that is malformed (``forged`` False) or whose signature does not match (True)."""

    def __init__(self, message: str, *, forged: bool) -> None:
        super().__init__(message)
        self.forged = forged


class TokenSigner:
    """Makes and checks unsubscribe tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        self._key = secret

    def _signature(self, subscriber_id: int, email: str) -> str:
        message = f"syndicate-unsubscribe:{subscriber_id}:{email_key(email)}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def token(self, subscriber_id: int, email: str) -> str:
        return f"{subscriber_id}.{self._signature(subscriber_id, email)}"

    def subscriber_id(self, token: str) -> int:
        """The id a token claims (not yet verified); InvalidTokenError when malformed."""
        claimed, dot, signature = token.strip().partition(".")
        if not dot or not claimed.isdigit() or not signature or len(claimed) > 18:
            raise InvalidTokenError("malformed unsubscribe token", forged=False)
        return int(claimed)

    def verify(self, token: str, subscriber: Subscriber | None) -> Subscriber:
        """Return ``subscriber`` when ``token`` is its valid token; raise otherwise."""
        claimed = self.subscriber_id(token)
        if subscriber is None or subscriber.id != claimed:
            raise InvalidTokenError("unsubscribe token not valid", forged=True)
        signature = token.strip().partition(".")[2]
        if not hmac.compare_digest(signature.encode(), self._signature(subscriber.id, subscriber.email).encode()):
            raise InvalidTokenError("unsubscribe token not valid", forged=True)
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


StartResponse = Callable[..., Any]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}}
button{{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#222;color:#fff;cursor:pointer}}</style>
</head><body><h1>{title}</h1>{body}<p><small>{site}</small></p></body></html>
"""


@dataclass
class UnsubscribeApp:
    """The WSGI app: ``GET ?token=T`` confirms, ``POST ?token=T`` unsubscribes.

    Any path is accepted, so it can be mounted wherever ``[newsletter]
    unsubscribe_url`` points.
    """

    table: SubscriberTable
    signer: TokenSigner
    site_title: str = ""
    webhooks: Callable[[dict[str, Any], StartResponse], Iterable[bytes]] | None = None  # bounces (webhooks.py)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.webhooks is not None and environ.get("PATH_INFO", "").startswith("/webhooks/"):
            return self.webhooks(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        token = (query.get("token") or [""])[0]
        if method not in ("GET", "HEAD", "POST"):
            return self._respond(
                start_response,
                "405 Method Not Allowed",
                "Not allowed",
                "<p>Use GET or POST.</p>",
                method,
                [("Allow", "GET, HEAD, POST")],
            )
        if not token:
            return self._respond(
                start_response,
                "400 Bad Request",
                "Link incomplete",
                "<p>This unsubscribe link has no token. Please use the link from your email.</p>",
                method,
            )
        try:
            subscriber = check_token(self.table, self.signer, token)
        except InvalidTokenError as exc:
            status = "403 Forbidden" if exc.forged else "400 Bad Request"
            return self._respond(
                start_response,
                status,
                "Link not valid",
                "<p>This unsubscribe link is not valid. Please use the link from your email.</p>",
                method,
            )
        if method == "POST":
            body = self._read_body(environ)
            # RFC 8058: the one-click POST carries List-Unsubscribe=One-Click (urlencoded or multipart).
            if b"One-Click" not in body:
                return self._respond(
                    start_response,
                    "400 Bad Request",
                    "Request incomplete",
                    "<p>Expected the one-click unsubscribe form.</p>",
                    method,
                )
            unsubscribe_with_token(self.table, self.signer, token)
            text = f"<p>{html.escape(subscriber.email)} will receive no more newsletters.</p>"
            return self._respond(start_response, "200 OK", "You are unsubscribed", text, method)
        if subscriber.status is SubscriberStatus.UNSUBSCRIBED:
            text = f"<p>{html.escape(subscriber.email)} is already unsubscribed.</p>"
            return self._respond(start_response, "200 OK", "Already unsubscribed", text, method)
        action = html.escape("?" + environ.get("QUERY_STRING", ""), quote=True)
        text = (
            f"<p>Stop sending the newsletter to <strong>{html.escape(subscriber.email)}</strong>?</p>"
            f'<form method="post" action="{action}">'
            '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
            '<button type="submit">Unsubscribe</button></form>'
        )
        return self._respond(start_response, "200 OK", "Unsubscribe", text, method)

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), _MAX_BODY)
        except ValueError:
            length = 0
        stream = environ.get("wsgi.input")
        return stream.read(length) if stream is not None and length > 0 else b""

    def _respond(
        self,
        start_response: StartResponse,
        status: str,
        title: str,
        body: str,
        method: str,
        extra: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        page = _PAGE.format(title=html.escape(title), body=body, site=html.escape(self.site_title)).encode("utf-8")
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(page))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
            *(extra or []),
        ]
        start_response(status, headers)
        return [] if method == "HEAD" else [page]


def unsubscribe_app(site: Site) -> UnsubscribeApp:
    """The WSGI app for a site (needs ``SYNDICATE_SECRET``)."""
    from .webhooks import webhook_endpoints  # not at the top: webhooks -> suppression -> this module

    return UnsubscribeApp(
        site.store.subscribers, TokenSigner(load_secret()), site.config.site.title, webhook_endpoints(site)
    )


def make_app(site_dir: str | None = None) -> UnsubscribeApp:
    """A WSGI app factory for any WSGI server.

    For example ``gunicorn 'syndicate.newsletter.unsubscribe:make_app("/srv/site")'``.
    Without ``site_dir``, the site folder is ``$SYNDICATE_SITE`` or the current folder.
    """
    return unsubscribe_app(Site.open(site_dir or os.environ.get("SYNDICATE_SITE", ".")))
