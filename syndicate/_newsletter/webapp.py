"""The subscription web app (WSGI): sign-up, confirmation, preferences and unsubscribing.

Routes are one table, :attr:`SubscriptionApp.routes` (path -> handler), so
another endpoint is one line; a whole WSGI app (the webhooks, say) is mounted
under a prefix in :attr:`SubscriptionApp.mounts`, also one line::

    app.routes["/webhooks/postmark"] = postmark_handler      # a Request -> Response handler
    app.mounts["/webhooks/"] = webhook_endpoints(site)        # or a WSGI app for every path below

Any path not in the table is the unsubscribe/preferences page, so links
minted when the app served only unsubscribes keep working wherever
``[newsletter] unsubscribe_url`` points.

Everything the app reads from a request is hostile: bodies are capped,
fields length-bounded, tokens verified before anything is looked up by
address, and no page says whether an address is on the list. Time comes
from ``clock``, so tests move it instead of waiting.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import jinja2

from .._config import Config
from .._model import SubscriberStatus
from .._store import Store
from .preferences import PAUSE_CHOICES, PreferenceError, apply_preference
from .signup import (
    Deliver,
    ExpiredTokenError,
    SignupOutcome,
    check_confirmation,
    confirm_signer,
    confirm_signup,
    request_signup,
    smtp_deliver,
)
from .subscribers import InvalidAddressError
from .templates import template_dirs, template_environment
from .unsubscribe import InvalidTokenError, TokenSigner, check_token, unsubscribe_with_token

StartResponse = Callable[..., Any]
MAX_BODY = 1024 * 1024  # room for a webhook's batch of events; a sign-up form is a few hundred bytes
MAX_FIELD = 1000  # characters of any one form field we look at

_SECURITY_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
]
# What every sign-up gets back, whatever happened: the same words, the same status.
SIGNUP_ANSWER = "If the address can receive our newsletter, a message with a confirmation link is on its way."


@dataclass
class Request:
    """What a handler needs of one WSGI request, already bounded."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    is_json: bool
    client: str
    query_string: str
    raw: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names, for handlers that verify signatures

    @classmethod
    def from_environ(cls, environ: dict[str, Any], client_header: str = "") -> Request:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        query_string = str(environ.get("QUERY_STRING", ""))
        query = {k: v[0][:MAX_FIELD] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
        content_type = str(environ.get("CONTENT_TYPE", "")).split(";", 1)[0].strip().lower()
        body = _read_body(environ) if method == "POST" else b""
        form: dict[str, str] = {}
        is_json = content_type == "application/json"
        if is_json:
            try:
                data = json.loads(body.decode("utf-8")) if body else {}
            except (UnicodeDecodeError, ValueError):
                data = None
            if isinstance(data, dict):
                form = {str(k)[:100]: v[:MAX_FIELD] for k, v in data.items() if isinstance(v, str)}
        else:
            text = body.decode("utf-8", "replace")
            form = {k: v[0][:MAX_FIELD] for k, v in parse_qs(text, keep_blank_values=True).items()}
        return cls(
            method=method,
            path=str(environ.get("PATH_INFO", "") or "/"),
            query=query,
            form=form,
            is_json=is_json,
            client=_client_address(environ, client_header),
            query_string=query_string,
            raw=body,
            headers=_headers(environ),
        )


@dataclass
class Response:
    status: str
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Response]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _client_address(environ: dict[str, Any], header: str) -> str:
    """Who is asking, for the per-client limit.

    Behind a reverse proxy every request comes from the proxy, so the site
    names the header the proxy sets; its last entry is the one the proxy
    itself added (earlier ones are whatever the client claimed).
    """
    if header:
        forwarded = str(environ.get("HTTP_" + header.upper().replace("-", "_"), ""))
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last[:64]
    return str(environ.get("REMOTE_ADDR", ""))[:64]


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    out = {key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            out[key.replace("_", "-").lower()] = str(environ[key])
    return out


def _body_too_large(environ: dict[str, Any]) -> bool:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0) > MAX_BODY
    except ValueError:
        return False


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    return bytes(stream.read(length)) if stream is not None and length > 0 else b""


