"""Sign-up with double opt-in, over real HTTP and a real SMTP server (aiosmtpd).

The whole life of a sign-up: the form's POST, the confirmation message at
the relay, its link followed with an HTTP client (GET shows a button, POST
confirms), and the next issue reaching the address. Then the defences:
forged, expired and replayed tokens, the same answer for everyone, the
honeypot, rate limits that hold in the database, and a relay that refuses.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from conftest import SiteFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signup_server import AFTER_DUE, SECRET, SIGNUP_TIME, Served, confirmation_link, messages_to, serve, served
from smtp_relay import ARTICLES, WEEK, Relay, relay, site_config

import syndicate
from syndicate import SubscriberStatus, send_newsletter
from syndicate._newsletter.signup import confirm_signer
from syndicate._newsletter.unsubscribe import TokenSigner
from syndicate.cli import main

__all__ = ["relay", "served"]

ADDRESS = "new.reader@example.net"


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def sign_up(served: Served, address: str = ADDRESS, **extra: str) -> tuple[int, str]:
    status, body, _ = served.request("/subscribe", form(email=address, **extra))
    return status, body


def test_sign_up_end_to_end_over_http_then_the_next_issue_reaches_them(served: Served, relay: Relay) -> None:
    status, page = sign_up(served, name="Nora New", source="homepage")
    assert status == 200 and "Check your inbox" in page
    table = served.site.store.subscribers
    assert table.find(ADDRESS) is None  # asking puts nobody on the list

    [message] = messages_to(relay, ADDRESS)
    assert "Confirm your subscription to Test Reel" in message["Subject"]
    link = confirmation_link(message)
    assert link.startswith("https://test.example.org/confirm?token=")

    # GET (what a link scanner does) shows a button and changes nothing.
    status, page, _ = served.request(served.local(link))
    assert status == 200 and 'method="post"' in page and ADDRESS in page
    assert table.find(ADDRESS) is None

    served.clock.advance(minutes=5)
    status, page, _ = served.request(served.local(link), b"")
    assert status == 200 and "You are subscribed" in page
    subscriber = table.find(ADDRESS)
    assert subscriber is not None and subscriber.active and subscriber.name == "Nora New"
    assert subscriber.consent_method == "form" and subscriber.consent_source == "homepage"
    assert subscriber.consent_at == SIGNUP_TIME and subscriber.confirmed_at == SIGNUP_TIME + timedelta(minutes=5)

    report = send_newsletter(served.site, week=WEEK, now=AFTER_DUE)
    assert report.sent == 1
    issue = messages_to(relay, ADDRESS)[-1]
    assert issue["Subject"] != message["Subject"] and issue["List-Unsubscribe"]


def test_json_api_sign_up_is_recorded_as_api(served: Served, relay: Relay) -> None:
    body = json.dumps({"email": ADDRESS, "source": "mobile-app"}).encode()
    status, answer, headers = served.request("/subscribe", body, "application/json")
    assert status == 202 and headers["Content-Type"] == "application/json"
    assert json.loads(answer)["status"] == "ok"
    link = confirmation_link(messages_to(relay, ADDRESS)[0])
    assert served.request(served.local(link), b"")[0] == 200
    subscriber = served.site.store.subscribers.find(ADDRESS)
    assert subscriber is not None and subscriber.consent_method == "api" and subscriber.consent_source == "mobile-app"


def test_forged_expired_and_replayed_tokens_change_nothing(served: Served, relay: Relay) -> None:
    table = served.site.store.subscribers
    sign_up(served, "first@example.net")
    sign_up(served, "second@example.net")
    first = confirmation_link(messages_to(relay, "first@example.net")[0])
    second = confirmation_link(messages_to(relay, "second@example.net")[0])
    token = first.split("token=")[1]
    signup_id = int(token.split(".")[0])
    other_sig = second.split("token=")[1].split(".")[1]
    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # one character of the signature changed
        f"{signup_id}.{other_sig}",  # another sign-up's signature moved onto this id
        confirm_signer(b"some-other-secret-of-enough-length").token(signup_id, "first@example.net"),
        TokenSigner(SECRET.encode()).token(signup_id, "first@example.net"),  # an unsubscribe token: wrong purpose
        f"{signup_id + 99}.{token.split('.')[1]}",  # a sign-up that does not exist
    ]
    for bad in forged:
        for body in (None, b""):
            assert served.request(f"/confirm?token={bad}", body)[0] == 403, bad
    for malformed in ("nonsense", "12", ".abc", "x.y"):
        assert served.request(f"/confirm?token={malformed}", b"")[0] == 400
    assert served.request("/confirm", b"")[0] == 400
    assert table.all() == []

    # Expired: after confirm_hours (48) the link is refused and nothing changes.
    served.clock.advance(hours=48, seconds=1)
    status, page, _ = served.request(served.local(second), b"")
    assert status == 410 and "expired" in page
    assert table.find("second@example.net") is None

    # Replayed: a confirmed link used again, after the reader unsubscribed, does not bring them back.
    served.clock.now = SIGNUP_TIME + timedelta(hours=1)
    assert served.request(served.local(first), b"")[0] == 200
    subscriber = table.find("first@example.net")
    assert subscriber is not None and subscriber.active
    table.set_status(subscriber.id, SubscriberStatus.UNSUBSCRIBED)
    status, page, _ = served.request(served.local(first), b"")
    assert status == 200 and "Already confirmed" in page
    again = table.find("first@example.net")
    assert again is not None and again.status is SubscriberStatus.UNSUBSCRIBED


def test_a_thousand_requests_for_one_address_from_one_client_send_one_message(served: Served, relay: Relay) -> None:
    statuses = {sign_up(served)[0] for _ in range(1000)}
    assert statuses <= {200, 429}
    assert len(messages_to(relay, ADDRESS)) == 1
    assert relay.count() == 1


def test_one_pending_confirmation_per_address_per_day_from_any_client(
    make_site: SiteFactory, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    for served_ in serve(make_site, relay, extra="signups_per_ip_hour = 100000"):
        app = served_.app
        for n in range(300):  # many clients (a botnet) asking for one victim's address
            status, _ = call(app, "/subscribe", form(email=ADDRESS), client=f"10.0.{n // 250}.{n % 250}")
            assert status.startswith("200")
        assert len(messages_to(relay, ADDRESS)) == 1
        served_.clock.advance(days=1, seconds=1)
        call(app, "/subscribe", form(email=ADDRESS), client="10.9.9.9")
        assert len(messages_to(relay, ADDRESS)) == 2  # a day later, a fresh link


def test_the_per_client_limit_answers_429_until_the_hour_passes(served: Served, relay: Relay) -> None:
    for n in range(20):
        assert sign_up(served, f"reader{n}@example.net")[0] == 200
    status, _, headers = served.request("/subscribe", form(email="late@example.net"))
    assert status == 429 and headers["Retry-After"]
    assert not messages_to(relay, "late@example.net")
    served.clock.advance(hours=1, seconds=1)
    assert sign_up(served, "late@example.net")[0] == 200
    assert len(messages_to(relay, "late@example.net")) == 1


def test_the_same_answer_whether_or_not_the_address_is_listed(served: Served, relay: Relay) -> None:
    served.site.store.subscribers.merge([("listed@example.net", "Listed")])
    listed = sign_up(served, "listed@example.net")
    unknown = sign_up(served, "unknown@example.net")
    assert listed == unknown
    assert not messages_to(relay, "listed@example.net")  # no mail to someone already reading
    assert len(messages_to(relay, "unknown@example.net")) == 1


def test_the_honeypot_gets_the_same_answer_and_nothing_happens(served: Served, relay: Relay) -> None:
    trapped = sign_up(served, "bot-target@example.net", website="http://spam.example")
    normal = sign_up(served, "person@example.net", website="")
    assert trapped == normal
    assert not messages_to(relay, "bot-target@example.net")
    assert served.site.store.signups.pending(SIGNUP_TIME, timedelta(hours=48)) == 1


def test_resubscribing_after_unsubscribing_needs_confirmation_again(served: Served, relay: Relay) -> None:
    table = served.site.store.subscribers
    table.merge([(ADDRESS, "")])
    subscriber = table.find(ADDRESS)
    assert subscriber is not None
    table.set_status(subscriber.id, SubscriberStatus.UNSUBSCRIBED)
    assert sign_up(served)[0] == 200
    assert table.find(ADDRESS).status is SubscriberStatus.UNSUBSCRIBED  # type: ignore[union-attr]
    link = confirmation_link(messages_to(relay, ADDRESS)[0])
    served.request(served.local(link), b"")
    back = table.find(ADDRESS)
    assert back is not None and back.active and back.consent_method == "form"


def test_a_relay_that_refuses_gives_503_and_the_person_can_try_again(served: Served, relay: Relay) -> None:
    relay.reject.add(ADDRESS)
    assert sign_up(served)[0] == 503
    relay.reject.clear()
    assert sign_up(served)[0] == 200  # the failed request was withdrawn, so this is not "already pending"
    assert len(messages_to(relay, ADDRESS)) == 1


def test_invalid_addresses_are_refused_with_a_reason_naming_the_field(served: Served, relay: Relay) -> None:
    status, page = sign_up(served, "not-an-address")
    assert status == 400 and "email:" in page
    status, answer, _ = served.request("/subscribe", b"[1, 2]", "application/json")
    assert status == 400 and json.loads(answer)["status"] == "error"
    assert relay.count() == 0


def test_get_subscribe_shows_the_form_and_unknown_methods_get_405(served: Served) -> None:
    status, page, _ = served.request("/subscribe")
    assert status == 200 and 'name="email"' in page and 'name="website"' in page
    result = call(served.app, "/subscribe", b"", method="DELETE")[0]
    assert result.startswith("405")


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self.inputs: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(values)
        elif tag == "input":
            self.inputs.append(values)


def test_cli_form_prints_an_embeddable_snippet_posting_to_subscribe_url(make_site: SiteFactory) -> None:
    site_dir = make_site(
        {},
        config=(
            '[site]\ntitle = "Test Reel"\nurl = "https://test.example.org"\n'
            '[newsletter]\nsubscribe_url = "https://lists.example.org/join"\n'
        ),
    )
    result = CliRunner().invoke(main, ["subscribers", "form", "--site", str(site_dir), "--source", "footer"])
    assert result.exit_code == 0, result.output
    parsed = _Forms()
    parsed.feed(result.output)
    assert parsed.forms == [{"class": "syndicate-signup", "method": "post", "action": "https://lists.example.org/join"}]
    names = {i.get("name"): i for i in parsed.inputs}
    assert names["email"]["type"] == "email" and names["source"]["value"] == "footer"
    assert names["website"]["tabindex"] == "-1"  # the honeypot, out of the way of people and keyboards


# --- the app called directly (WSGI), for properties over many hostile requests -----------------


def call(
    app: Any,
    path: str,
    body: bytes,
    *,
    method: str = "POST",
    content_type: str = "application/x-www-form-urlencoded",
    client: str = "127.0.0.1",
    query: str = "",
) -> tuple[str, bytes]:
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": client,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
    }
    out = b"".join(app(environ, start_response))
    return seen["status"], out


@pytest.fixture
def app_only(make_site: SiteFactory, relay: Relay, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    yield from serve(make_site, relay, extra="signups_per_ip_hour = 100000")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.dictionaries(
            st.text(max_size=12), st.one_of(st.text(max_size=80), st.integers(), st.none()), max_size=4
        ).map(lambda d: json.dumps(d).encode()),
    ),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
)
def test_any_sign_up_body_gets_a_clear_answer_never_a_crash(app_only: Served, body: bytes, content_type: str) -> None:
    status, page = call(app_only.app, "/subscribe", body, content_type=content_type)
    assert status.split()[0] in {"200", "202", "400", "503"}, (status, page[:200])
    assert not app_only.site.store.subscribers.all()  # nothing reaches the list without a confirmation


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=60), method=st.sampled_from(["GET", "POST"]))
def test_any_confirmation_token_is_refused_cleanly_and_changes_nothing(
    app_only: Served, token: str, method: str
) -> None:
    status, _ = call(app_only.app, "/confirm", b"", method=method, query=urlencode({"token": token}))
    assert status.split()[0] in {"400", "403"}
    assert not app_only.site.store.subscribers.all()


def test_site_level_unsubscribe_app_serves_sign_up_routes(served: Served) -> None:
    app = syndicate.unsubscribe_app(served.site)
    status, _ = call(app, "/subscribe", b"", method="GET")
    assert status.startswith("200")
    assert set(app.routes) >= {"/subscribe", "/confirm", "/preferences", "/unsubscribe"}


@pytest.fixture
def proxied(make_site: SiteFactory, relay: Relay, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    yield from serve(make_site, relay, extra='signups_per_ip_hour = 2\nclient_ip_header = "X-Forwarded-For"')


def test_behind_a_proxy_the_limit_is_per_forwarded_client(proxied: Served) -> None:
    def ask(n: int, forwarded: str) -> str:
        status, _ = call_with_header(proxied.app, form(email=f"reader{n}@example.net"), forwarded)
        return status.split()[0]

    # Two readers behind one proxy (same REMOTE_ADDR) have a limit each; a forged first entry changes nothing.
    assert [ask(n, "203.0.113.7") for n in range(3)] == ["200", "200", "429"]
    assert [ask(n, "spoofed, 198.51.100.9") for n in range(3, 6)] == ["200", "200", "429"]


def call_with_header(app: Any, body: bytes, forwarded: str) -> tuple[str, bytes]:
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/subscribe",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_X_FORWARDED_FOR": forwarded,
        "wsgi.input": io.BytesIO(body),
    }
    out = b"".join(app(environ, start_response))
    return seen["status"], out


_SERVER_PROCESS = """
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server
from syndicate._newsletter.unsubscribe import make_app

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

