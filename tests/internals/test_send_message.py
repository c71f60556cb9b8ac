"""The MIME message built once per issue and personalised per recipient."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from syndicate import ConfigError, RenderedIssue
from syndicate._newsletter import placeholders as P
from syndicate._newsletter.message import ListSettings, MessageTemplate, Recipient

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
LONG_LINE = "<p>" + "Cinéma = art & light. " * 40 + "</p>"
HTML = (
    f"<html><body><p>{P.GREETING}</p>{LONG_LINE}\n<p>For {P.NAME} ({P.EMAIL})</p>\n"
    f'<a href="{P.UNSUBSCRIBE_URL}">x</a>\n.\n</body></html>'
)
TEXT = f"{P.GREETING}\n\n.leading dot\nStory\n\nUnsubscribe: {P.UNSUBSCRIBE_URL}\n"


def issue(subject: str = "Week 47: Festival Opens") -> RenderedIssue:
    return RenderedIssue(week="2026-W47", subject=subject, preheader="", html=HTML, text=TEXT)


def template(subject: str = "Week 47: Festival Opens") -> MessageTemplate:
    return MessageTemplate(
        issue(subject),
        sender="Reel Dispatch <news@reel.example.com>",
        lists=ListSettings("weekly.reel.example.com", "Reel Dispatch", "unsub@reel.example.com"),
    )


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def recipient(name: str = "Jane <Doe> & Co", email_: str = "jane@example.com") -> Recipient:
    return Recipient(email_, name, "https://reel.example.com/unsubscribe?token=5.sig&x=1", 5)


def test_bodies_round_trip_with_values_substituted_and_escaped() -> None:
    data = template().render(recipient(), token="5.sig", now=NOW)
    message = parse(data)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<p>Hi Jane,</p>" in html
    assert "For Jane &lt;Doe&gt; &amp; Co (jane@example.com)" in html
    assert 'href="https://reel.example.com/unsubscribe?token=5.sig&amp;x=1"' in html
    assert LONG_LINE in html
    assert text.replace("\r\n", "\n") == (
        "Hi Jane,\n\n.leading dot\nStory\n\nUnsubscribe: https://reel.example.com/unsubscribe?token=5.sig&x=1\n"
    )
    # Quoted-printable keeps every line within 76 characters, CRLF only.
    body = data.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_subject_and_name_with_cr_lf_make_single_line_headers() -> None:
    data = template("Festival\r\nBcc: victim@example.com\nX-Evil: 1").render(
        recipient("Mal\r\nBcc: victim@example.com\rX-Evil: 2"), token="5.sig", now=NOW
    )
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    fields = [line.split(":", 1)[0] for line in head.split("\r\n") if not line.startswith((" ", "\t"))]
    assert "Bcc" not in fields and "X-Evil" not in fields
    message = parse(data)
    assert message["Subject"] == "Festival Bcc: victim@example.com X-Evil: 1"
    assert message["To"].addresses[0].display_name == "Mal Bcc: victim@example.com X-Evil: 2"


def test_non_ascii_names_and_subjects_are_encoded() -> None:
    message = parse(template("Cannes: «Palme d'or» für Zoë").render(recipient("Zoë Ünal"), token="t", now=NOW))
    assert message["Subject"] == "Cannes: «Palme d'or» für Zoë"
    assert message["To"].addresses[0].display_name == "Zoë Ünal"
    assert message.get_body(("plain",)).get_content().startswith("Hi Zoë,")  # type: ignore[union-attr]


def test_a_bad_sender_is_refused_clearly() -> None:
    for sender in ("", "news@example.com\r\nBcc: x@y.z", "not an address"):
        with pytest.raises(ConfigError, match=r"\[smtp.from\]"):
            MessageTemplate(issue(), sender=sender, lists=ListSettings("", "", ""))


def test_greeting_without_a_name_is_neutral() -> None:
    message = parse(template().render(recipient(name="  \r\n "), token="t", now=NOW))
    assert message.get_body(("plain",)).get_content().startswith("Hello,")  # type: ignore[union-attr]


def test_schedule_decisions() -> None:
    from datetime import timedelta

    from syndicate._dates import backoff, missed_weeks

    assert [backoff(n, 30) for n in (1, 2, 3)] == [timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2)]
    assert backoff(20, 30) == timedelta(hours=24)  # capped
    assert missed_weeks("2026-W51", "2027-W02") == ["2026-W52", "2026-W53", "2027-W01"]
    assert missed_weeks(None, "2026-W47") == [] and missed_weeks("2026-W47", "2026-W47") == []
