"""Joining the list with double opt-in: the request, the confirmation message, the confirmation.

A request never puts an address on the list. It records a sign-up and mails
a link carrying a signed token (the unsubscribe tokens' HMAC, with its own
purpose, over the sign-up's id and address); only a POST with that token,
within ``[newsletter] confirm_hours``, makes the address an active
subscriber. Whoever asks gets the same answer whether or not the address is
already listed, so the form cannot be used to find out who reads the
newsletter; the limits (per client, and one pending confirmation per address
a day) live in the state database, so they hold across server processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from enum import StrEnum
from urllib.parse import quote

from .._config import Config
from .._errors import ExpiredTokenError as ExpiredTokenError  # re-exported: its old import path
from .._errors import NewsletterError
from .._model import Subscriber
from .._store import Store
from .._store.signups import RATE_LIMITED, Signup, SignupLimits
from .message import sender_address
from .subscribers import clean_name, normalize_address
from .templates import template_dirs, template_environment
from .unsubscribe import InvalidTokenError, TokenSigner

MAX_SOURCE_LENGTH = 100
CONFIRM_PURPOSE = "confirm"
# One confirmation message per address in this span, however often the form is sent.
PENDING_PER_ADDRESS = timedelta(days=1)
CLIENT_WINDOW = timedelta(hours=1)

Deliver = Callable[[str, str, bytes], bool]  # (envelope sender, recipient, message) -> accepted


class SignupOutcome(StrEnum):
    SENT = "sent"  # a confirmation message went out
    IGNORED = "ignored"  # nothing sent (already subscribed, honeypot filled, one already pending)
    LIMITED = "limited"  # this client asked too often
    FAILED = "failed"  # the relay did not take the message; the request was withdrawn


@dataclass(frozen=True, slots=True)
class SignupResult:
    outcome: SignupOutcome
    reason: str  # for logs and tests; never shown to the person asking


def confirm_signer(secret: bytes) -> TokenSigner:
    return TokenSigner(secret, CONFIRM_PURPOSE)


def confirm_base(config: Config) -> str:
    """The confirmation page: ``[newsletter] confirm_url``, else ``<site url>/confirm``."""
    return config.newsletter.confirm_url or f"{config.site.base_url}/confirm"


def subscribe_base(config: Config) -> str:
    """Where the form posts: ``[newsletter] subscribe_url``, else ``<site url>/subscribe``."""
    return config.newsletter.subscribe_url or f"{config.site.base_url}/subscribe"


def confirm_link(config: Config, token: str) -> str:
    base = confirm_base(config)
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}token={quote(token, safe='.')}"


def signup_limits(config: Config) -> SignupLimits:
    return SignupLimits(
        per_ip=config.newsletter.signups_per_ip_hour, window=CLIENT_WINDOW, pending_per_address=PENDING_PER_ADDRESS
    )


def confirmation_message(config: Config, signup: Signup, link: str, now: datetime) -> bytes:
    """The confirmation email (plain text, from the site's templates), CRLF line ends."""
    env = template_environment(template_dirs(config))
    hours = config.newsletter.confirm_hours
    values = {"site": config.site, "name": signup.name, "email": signup.email, "link": link, "hours": hours}
    subject = clean_name(env.get_template("signup-confirm.subject.j2").render(values)) or "Confirm your subscription"
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender_address(config)
    message["To"] = signup.email
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("signup", domain=config.site.domain or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
    message.set_content(env.get_template("signup-confirm.txt.j2").render(values), charset="utf-8")
    return message.as_bytes()


def smtp_deliver(config: Config) -> Deliver:
    """Deliver through the newsletter's own SMTP transport (one connection per message)."""
    from .smtp import Outcome, SmtpRelay  # the SMTP transport loads only when a message goes out

    def deliver(sender: str, recipient: str, data: bytes) -> bool:
        relay = SmtpRelay(config.smtp)
        try:
            return relay.deliver(sender, recipient, data).outcome is Outcome.SENT
        except NewsletterError:
            return False
        finally:
            relay.close()

    return deliver


def request_signup(
    store: Store,
    config: Config,
    signer: TokenSigner,
    *,
    email: str,
    name: str = "",
    source: str = "",
    method: str = "form",
    client: str = "",
    now: datetime,
    deliver: Deliver,
) -> SignupResult:
    """Handle one sign-up request; :class:`InvalidAddressError` for an address that is not one.

    An address already on the list and active gets nothing (no message
    either: a stranger could otherwise make the list mail its readers).
    """
    address = normalize_address(email)
    signup, why = store.signups.request(
        address,
        clean_name(name),
        method,
        clean_name(source)[:MAX_SOURCE_LENGTH],
        client,
        now,
        signup_limits(config),
    )
    if signup is None:
        outcome = SignupOutcome.LIMITED if why == RATE_LIMITED else SignupOutcome.IGNORED
        return SignupResult(outcome, why)
    existing = store.subscribers.find(address)
    if existing is not None and existing.active:
        store.signups.withdraw(signup.id)
        return SignupResult(SignupOutcome.IGNORED, "already subscribed")
    link = confirm_link(config, signer.token(signup.id, signup.email))
    data = confirmation_message(config, signup, link, now)
    sender = sender_address(config)
    if not deliver(parseaddr(sender)[1], signup.email, data):
        store.signups.withdraw(signup.id)
        return SignupResult(SignupOutcome.FAILED, "the relay did not accept the confirmation message")
    return SignupResult(SignupOutcome.SENT, "")


def check_confirmation(store: Store, config: Config, signer: TokenSigner, token: str, now: datetime) -> Signup:
    """The sign-up a confirmation token names; InvalidTokenError (or ExpiredTokenError) otherwise."""
    signup = store.signups.get(signer.subscriber_id(token))
    if signup is None:
        raise InvalidTokenError("confirm token not valid", forged=True)
    signer.verify_email(token, signup.id, signup.email)
    if signup.confirmed_at is None and now > signup.requested_at + timedelta(hours=config.newsletter.confirm_hours):
        raise ExpiredTokenError("this confirmation link has expired")
    return signup


def confirm_signup(
    store: Store, config: Config, signer: TokenSigner, token: str, now: datetime
) -> tuple[Signup, Subscriber | None]:
    """Activate the address a valid token names; the subscriber, or None when it was confirmed before.

    A replayed link changes nothing, even if the reader has unsubscribed since.
    """
    signup = check_confirmation(store, config, signer, token, now)
    if signup.confirmed_at is not None or not store.signups.mark_confirmed(signup.id, now):
        return signup, None
    subscriber = store.subscribers.activate_confirmed(
        signup.email,
        signup.name,
        method=signup.method,
        source=signup.source,
        requested_at=signup.requested_at,
        confirmed_at=now,
    )
    store.signups.remember_again(signup.email)
    return signup, subscriber


def signup_form_html(config: Config, source: str = "website") -> str:
    """An HTML form to paste into any page: it posts to ``subscribe_url`` and carries the honeypot."""
    env = template_environment(template_dirs(config))
    snippet = env.get_template("pages/form-snippet.html.j2").render(
        site=config.site, subscribe_url=subscribe_base(config), source=clean_name(source)[:MAX_SOURCE_LENGTH]
    )
    return snippet