class SubscriptionApp:
    """The WSGI app of one site's list: see the module's documentation for the routes."""

    def __init__(
        self,
        store: Store,
        config: Config,
        secret: bytes,
        *,
        clock: Callable[[], datetime] | None = None,
        deliver: Deliver | None = None,
    ) -> None:
        self.store = store
        self.table = store.subscribers
        self.config = config
        self.signer = TokenSigner(secret)
        self.confirm_signer = confirm_signer(secret)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.deliver = deliver or smtp_deliver(config)
        self.pages: jinja2.Environment = template_environment(template_dirs(config))
        self.routes: dict[str, Handler] = {
            "/subscribe": self.subscribe,
            "/confirm": self.confirm,
            "/preferences": self.preferences,
            "/unsubscribe": self.preferences,
        }
        self.fallback: Handler = self.preferences
        # Whole WSGI apps under a path prefix, given the request untouched (body unread, PATH_INFO whole):
        # app.mounts["/webhooks/"] = webhook_endpoints(site)
        self.mounts: dict[str, WsgiApp] = {}

    # --- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        for prefix, mounted in self.mounts.items():
            if path.startswith(prefix):
                return mounted(environ, start_response)
        if _body_too_large(environ):
            # Refused whole rather than cut short: a truncated body would be parsed as something else.
            response = self.page("413 Content Too Large", "Too large", ["The request body is too large."])
            return self._send(response, start_response, str(environ.get("REQUEST_METHOD", "")).upper())
        request = Request.from_environ(environ, self.config.newsletter.client_ip_header)
        if request.method not in ("GET", "HEAD", "POST"):
            response = self.page("405 Method Not Allowed", "Not allowed", ["Use GET or POST."])
            response.headers.append(("Allow", "GET, HEAD, POST"))
        else:
            handler = self.routes.get(request.path.rstrip("/") or "/", self.fallback)
            response = handler(request)
        return self._send(response, start_response, request.method)

    @staticmethod
    def _send(response: Response, start_response: StartResponse, method: str) -> list[bytes]:
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *_SECURITY_HEADERS,
            *response.headers,
        ]
        start_response(response.status, headers)
        return [] if method == "HEAD" else [response.body]

    # --- pages -------------------------------------------------------------------------------

    def render(self, status: str, template: str, title: str, **values: Any) -> Response:
        html = self.pages.get_template(template).render(site=self.config.site, title=title, **values)
        return Response(status, html.encode("utf-8"))

    def page(self, status: str, title: str, paragraphs: list[str]) -> Response:
        return self.render(status, "pages/message.html.j2", title, paragraphs=paragraphs)

    def _token_problem(self, exc: InvalidTokenError, what: str) -> Response:
        if isinstance(exc, ExpiredTokenError):
            return self.page(
                "410 Gone", "Link expired", [f"This {what} link has expired. Please sign up again to get a new one."]
            )
        status = "403 Forbidden" if exc.forged else "400 Bad Request"
        return self.page(
            status, "Link not valid", [f"This {what} link is not valid. Please use the link from your email."]
        )

    # --- sign-up -----------------------------------------------------------------------------

    def subscribe(self, request: Request) -> Response:
        if request.method != "POST":
            return self.render(
                "200 OK",
                "pages/subscribe.html.j2",
                "Subscribe",
                subscribe_url="?",  # posts to itself; `subscribers form` prints the snippet with the public URL
                source="page",
            )
        form = request.form
        if form.get("website", "").strip():
            # The honeypot: people never see the field, form-filling bots fill it. Same answer, nothing done.
            return self._signup_answer(request)
        try:
            result = request_signup(
                self.store,
                self.config,
                self.confirm_signer,
                email=form.get("email", ""),
                name=form.get("name", ""),
                source=form.get("source", ""),
                method="api" if request.is_json else "form",
                client=request.client,
                now=self.clock(),
                deliver=self.deliver,
            )
        except InvalidAddressError as exc:
            return self._signup_problem(request, "400 Bad Request", f"email: {exc.reason}")
        if result.outcome is SignupOutcome.LIMITED:
            response = self._signup_problem(request, "429 Too Many Requests", "Too many requests: try again later.")
            response.headers.append(("Retry-After", "3600"))
            return response
        if result.outcome is SignupOutcome.FAILED:
            return self._signup_problem(
                request, "503 Service Unavailable", "We could not send the confirmation message; try again later."
            )
        return self._signup_answer(request)

    def _signup_answer(self, request: Request) -> Response:
        if request.is_json:
            body = json.dumps({"status": "ok", "message": SIGNUP_ANSWER}).encode()
            return Response("202 Accepted", body, "application/json")
        return self.page("200 OK", "Check your inbox", [SIGNUP_ANSWER, "The link in it works for a limited time."])

    def _signup_problem(self, request: Request, status: str, message: str) -> Response:
        if request.is_json:
            return Response(status, json.dumps({"status": "error", "message": message}).encode(), "application/json")
        return self.page(status, "Not subscribed", [message])

    def confirm(self, request: Request) -> Response:
        token = request.query.get("token") or request.form.get("token", "")
        if not token:
            return self.page("400 Bad Request", "Link incomplete", ["This confirmation link has no token."])
        now = self.clock()
        try:
            if request.method == "POST":
                signup, subscriber = confirm_signup(self.store, self.config, self.confirm_signer, token, now)
            else:
                signup = check_confirmation(self.store, self.config, self.confirm_signer, token, now)
                subscriber = None
        except InvalidTokenError as exc:
            return self._token_problem(exc, "confirmation")
        if request.method == "POST" and subscriber is not None:
            return self.page(
                "200 OK",
                "You are subscribed",
                [f"{signup.email} will receive the weekly newsletter of {self.config.site.title}. Thank you!"],
            )
        if signup.confirmed_at is not None or request.method == "POST":
            return self.page("200 OK", "Already confirmed", ["This link was used already; nothing changed."])
        return self.render(
            "200 OK",
            "pages/confirm.html.j2",
            "Confirm your subscription",
            email=signup.email,
            action=self._self_url(request),
        )

    # --- preferences and unsubscribing -------------------------------------------------------

    def preferences(self, request: Request) -> Response:
        token = request.query.get("token", "")
        if not token:
            return self.page(
                "400 Bad Request",
                "Link incomplete",
                ["This unsubscribe link has no token. Please use the link from your email."],
            )
        try:
            subscriber = check_token(self.table, self.signer, token)
        except InvalidTokenError as exc:
            return self._token_problem(exc, "unsubscribe")
        notice = ""
        if request.method == "POST":
            form = request.form
            # RFC 8058: the one-click POST carries List-Unsubscribe=One-Click (urlencoded or multipart).
            if form.get("List-Unsubscribe") == "One-Click" or (
                "preference" not in form and b"One-Click" in request.raw
            ):
                unsubscribe_with_token(self.table, self.signer, token)
                return self.page(
                    "200 OK", "You are unsubscribed", [f"{subscriber.email} will receive no more newsletters."]
                )
            if "preference" not in form:
                return self.page("400 Bad Request", "Request incomplete", ["Expected the one-click unsubscribe form."])
            if subscriber.status is SubscriberStatus.UNSUBSCRIBED:
                return self.page("409 Conflict", "Unsubscribed", [f"{subscriber.email} is unsubscribed."])
            try:
                subscriber, notice = apply_preference(self.table, subscriber, form, self.clock())
            except PreferenceError as exc:
                return self.page("400 Bad Request", "Not saved", [str(exc)])
        if subscriber.status is SubscriberStatus.UNSUBSCRIBED:
            return self.page("200 OK", "Already unsubscribed", [f"{subscriber.email} is already unsubscribed."])
        now = self.clock()
        paused = subscriber.paused_until if subscriber.paused(now) else None
        return self.render(
            "200 OK",
            "pages/preferences.html.j2",
            "Your newsletter",
            email=subscriber.email,
            action=self._self_url(request),
            notice=notice,
            plain_text=subscriber.plain_text,
            paused_until=f"{paused.astimezone(self.config.site.tz):%A %d %B %Y}" if paused else "",
            pause_choices=PAUSE_CHOICES,
        )

    @staticmethod
    def _self_url(request: Request) -> str:
        # The form posts back to the address it was served from, token included (autoescaped by Jinja2).
        return "?" + request.query_string


def subscription_app(
    store: Store,
    config: Config,
    secret: bytes,
    *,
    clock: Callable[[], datetime] | None = None,
    deliver: Deliver | None = None,
) -> SubscriptionApp:
    return SubscriptionApp(store, config, secret, clock=clock, deliver=deliver)
