"""What a bounce or complaint message says: hard, soft or complaint, and which return path it came back to.

Two questions, kept apart on purpose:

* *What happened* comes from the report's structure. RFC 3464 delivery status
  notifications (Postfix, Gmail, Microsoft, Amazon SES, modern Exim) carry a
  ``message/delivery-status`` part whose ``Action`` and ``Status`` fields we
  read ourselves; RFC 5965 ARF complaint reports carry a
  ``message/feedback-report`` part. Anything else (the classic plain-text
  bounces of older Exim, qmail, Exchange) goes to flufl.bounce, a maintained
  set of detectors for exactly those formats, which tells temporary from
  permanent failures.
* *Who it is about* never comes from the addresses a bounce quotes (a
  forwarding address, an alias, a typo the relay corrected): it comes from
  the VERP return path the bounce was delivered to (``Delivered-To``,
  ``X-Original-To``, ``To``), or for a complaint the original message's
  envelope sender (ARF ``Original-Mail-From``, or the quoted message's
  ``Return-Path``). :mod:`.suppression` checks the signature.

Everything here reads hostile input: fields are length-capped and stripped
of control characters, and nothing raises on a malformed message (it is
"unknown" instead).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from enum import StrEnum

from flufl.bounce import all_failures

__all__ = ["BounceKind", "BounceReport", "classify_message", "parse_message"]

_MAX_DETAIL = 300
_MAX_PARTS = 50  # a report has three parts; more is a crafted message, not a bounce
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SOFT_PERMANENT = {"5.2.2", "5.2.3"}  # mailbox full, message too large for it: often cured by waiting
_COMPLAINT_TYPES = {"abuse", "fraud", "virus", "other"}
_RETURN_PATH_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "X-Original-Rcpt-To", "To")


class BounceKind(StrEnum):
    HARD = "hard"  # the address does not exist, or never will accept mail from us: suppress now
    SOFT = "soft"  # full mailbox, greylisting that gave up: suppress after [bounces] soft_bounce_limit
    COMPLAINT = "complaint"  # the reader marked us as spam: suppress now, and never mail again


@dataclass(frozen=True, slots=True)
class BounceReport:
    """One classified report: its kind, where it came back to, and a one-line reason."""

    kind: BounceKind
    return_paths: tuple[str, ...]  # candidates, best first; the first signed one wins
    detail: str
    event_key: str
    quoted_recipients: tuple[str, ...] = field(default=())  # what the report *says*; shown, never trusted


def _clean(value: object, limit: int = _MAX_DETAIL) -> str:
    text = _CONTROL.sub(" ", str(value or "")).strip()
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_message(data: bytes) -> Message:
    return email.message_from_bytes(data, policy=email.policy.compat32)


def _parts(message: Message) -> Iterator[Message]:
    for count, part in enumerate(message.walk()):
        if count >= _MAX_PARTS:
            return
        yield part


def _address(value: str) -> str:
    """The bare address of a header value such as ``<a@b>``, ``rfc822; a@b`` or ``Name <a@b>``."""
    text = _clean(value, 998)
    if ";" in text:
        text = text.split(";", 1)[1]
    found = re.search(r"<([^<>\s]+@[^<>\s]+)>", text)
    if found:
        return found.group(1)
    found = re.search(r"[^\s<>,;\"]+@[^\s<>,;\"]+", text)
    return found.group(0) if found else ""


def _event_key(message: Message, data: bytes) -> str:
    message_id = _clean(message.get("Message-ID", ""), 200)
    if message_id:
        return f"mail:{message_id}"
    return "mail-sha256:" + hashlib.sha256(data).hexdigest()


def _delivery_blocks(message: Message) -> list[Message]:
    """The field blocks of the ``message/delivery-status`` part (per-message first, then per-recipient)."""
    for part in _parts(message):
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            return [block for block in payload if isinstance(block, Message)][:_MAX_PARTS]
        if isinstance(payload, str):  # some servers send it base64 or unparsed
            raw = part.get_payload(decode=True)
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else payload
            return [email.message_from_string(chunk) for chunk in re.split(r"\r?\n\r?\n", text) if chunk.strip()][
                :_MAX_PARTS
            ]
    return []


def _feedback_fields(message: Message) -> Message | None:
    for part in _parts(message):
        if part.get_content_type() != "message/feedback-report":
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return payload[0]
        raw = part.get_payload(decode=True)
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload)
        return email.message_from_string(text)
    return None


def _original_headers(message: Message) -> Message | None:
    """The quoted original message (``message/rfc822``) or its headers (``text/rfc822-headers``)."""
    for part in _parts(message):
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if kind == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                return email.message_from_bytes(raw, policy=email.policy.compat32)
    return None


def _return_paths(message: Message, feedback: Message | None) -> tuple[str, ...]:
    found: list[str] = []
    for header in _RETURN_PATH_HEADERS:
        for value in message.get_all(header) or []:
            for piece in str(value).split(","):
                address = _address(piece)
                if address:
                    found.append(address)
    if feedback is not None:
        address = _address(str(feedback.get("Original-Mail-From", "")))
        if address:
            found.append(address)
    original = _original_headers(message)
    if original is not None:
        address = _address(str(original.get("Return-Path", "")))
        if address:
            found.append(address)
    return tuple(dict.fromkeys(found))[:20]


def _dsn_verdict(blocks: list[Message]) -> tuple[BounceKind, str, tuple[str, ...]] | None:
    """Hard or soft from the per-recipient Action/Status fields; None when every recipient was delivered."""
    kinds: list[BounceKind] = []
    details: list[str] = []
    quoted: list[str] = []
    for block in blocks[1:] or blocks:
        action = _clean(block.get("Action", ""), 40).lower()
        status_match = _STATUS.search(_clean(block.get("Status", ""), 40))
        diagnostic = _clean(block.get("Diagnostic-Code", ""))
        if status_match is None:
            status_match = _STATUS.search(diagnostic)
        status = ".".join(status_match.groups()) if status_match else ""
        recipient = _address(str(block.get("Final-Recipient") or block.get("Original-Recipient") or ""))
        if not action and not status:
            continue
        if action in ("delivered", "relayed", "expanded"):
            continue
        if recipient:
            quoted.append(recipient)
        if action == "delayed" or status.startswith("4") or status in _SOFT_PERMANENT:
            kinds.append(BounceKind.SOFT)
        elif action == "failed" or status.startswith("5"):
            kinds.append(BounceKind.HARD)
        else:
            continue
        details.append(" ".join(part for part in (status, diagnostic) if part) or action)
    if not kinds:
        return None
    kind = BounceKind.HARD if BounceKind.HARD in kinds else BounceKind.SOFT
    return kind, _clean("; ".join(details)), tuple(quoted)


def _decoded(values: object) -> tuple[str, ...]:
    out = []
    for value in values if isinstance(values, frozenset | set | list | tuple) else ():
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        out.append(_clean(text, 254))
    return tuple(sorted(out))


def classify_message(data: bytes) -> BounceReport | None:
    """The report ``data`` (one RFC 5322 message) carries; None when it is not a bounce or complaint."""
    try:
        message = parse_message(data)
        return _classify(message, data)
    except Exception:  # hostile mail through third-party detectors: any failure means "unknown"
        # A message too broken to read is left in the mailbox and reported, not guessed at,
        # and it must not stop the messages after it.
        return None


def _classify(message: Message, data: bytes) -> BounceReport | None:
    key = _event_key(message, data)
    feedback = _feedback_fields(message)
    if feedback is not None:
        feedback_type = _clean(feedback.get("Feedback-Type", ""), 40).lower()
        if feedback_type not in _COMPLAINT_TYPES:
            return None  # not-spam, auth-failure: reports about the mail stream, not about a reader
        quoted = _address(str(feedback.get("Original-Rcpt-To", "")))
        agent = _clean(feedback.get("User-Agent", ""), 80)
        return BounceReport(
            BounceKind.COMPLAINT,
            _return_paths(message, feedback),
            _clean(f"ARF {feedback_type} report" + (f" from {agent}" if agent else "")),
            key,
            (quoted,) if quoted else (),
        )
    blocks = _delivery_blocks(message)
    if blocks:
        verdict = _dsn_verdict(blocks)
        if verdict is None:
            return None
        kind, detail, quoted_list = verdict
        return BounceReport(kind, _return_paths(message, None), detail, key, quoted_list)
    temporary, permanent = all_failures(message)
    if permanent:
        kind = BounceKind.HARD
    elif temporary:
        kind = BounceKind.SOFT
    else:
        return None
    quoted_list = _decoded(permanent or temporary)
    subject = _clean(message.get("Subject", ""), 120)
    return BounceReport(kind, _return_paths(message, None), _clean(f"{kind} bounce: {subject}"), key, quoted_list)
