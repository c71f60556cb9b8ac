"""Bounce and complaint messages in the shapes real mail servers send, written from the RFCs and their docs.

* RFC 3464 delivery status notifications as Postfix (``bounce(8)``: a
  ``text/rfc822-headers`` part), Gmail (``Delivery Status Notification``,
  the whole message quoted), Microsoft 365 / Outlook.com (``Undeliverable:``,
  enhanced status codes such as 5.1.10 with ``RESOLVER.ADR.RecipientNotFound``),
  Amazon SES (``MAILER-DAEMON@amazonses.com``) send them;
* Exim's classic plain-text bounce (``X-Failed-Recipients``, "This message was
  created automatically by mail delivery software"), which has no
  machine-readable part: flufl.bounce reads it;
* RFC 5965 ARF complaint reports (``message/feedback-report``), with and
  without ``Original-Mail-From``.

``to`` is where the bounce is delivered (our VERP return path); ``quoted`` is
the address the bounce *talks about*, which a test may set to somebody else.
"""

from __future__ import annotations

ORIGINAL_HEADERS = """\
Return-Path: <{to}>
From: Test Reel <news@test.example.org>
To: {quoted}
Subject: Test Reel: the week in film
Message-ID: <2026-W47.{n}@test.example.org>
Date: Fri, 27 Nov 2026 07:00:00 +0000
List-Unsubscribe-Post: List-Unsubscribe=One-Click
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
"""


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def postfix(to: str, quoted: str, n: int = 1, *, status: str = "5.1.1") -> bytes:
    return _crlf(
        f"""\
Return-Path: <>
Delivered-To: {to}
Received: by mx.test.example.org (Postfix) id 4ABC12; Fri, 27 Nov 2026 07:00:05 +0000 (UTC)
Date: Fri, 27 Nov 2026 07:00:05 +0000 (UTC)
From: MAILER-DAEMON@mx.test.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="4ABC12.1764226805/mx.test.example.org"
Message-Id: <20261127070005.4ABC12.postfix{n}@mx.test.example.org>

This is a MIME-encapsulated message.

--4ABC12.1764226805/mx.test.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.test.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{quoted}>: host mail.example.net[203.0.113.5] said: 550 5.1.1
    <{quoted}>: Recipient address rejected: User unknown (in reply to RCPT TO command)

--4ABC12.1764226805/mx.test.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.test.example.org
X-Postfix-Queue-ID: 4ABC12
X-Postfix-Sender: rfc822; {to}
Arrival-Date: Fri, 27 Nov 2026 07:00:01 +0000 (UTC)

Final-Recipient: rfc822; {quoted}
Original-Recipient: rfc822;{quoted}
Action: failed
Status: {status}
Remote-MTA: dns; mail.example.net
Diagnostic-Code: smtp; 550 {status} <{quoted}>: Recipient address rejected: User unknown

--4ABC12.1764226805/mx.test.example.org
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{ORIGINAL_HEADERS.format(to=to, quoted=quoted, n=n)}
--4ABC12.1764226805/mx.test.example.org--
"""
    )


def exim(to: str, quoted: str, n: int = 1) -> bytes:
    return _crlf(
        f"""\
Return-path: <>
Envelope-to: {to}
Received: from Debian-exim by smtp.test.example.org with local (Exim 4.96) id 1tQx{n}
From: Mail Delivery System <Mailer-Daemon@smtp.test.example.org>
To: {to}
X-Failed-Recipients: {quoted}
Auto-Submitted: auto-replied
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1tQx{n}-000Abc-2Z@smtp.test.example.org>
Date: Fri, 27 Nov 2026 07:00:09 +0000

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {quoted}
    host mail.example.net [203.0.113.5]
    SMTP error from remote mail server after RCPT TO:<{quoted}>:
    550 5.1.1 No such user

------ This is a copy of the message, including all the headers. ------

{ORIGINAL_HEADERS.format(to=to, quoted=quoted, n=n)}
Hello.
"""
    )


def gmail(to: str, quoted: str, n: int = 1, *, action: str = "failed", status: str = "5.1.1") -> bytes:
    title = "Failure" if action == "failed" else "Delay"
    return _crlf(
        f"""\
Delivered-To: {to}
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {to}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification ({title})
Message-ID: <5f8a9.gmail{n}@mx.google.com>
Date: Fri, 27 Nov 2026 07:00:07 -0800
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000gmail{n}"; report-type=delivery-status

--000000000000gmail{n}
Content-Type: multipart/related; boundary="000000000000rel{n}"

--000000000000rel{n}
Content-Type: multipart/alternative; boundary="000000000000alt{n}"

--000000000000alt{n}
Content-Type: text/plain; charset="UTF-8"


** Address not found **

Your message wasn't delivered to {quoted} because the address couldn't be found,
or is unable to receive mail.

--000000000000alt{n}
Content-Type: text/html; charset="UTF-8"

<html><body><h2>Address not found</h2><p>Your message wasn't delivered to <b>{quoted}</b>.</p></body></html>
--000000000000alt{n}--
--000000000000rel{n}--
--000000000000gmail{n}
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; news.test.example.org
Arrival-Date: Fri, 27 Nov 2026 07:00:06 -0800 (PST)
X-Original-Message-ID: <2026-W47.{n}@test.example.org>

Final-Recipient: rfc822; {quoted}
Action: {action}
Status: {status}
Remote-MTA: dns; gmail-smtp-in.l.google.com. (2a00:1450:400c:c0b::1a, the server for the domain example.net.)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.
Last-Attempt-Date: Fri, 27 Nov 2026 07:00:07 -0800 (PST)

--000000000000gmail{n}
Content-Type: message/rfc822

{ORIGINAL_HEADERS.format(to=to, quoted=quoted, n=n)}
Hello.

--000000000000gmail{n}--
"""
    )