server = make_server("127.0.0.1", 0, make_app(sys.argv[1]), handler_class=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
"""


def test_two_server_processes_racing_still_send_one_confirmation(
    make_site: SiteFactory, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limits live in the state database: two processes answering at once agree on them."""
    site_dir = make_site(ARTICLES, config=site_config(relay.port, extra="signups_per_ip_hour = 100000"))
    syndicate.Site.open(site_dir).close()  # migrate once, before the processes race
    env = {**os.environ, "SYNDICATE_SECRET": SECRET}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _SERVER_PROCESS, str(site_dir)], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    try:
        lines = [p.stdout.readline() if p.stdout is not None else "" for p in processes]
        assert all(line.strip().isdigit() for line in lines), "a server process died while starting (see its stderr)"
        ports = [int(line) for line in lines]

        def ask(n: int) -> int:
            url = f"http://127.0.0.1:{ports[n % 2]}/subscribe"
            with urllib.request.urlopen(url, data=form(email=ADDRESS), timeout=30) as response:
                return int(response.status)

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(ask, range(200)))
    finally:
        for process in processes:
            process.terminate()
            process.communicate(timeout=10)  # waits, and closes the stdout pipe (else a ResourceWarning)
    assert set(statuses) == {200}
    assert len(messages_to(relay, ADDRESS)) == 1


