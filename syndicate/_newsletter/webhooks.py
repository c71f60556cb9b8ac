"""Bounce and complaint webhooks of the common sending services, each verified before it is believed.

Mounted in the unsubscribe WSGI app under ``/webhooks/``:

* ``POST /webhooks/ses``: Amazon SES notifications delivered by SNS. The SNS
  signature is checked (SignatureVersion 1, SHA1withRSA, and 2,
  SHA256withRSA) with the certificate at ``SigningCertURL``, fetched only
  from an allow-listed host (``[bounces] sns_cert_hosts``, default
  ``sns.<sns_region>.amazonaws.com``) over https (plain http only from a
  loopback host, for tests). ``SubscriptionConfirmation`` is confirmed by
  fetching its ``SubscribeURL`` (same host rule); ``[bounces]
  sns_topic_arns`` limits the topics accepted.
* ``POST /webhooks/postmark``: Postmark's bounce and spam-complaint webhooks,
  with HTTP basic auth whose user and password come from the environment.
* ``POST /webhooks/sendgrid``: SendGrid's signed event webhook (ECDSA P-256
  over timestamp + body, public key from the environment), refused when the
  timestamp is further than ``[bounces] sendgrid_tolerance_seconds`` from now.

A payload that fails its check gets 403 and changes nothing. A verified one
feeds the same rules as the bounce mailbox (:mod:`.suppression`); the
services name the recipient themselves over an authenticated channel, so
the address they give is the attribution. Each event is keyed by the
service's own id, so a retried delivery never counts twice.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from .._config import Config
from .._errors import WebhookRejected as WebhookRejected  # re-exported: its old import path
from .._store import Store
from .._textguard import whole_number
from .bounces import BounceKind
from .site_parts import SiteParts
from .suppression import BounceEvent, apply_event

__all__ = ["WebhookEndpoints", "WebhookRejected", "webhook_endpoints"]

MAX_BODY = 1_000_000
MAX_EVENTS = 1000
MAX_CERT_BYTES = 20_000
_SNS_SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
_POSTMARK_HARD = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated"}  # the address itself is dead
_POSTMARK_SOFT = {"SoftBounce", "Transient", "DnsError", "Blocked", "SMTPApiError", "ChallengeVerification"}

StartResponse = Callable[..., Any]


def _forbidden(reason: str) -> WebhookRejected:
    return WebhookRejected("403 Forbidden", reason)


def _bad(reason: str) -> WebhookRejected:
    return WebhookRejected("400 Bad Request", reason)


@dataclass(frozen=True, slots=True)
class Reported:
    """One recipient a service reports on, before attribution."""

    email: str
    kind: BounceKind
    event_key: str
    detail: str


def _text(value: object, limit: int = 300) -> str:
    text = "".join(c if c.isprintable() else " " for c in str(value if value is not None else ""))
    return " ".join(text.split())[:limit]


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookEndpoints:
    """The ``/webhooks/...`` routes of one site."""

    def __init__(
        self,
        store: Store,
        config: Config,
        environ: dict[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.environ = environ if environ is not None else dict(os.environ)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._http = http
        self._certificates: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()

    # --- WSGI -------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "").rstrip("/")
        service = path.rsplit("/", 1)[-1]
        routes = {"ses": self.ses, "postmark": self.postmark, "sendgrid": self.sendgrid}
        if service not in routes:
            return self._answer(start_response, "404 Not Found", {"error": "no such webhook"})
        if environ.get("REQUEST_METHOD", "GET").upper() != "POST":
            return self._answer(start_response, "405 Method Not Allowed", {"error": "POST only"}, [("Allow", "POST")])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            return self._answer(start_response, "413 Content Too Large", {"error": f"body over {MAX_BODY} bytes"})
        stream = environ.get("wsgi.input")
        body = stream.read(length) if stream is not None and length else b""
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        try:
            summary = routes[service](headers, body)
        except WebhookRejected as exc:
            return self._answer(start_response, exc.status, {"error": str(exc)})
        return self._answer(start_response, "200 OK", summary)

    @staticmethod
    def _answer(
        start_response: StartResponse, status: str, data: dict[str, Any], extra: list[tuple[str, str]] | None = None
    ) -> list[bytes]:
        body = json.dumps(data).encode("utf-8")
        start_response(
            status,
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                *(extra or []),
            ],
        )
        return [body]

    # --- the rules, shared ------------------------------------------------------------------------

    def _apply(self, origin: str, reported: list[Reported]) -> dict[str, Any]:
        now = self.clock()
        outcomes: dict[str, int] = {}
        for item in reported[:MAX_EVENTS]:
            subscriber = self.store.subscribers.find(item.email) if "@" in item.email else None
            if subscriber is None:
                outcome = "not a subscriber"
            else:
                event = BounceEvent(subscriber.id, item.kind, origin, item.event_key, item.detail)
                outcome = apply_event(self.store, self.config, event, now).value
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        return {"service": origin, "events": len(reported), "outcomes": outcomes}

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _bad(f"not JSON: {exc}") from None

    # --- Amazon SES through SNS -------------------------------------------------------------------

    def _allowed_url(self, url: str, what: str) -> str:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host not in [h.lower() for h in self.config.bounces.cert_hosts]:
            raise _forbidden(f"{what} host {host!r} is not allow-listed ([bounces] sns_cert_hosts)")
        if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
            raise _forbidden(f"{what} must be https")
        return url

    def _get(self, url: str) -> httpx.Response:
        """GET an allow-listed SNS URL (no redirects), with the injected client when there is one."""
        client = self._http or httpx.Client(timeout=5.0, follow_redirects=False)
        try:
            return client.get(url)
        finally:
            if self._http is None:
                client.close()

    def _certificate_key(self, url: str) -> rsa.RSAPublicKey:
        self._allowed_url(url, "SigningCertURL")
        if not urlsplit(url).path.endswith(".pem"):
            raise _forbidden("SigningCertURL is not a .pem certificate")
        with self._lock:
            cached = self._certificates.get(url)
        if cached is not None:
            return cached
        try:
            response = self._get(url)
        except httpx.HTTPError as exc:
            raise _forbidden(f"signing certificate not fetched: {exc}") from None
        if response.status_code != 200 or len(response.content) > MAX_CERT_BYTES:
            raise _forbidden(f"signing certificate not fetched: HTTP {response.status_code}")
        try:
            certificate = x509.load_pem_x509_certificate(response.content)
        except ValueError:
            raise _forbidden("signing certificate is not a PEM certificate") from None
        now = self.clock()
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise _forbidden("signing certificate is not valid now")
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise _forbidden("signing certificate is not an RSA certificate")
        with self._lock:
            self._certificates[url] = key
        return key

    def _verify_sns(self, message: dict[str, Any]) -> None:
        kind = message.get("Type")
        if kind not in _SNS_SIGNED_KEYS:
            raise _forbidden(f"unknown SNS message type {_text(kind, 40)!r}")
        version = str(message.get("SignatureVersion", ""))
        algorithm: hashes.HashAlgorithm
        if version == "1":
            algorithm = hashes.SHA1()
        elif version == "2":
            algorithm = hashes.SHA256()
        else:
            raise _forbidden(f"unsupported SignatureVersion {_text(version, 10)!r}")
        signed = "".join(
            f"{key}\n{message[key]}\n"
            for key in _SNS_SIGNED_KEYS[kind]
            if key in message and isinstance(message[key], str)
        ).encode("utf-8")
        try:
            signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        except (binascii.Error, ValueError):
            raise _forbidden("Signature is not base64") from None
        key = self._certificate_key(str(message.get("SigningCertURL", "")))
        try:
            key.verify(signature, signed, padding.PKCS1v15(), algorithm)
        except InvalidSignature:
            raise _forbidden("SNS signature does not match") from None
        topics = self.config.bounces.sns_topic_arns
        if topics and message.get("TopicArn") not in topics:
            raise _forbidden("TopicArn is not one of [bounces] sns_topic_arns")

    def ses(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        message = self._json(body)
        if not isinstance(message, dict):
            raise _bad("an SNS message is a JSON object")
        self._verify_sns(message)
        kind = message["Type"]
        if kind == "SubscriptionConfirmation":
            url = self._allowed_url(str(message.get("SubscribeURL", "")), "SubscribeURL")
            try:
                response = self._get(url)
            except httpx.HTTPError as exc:
                raise WebhookRejected("502 Bad Gateway", f"confirming the subscription failed: {exc}") from None
            if response.status_code != 200:
                raise WebhookRejected("502 Bad Gateway", f"confirming the subscription: HTTP {response.status_code}")
            return {"service": "ses", "confirmed": _text(message.get("TopicArn"), 300)}
        if kind == "UnsubscribeConfirmation":
            return {"service": "ses", "unsubscribed": _text(message.get("TopicArn"), 300)}
        notification = self._json(str(message.get("Message", "")).encode("utf-8"))
        if not isinstance(notification, dict):
            raise _bad("the SES notification is not a JSON object")
        return self._apply("ses", _ses_reports(notification, _text(message.get("MessageId"), 100)))

    # --- Postmark ---------------------------------------------------------------------------------

    def postmark(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        settings = self.config.bounces
        user = self.environ.get(settings.postmark_user_env, "")
        password = self.environ.get(settings.postmark_password_env, "")
        if not user or not password:
            raise WebhookRejected("404 Not Found", "the Postmark webhook is not configured")
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        try:
            given = base64.b64decode(credentials, validate=True) if scheme.lower() == "basic" else b""
        except (binascii.Error, ValueError):
            given = b""
        expected = f"{user}:{password}".encode()
        if not given or not hmac.compare_digest(given, expected):
            raise _forbidden("Postmark credentials do not match")
        data = self._json(body)
        if not isinstance(data, dict):
            raise _bad("a Postmark webhook is a JSON object")
        return self._apply("postmark", _postmark_reports(data))

    # --- SendGrid ---------------------------------------------------------------------------------

    def sendgrid(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        settings = self.config.bounces
        encoded_key = self.environ.get(settings.sendgrid_public_key_env, "")
        if not encoded_key:
            raise WebhookRejected("404 Not Found", "the SendGrid webhook is not configured")
        try:
            key = serialization.load_der_public_key(base64.b64decode(encoded_key))
        except (binascii.Error, ValueError):
            raise WebhookRejected("500 Internal Server Error", "the SendGrid verification key is not valid") from None
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise WebhookRejected("500 Internal Server Error", "the SendGrid verification key is not ECDSA")
        stamp = headers.get("x-twilio-email-event-webhook-timestamp", "")
        signature = headers.get("x-twilio-email-event-webhook-signature", "")
        seconds = whole_number(stamp, 12)
        if seconds is None or not signature:
            raise _forbidden("SendGrid signature headers missing")
        age = abs(self.clock().timestamp() - seconds)
        if age > settings.sendgrid_tolerance_seconds:
            raise _forbidden(f"SendGrid timestamp is {int(age)} s away from now")
        try:
            key.verify(base64.b64decode(signature, validate=True), stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, binascii.Error, ValueError):
            raise _forbidden("SendGrid signature does not match") from None
        data = self._json(body)
        if not isinstance(data, list):
            raise _bad("a SendGrid event webhook is a JSON array")
        return self._apply("sendgrid", _sendgrid_reports(data))


def _ses_reports(notification: dict[str, Any], sns_id: str) -> list[Reported]:
    kind = notification.get("notificationType") or notification.get("eventType")
    mail = notification.get("mail") if isinstance(notification.get("mail"), dict) else {}
    message_id = _text(mail.get("messageId") if isinstance(mail, dict) else "", 100) or sns_id
    out = []
    if kind == "Bounce" and isinstance(notification.get("bounce"), dict):
        bounce = notification["bounce"]
        hard = bounce.get("bounceType") == "Permanent"
        recipients = bounce.get("bouncedRecipients")
        for item in recipients[:MAX_EVENTS] if isinstance(recipients, list) else []:
            if isinstance(item, dict):
                email = _text(item.get("emailAddress"), 254)
                detail = _text(
                    f"SES {bounce.get('bounceType')}/{bounce.get('bounceSubType')}: "
                    f"{item.get('diagnosticCode') or item.get('status') or ''}"
                )
                kind_of = BounceKind.HARD if hard else BounceKind.SOFT
                out.append(Reported(email, kind_of, f"ses:{message_id}:bounce:{email.casefold()}", detail))
    elif kind == "Complaint" and isinstance(notification.get("complaint"), dict):
        complaint = notification["complaint"]
        if complaint.get("complaintFeedbackType") == "not-spam":
            return []
        recipients = complaint.get("complainedRecipients")
        for item in recipients[:MAX_EVENTS] if isinstance(recipients, list) else []:
            if isinstance(item, dict):
                email = _text(item.get("emailAddress"), 254)
                detail = _text(f"SES complaint: {complaint.get('complaintFeedbackType') or 'unspecified'}")
                out.append(
                    Reported(email, BounceKind.COMPLAINT, f"ses:{message_id}:complaint:{email.casefold()}", detail)
                )
    return out


def _postmark_reports(data: dict[str, Any]) -> list[Reported]:
    record = data.get("RecordType")
    email = _text(data.get("Email"), 254)
    event_id = _text(data.get("ID"), 40)
    if not email or not event_id:
        return []
    if record == "SpamComplaint" or data.get("Type") == "SpamComplaint":
        return [Reported(email, BounceKind.COMPLAINT, f"postmark:{event_id}", "Postmark spam complaint")]
    if record != "Bounce":
        return []
    bounce_type = _text(data.get("Type"), 40)
    detail = _text(f"Postmark {bounce_type}: {data.get('Description') or ''}")
    if bounce_type in _POSTMARK_HARD:
        return [Reported(email, BounceKind.HARD, f"postmark:{event_id}", detail)]
    if bounce_type in _POSTMARK_SOFT:
        return [Reported(email, BounceKind.SOFT, f"postmark:{event_id}", detail)]
    return []  # AutoResponder, OpenRelayTest, ...: not about the address


def _sendgrid_reports(events: list[Any]) -> list[Reported]:
    out = []
    for event in events[:MAX_EVENTS]:
        if not isinstance(event, dict):
            continue
        email = _text(event.get("email"), 254)
        event_id = _text(event.get("sg_event_id"), 100)
        if not email or not event_id:
            continue
        name = event.get("event")
        detail = _text(f"SendGrid {name}: {event.get('status') or ''} {event.get('reason') or ''}")
        if name == "spamreport":
            out.append(Reported(email, BounceKind.COMPLAINT, f"sendgrid:{event_id}", detail))
        elif name == "bounce":
            kind = BounceKind.SOFT if event.get("type") == "blocked" else BounceKind.HARD
            out.append(Reported(email, kind, f"sendgrid:{event_id}", detail))
    return out


def webhook_endpoints(site: SiteParts) -> WebhookEndpoints:
    """The site's webhook routes, mounted by the unsubscribe app under ``/webhooks/``."""
    return WebhookEndpoints(site.store, site.config)