def microsoft(to: str, quoted: str, n: int = 1) -> bytes:
    return _crlf(
        f"""\
Received: from DM6PR11MB4691.namprd11.prod.outlook.com; Fri, 27 Nov 2026 07:00:10 +0000
From: postmaster@outlook.com
To: {to}
Date: Fri, 27 Nov 2026 07:00:10 +0000
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="b6e4c8a1-ms{n}"
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
Message-ID: <b6e4c8a1-ms{n}@DM6PR11MB4691.namprd11.prod.outlook.com>
In-Reply-To: <2026-W47.{n}@test.example.org>
Subject: Undeliverable: Test Reel: the week in film
Auto-Submitted: auto-replied
MIME-Version: 1.0

--b6e4c8a1-ms{n}
Content-Type: multipart/alternative; differences=Content-Type;
\tboundary="alt-b6e4c8a1-ms{n}"

--alt-b6e4c8a1-ms{n}
Content-Type: text/plain; charset="us-ascii"

Your message to {quoted} couldn't be delivered.
{quoted.partition("@")[0]} wasn't found at {quoted.partition("@")[2]}.

Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'

--alt-b6e4c8a1-ms{n}
Content-Type: text/html; charset="us-ascii"

<html><body><p>Your message to {quoted} couldn't be delivered.</p></body></html>
--alt-b6e4c8a1-ms{n}--

--b6e4c8a1-ms{n}
Content-Type: message/delivery-status

Reporting-MTA: dns;DM6PR11MB4691.namprd11.prod.outlook.com
Received-From-MTA: dns;news.test.example.org
Arrival-Date: Fri, 27 Nov 2026 07:00:09 +0000

Original-Recipient: rfc822;{quoted}
Final-Recipient: rfc822;{quoted}
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup

--b6e4c8a1-ms{n}
Content-Type: message/rfc822

{ORIGINAL_HEADERS.format(to=to, quoted=quoted, n=n)}
Hello.

--b6e4c8a1-ms{n}--
"""
    )


def amazon_ses(to: str, quoted: str, n: int = 1, *, status: str = "5.1.1") -> bytes:
    return _crlf(
        f"""\
Return-Path: <>
From: MAILER-DAEMON@amazonses.com
To: {to}
Subject: Delivery Status Notification (Failure)
Message-ID: <0100018c-ses{n}-000000@email.amazonses.com>
Date: Fri, 27 Nov 2026 07:00:11 +0000
MIME-Version: 1.0
Content-Type: multipart/report; boundary="ses-{n}"; report-type=delivery-status
X-SES-Outgoing: 2026.11.27-54.240.27.30

--ses-{n}
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit

An error occurred while trying to deliver the mail to the following recipients:
{quoted}
--ses-{n}
Content-Type: message/delivery-status

Reporting-MTA: dns; a27-30.smtp-out.us-west-2.amazonses.com

Action: failed
Final-Recipient: rfc822; {quoted}
Diagnostic-Code: smtp; 552 {status} Requested mail action aborted, mailbox full
Status: {status}

--ses-{n}
Content-Type: message/rfc822

{ORIGINAL_HEADERS.format(to=to, quoted=quoted, n=n)}
Hello.

--ses-{n}--
"""
    )


def arf(to: str, quoted: str, n: int = 1, *, mail_from: bool = True, feedback_type: str = "abuse") -> bytes:
    """An RFC 5965 report; it goes to the feedback-loop address, so ``to`` appears only inside it."""
    original_mail_from = f"Original-Mail-From: <{to}>\n" if mail_from else ""
    return _crlf(
        f"""\
From: <staff@hotmail.com>
Date: Fri, 27 Nov 2026 09:10:00 +0000
Subject: complaint about message from 198.51.100.7
To: fbl@test.example.org
Message-ID: <arf-{n}@feedback.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
    boundary="part1_13d.2e68ed54_boundary{n}"

--part1_13d.2e68ed54_boundary{n}
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
198.51.100.7 on Fri, 27 Nov 2026 07:00:11 +0000.

--part1_13d.2e68ed54_boundary{n}
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: SomeGenerator/1.0
Version: 1
{original_mail_from}Original-Rcpt-To: <{quoted}>
Arrival-Date: Fri, 27 Nov 2026 07:00:11 +0000
Reported-Domain: test.example.org
Source-IP: 198.51.100.7

--part1_13d.2e68ed54_boundary{n}
Content-Type: message/rfc822
Content-Disposition: inline

{ORIGINAL_HEADERS.format(to=to, quoted=quoted, n=n)}
Hello.

--part1_13d.2e68ed54_boundary{n}--
"""
    )


def out_of_office(to: str, n: int = 1) -> bytes:
    """An auto-reply: neither a bounce nor a complaint; it must stay in the mailbox."""
    return _crlf(
        f"""\
From: Reader <reader1@example.net>
To: {to}
Subject: Automatic reply: Test Reel: the week in film
Auto-Submitted: auto-replied
Message-ID: <ooo-{n}@example.net>
Date: Fri, 27 Nov 2026 07:05:00 +0000

I am away until Monday.
"""
    )


FORMATS = {
    "postfix": postfix,
    "exim": exim,
    "gmail": gmail,
    "microsoft": microsoft,
    "amazon_ses": amazon_ses,
}
