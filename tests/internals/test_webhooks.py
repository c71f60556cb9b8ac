"""Webhooks over real HTTP: SES through SNS (signature, certificate host, subscription), Postmark, SendGrid."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from bounce_site import SECRET, EnvelopeRelay, envelope_relay, statuses, verp_site
from conftest import SiteFactory
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

import syndicate
from syndicate import Store, unsubscribe_app
from syndicate._config import parse_config
from syndicate._newsletter.webhooks import WebhookEndpoints

__all__ = ["envelope_relay"]

TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-bounces"
POSTMARK_USER, POSTMARK_PASSWORD = "hook", "s3cret-pass"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def sns_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def certificate_pem(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Hooks:
    site: Path
    url: str
    sns: HTTPServer
    cert_url: str


@pytest.fixture
def hooks(
    make_site: SiteFactory,
    envelope_relay: EnvelopeRelay,
    server: HTTPServer,
    sns_key: rsa.RSAPrivateKey,
    sendgrid_key: ec.EllipticCurvePrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Hooks]:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    monkeypatch.setenv("SYNDICATE_POSTMARK_USER", POSTMARK_USER)
    monkeypatch.setenv("SYNDICATE_POSTMARK_PASSWORD", POSTMARK_PASSWORD)
    public = sendgrid_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv("SYNDICATE_SENDGRID_PUBLIC_KEY", base64.b64encode(public).decode())
    server.clear()
    server.expect_request("/SimpleNotificationService-test.pem").respond_with_data(
        certificate_pem(sns_key), content_type="application/x-pem-file"
    )
    tail = f'\n[bounces]\nsns_cert_hosts = ["127.0.0.1"]\nsns_topic_arns = ["{TOPIC}"]\nsoft_bounce_limit = 2\n'
    site_dir = verp_site(make_site, envelope_relay, 6, tail=tail)
    site = syndicate.Site.open(site_dir)
    httpd: WSGIServer = make_server("127.0.0.1", 0, unsubscribe_app(site), handler_class=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Hooks(
            site_dir,
            f"http://127.0.0.1:{httpd.server_port}/webhooks",
            server,
            server.url_for("/SimpleNotificationService-test.pem"),
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
        site.close()


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:  # it holds the response's socket; closing it is ours
            return exc.code, json.loads(exc.read() or b"{}")


# --- SES through SNS --------------------------------------------------------------------------------


def sns_message(
    key: rsa.RSAPrivateKey, cert_url: str, kind: str, fields: dict[str, str], version: str = "1"
) -> dict[str, str]:
    message = {
        "Type": kind,
        "MessageId": fields.pop("MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"),
        "TopicArn": TOPIC,
        "Timestamp": "2026-11-27T08:00:00.000Z",
        "SignatureVersion": version,
        "SigningCertURL": cert_url,
        **fields,
    }
    keys = {
        "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
        "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    }[kind]
    signed = "".join(f"{k}\n{message[k]}\n" for k in keys if k in message).encode()
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    message["Signature"] = base64.b64encode(key.sign(signed, padding.PKCS1v15(), algorithm)).decode()
    return message


def ses_bounce(email: str, bounce_type: str = "Permanent", message_id: str = "0100018c-aaaa") -> str:
    return json.dumps(
        {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": bounce_type,
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": email, "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1"}],
                "timestamp": "2026-11-27T07:59:00.000Z",
            },
            "mail": {"messageId": message_id, "source": "news@test.example.org", "destination": [email]},
        }
    )


def ses_complaint(email: str) -> str:
    return json.dumps(
        {
            "notificationType": "Complaint",
            "complaint": {"complainedRecipients": [{"emailAddress": email}], "complaintFeedbackType": "abuse"},
            "mail": {"messageId": "0100018c-cccc", "source": "news@test.example.org", "destination": [email]},
        }
    )


@pytest.mark.parametrize("version", ["1", "2"])
def test_ses_bounce_and_complaint_signed_by_sns_suppress(
    hooks: Hooks, sns_key: rsa.RSAPrivateKey, version: str
) -> None:
    bounce = sns_message(
        sns_key,
        hooks.cert_url,
        "Notification",
        {"Message": ses_bounce("Reader0@Example.net"), "Subject": "Amazon SES Email Event Notification"},
        version,
    )
    code, answer = post(f"{hooks.url}/ses", json.dumps(bounce).encode(), {"x-amz-sns-message-type": "Notification"})
    assert code == 200 and answer["outcomes"] == {"suppressed": 1}
    complaint = sns_message(
        sns_key,
        hooks.cert_url,
        "Notification",
        {"Message": ses_complaint("reader1@example.net"), "MessageId": "m-2"},
        version,
    )
    assert post(f"{hooks.url}/ses", json.dumps(complaint).encode())[0] == 200
    # SNS retries deliveries: the same notification again counts once.
    code, answer = post(f"{hooks.url}/ses", json.dumps(bounce).encode())
    assert code == 200 and answer["outcomes"] == {"duplicate": 1}
    state = statuses(hooks.site)
    assert state["reader0@example.net"] == "bounced" and state["reader1@example.net"] == "complained"
    assert list(state.values()).count("active") == 4


def test_ses_bad_signature_wrong_topic_or_foreign_certificate_host_is_403_and_changes_nothing(
    hooks: Hooks, sns_key: rsa.RSAPrivateKey
) -> None:
    good = sns_message(sns_key, hooks.cert_url, "Notification", {"Message": ses_bounce("reader0@example.net")})
    tampered = dict(good, Message=ses_bounce("reader2@example.net"))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong_key = sns_message(other_key, hooks.cert_url, "Notification", {"Message": ses_bounce("reader0@example.net")})
    foreign = sns_message(
        sns_key, "https://evil.example.com/cert.pem", "Notification", {"Message": ses_bounce("reader0@example.net")}
    )
    wrong_topic = dict(good, TopicArn="arn:aws:sns:us-east-1:999999999999:other")
    unsigned_version = dict(good, SignatureVersion="3")
    for message in (tampered, wrong_key, foreign, wrong_topic, unsigned_version):
        code, answer = post(f"{hooks.url}/ses", json.dumps(message).encode())
        assert code == 403, answer
    assert set(statuses(hooks.site).values()) == {"active"}


def test_the_default_allow_list_is_only_amazons_sns_host(
    make_site: SiteFactory,
    envelope_relay: EnvelopeRelay,
    sns_key: rsa.RSAPrivateKey,
    server: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    server.clear()
    site_dir = verp_site(make_site, envelope_relay, 1, tail='\n[bounces]\nsns_region = "eu-west-1"\n')
    with syndicate.Site.open(site_dir) as site:
        assert site.config.bounces.cert_hosts == ["sns.eu-west-1.amazonaws.com"]
        endpoints = WebhookEndpoints(site.store, site.config)
        message = sns_message(
            sns_key, server.url_for("/cert.pem"), "Notification", {"Message": ses_bounce("reader0@example.net")}
        )
        status: list[str] = []
        body = json.dumps(message).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/webhooks/ses",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        answer = json.loads(b"".join(endpoints(environ, lambda s, h: status.append(s))))
    assert status == ["403 Forbidden"] and "not allow-listed" in answer["error"]
    assert server.log == []  # the certificate was never fetched
    assert statuses(site_dir) == {"reader0@example.net": "active"}


def test_subscription_confirmation_is_verified_then_confirmed(hooks: Hooks, sns_key: rsa.RSAPrivateKey) -> None:
    hooks.sns.expect_request("/confirm", query_string={"Token": "tok"}).respond_with_data(
        "<ConfirmSubscriptionResponse/>"
    )
    subscribe = hooks.sns.url_for("/confirm") + "?Token=tok"
    message = sns_message(
        sns_key,
        hooks.cert_url,
        "SubscriptionConfirmation",
        {"Message": "You have chosen to subscribe", "SubscribeURL": subscribe, "Token": "tok"},
    )
    forged = dict(message, SubscribeURL=hooks.sns.url_for("/confirm") + "?Token=other")
    assert post(f"{hooks.url}/ses", json.dumps(forged).encode())[0] == 403
    assert not any(request.path == "/confirm" for request, _ in hooks.sns.log)
    code, answer = post(f"{hooks.url}/ses", json.dumps(message).encode())
    assert code == 200 and answer["confirmed"] == TOPIC
    assert [request.path for request, _ in hooks.sns.log].count("/confirm") == 1


# --- Postmark ---------------------------------------------------------------------------------------


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_postmark_with_its_credentials_suppresses_and_without_them_is_403(hooks: Hooks) -> None:
    hard = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Email": "reader2@example.net",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    }
    complaint = {"RecordType": "SpamComplaint", "ID": 42, "Type": "SpamComplaint", "Email": "reader3@example.net"}
    soft = {"RecordType": "Bounce", "ID": 7, "Type": "SoftBounce", "Email": "reader4@example.net"}
    for payload in (hard, complaint, soft):
        assert post(f"{hooks.url}/postmark", json.dumps(payload).encode(), basic(POSTMARK_USER, "wrong"))[0] == 403
    assert post(f"{hooks.url}/postmark", json.dumps(hard).encode())[0] == 403
    assert set(statuses(hooks.site).values()) == {"active"}
    for payload in (hard, complaint, soft):
        assert (
            post(f"{hooks.url}/postmark", json.dumps(payload).encode(), basic(POSTMARK_USER, POSTMARK_PASSWORD))[0]
            == 200
        )
    state = statuses(hooks.site)
    assert state["reader2@example.net"] == "bounced" and state["reader3@example.net"] == "complained"
    assert state["reader4@example.net"] == "active"  # one soft bounce of the two allowed
    second_soft = dict(soft, ID=8)
    post(f"{hooks.url}/postmark", json.dumps(second_soft).encode(), basic(POSTMARK_USER, POSTMARK_PASSWORD))
    assert statuses(hooks.site)["reader4@example.net"] == "bounced"


# --- SendGrid ---------------------------------------------------------------------------------------


def sendgrid_headers(key: ec.EllipticCurvePrivateKey, body: bytes, stamp: int | None = None) -> dict[str, str]:
    timestamp = str(stamp if stamp is not None else int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def test_sendgrid_signed_events_suppress_and_bad_or_stale_signatures_are_403(
    hooks: Hooks, sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    events = [
        {
            "email": "reader0@example.net",
            "event": "bounce",
            "type": "bounce",
            "status": "5.1.1",
            "sg_event_id": "ev-1",
            "timestamp": 1764230400,
        },
        {"email": "reader1@example.net", "event": "spamreport", "sg_event_id": "ev-2", "timestamp": 1764230400},
        {"email": "reader2@example.net", "event": "delivered", "sg_event_id": "ev-3", "timestamp": 1764230400},
        {"email": "stranger@example.org", "event": "bounce", "type": "bounce", "sg_event_id": "ev-4"},
    ]
    body = json.dumps(events).encode()
    other = ec.generate_private_key(ec.SECP256R1())
    assert post(f"{hooks.url}/sendgrid", body, sendgrid_headers(other, body))[0] == 403
    assert post(f"{hooks.url}/sendgrid", body + b" ", sendgrid_headers(sendgrid_key, body))[0] == 403
    stale = int(time.time()) - 3600
    assert post(f"{hooks.url}/sendgrid", body, sendgrid_headers(sendgrid_key, body, stale))[0] == 403
    assert post(f"{hooks.url}/sendgrid", body, {"Content-Type": "application/json"})[0] == 403
    superscript = {**sendgrid_headers(sendgrid_key, body), "X-Twilio-Email-Event-Webhook-Timestamp": "\u00b2"}
    assert post(f"{hooks.url}/sendgrid", body, superscript)[0] == 403  # a digit to isdigit(), not to int()
    assert set(statuses(hooks.site).values()) == {"active"}
    code, answer = post(f"{hooks.url}/sendgrid", body, sendgrid_headers(sendgrid_key, body))
    assert code == 200 and answer["outcomes"] == {"suppressed": 2, "not a subscriber": 1}
    state = statuses(hooks.site)
    assert state["reader0@example.net"] == "bounced" and state["reader1@example.net"] == "complained"
    assert state["reader2@example.net"] == "active"


def test_other_paths_still_reach_the_unsubscribe_pages(hooks: Hooks) -> None:
    base = hooks.url.rsplit("/webhooks", 1)[0]
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{base}/unsubscribe", timeout=10)
    missing.value.close()  # the error holds the response's socket
    assert missing.value.code == 400  # the unsubscribe app's own answer: no token
    assert post(f"{hooks.url}/nothing", b"{}")[0] == 404


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from(["ses", "postmark", "sendgrid"]))
def test_any_body_gets_a_4xx_or_200_never_a_crash(body: bytes, service: str) -> None:
    config = parse_config({"site": {"title": "T", "url": "https://t.example.org"}}, Path("."))
    store = Store(":memory:")
    try:
        environ_vars = {"SYNDICATE_POSTMARK_USER": "u", "SYNDICATE_POSTMARK_PASSWORD": "p"}
        endpoints = WebhookEndpoints(store, config, environ=environ_vars)
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": f"/webhooks/{service}",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"u:p").decode(),
        }
        status: list[str] = []
        b"".join(endpoints(environ, lambda s, h: status.append(s)))
        assert status[0].split()[0] in ("200", "400", "403", "404")
    finally:
        store.close()


def test_a_service_without_its_secret_configured_answers_404_and_changes_nothing(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    with syndicate.Site.open(hooks.site) as site:
        endpoints = WebhookEndpoints(site.store, site.config, environ={})
        for service in ("postmark", "sendgrid"):
            body = json.dumps([{"email": "reader0@example.net", "event": "spamreport", "sg_event_id": "x"}]).encode()
            environ = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": f"/webhooks/{service}",
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body),
            }
            seen: list[str] = []
            b"".join(endpoints(environ, lambda s, h, seen=seen: seen.append(s)))
            assert seen == ["404 Not Found"]
    assert set(statuses(hooks.site).values()) == {"active"}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from(["email", "event", "type", "sg_event_id", "Email", "ID", "Type", "RecordType"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(FIELDS, JSON | st.text(max_size=60)), max_size=5), JSON)
def test_verified_but_odd_payloads_never_crash_and_never_leak_control_characters(
    events: list[dict[str, Any]], notification: Any
) -> None:
    from syndicate._newsletter.webhooks import _postmark_reports, _sendgrid_reports, _ses_reports

    reported = [*_sendgrid_reports(events)]
    for event in events:
        reported += _postmark_reports(event)
    if isinstance(notification, dict):
        reported += _ses_reports(notification, "sns-id")
    for item in reported:
        assert len(item.email) <= 254 and len(item.detail) <= 300
        assert all(c.isprintable() for c in item.email + item.detail)