def test_a_new_route_is_one_line_and_sees_headers_and_the_raw_body(served: Served) -> None:
    from syndicate._newsletter.webapp import Request, Response

    seen: list[Request] = []

    def hook(request: Request) -> Response:
        seen.append(request)
        return Response("204 No Content", b"", "text/plain")

    served.app.routes["/webhooks/example"] = hook
    req = urllib.request.Request(
        served.base + "/webhooks/example", data=b'{"event": "x"}', method="POST", headers={"X-Signature": "abc"}
    )
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as response:
        assert response.status == 204
    [request] = seen
    assert request.raw == b'{"event": "x"}' and request.headers["x-signature"] == "abc"
    assert request.headers["content-type"] == "application/json"


def test_an_oversized_body_is_refused_whole(served: Served, relay: Relay) -> None:
    # Called as WSGI: over HTTP the server answers before reading the body, and the client's
    # unfinished upload then meets a closed connection (a reset), which is the server's right.
    body = form(email=ADDRESS, name="x" * (1024 * 1024))
    status, page = call(served.app, "/subscribe", body)
    assert status.startswith("413") and b"too large" in page
    assert relay.count() == 0


def test_a_mounted_wsgi_app_gets_the_request_untouched(served: Served) -> None:
    seen: list[tuple[str, bytes]] = []

    def webhooks(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        seen.append((environ["PATH_INFO"], environ["wsgi.input"].read(length)))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    served.app.mounts["/webhooks/"] = webhooks
    status, body, _ = served.request("/webhooks/postmark", b'{"RecordType": "Bounce"}', "application/json")
    assert status == 200 and body == "ok"
    assert seen == [("/webhooks/postmark", b'{"RecordType": "Bounce"}')]
    assert served.request("/subscribe")[0] == 200  # the other routes are as they were
