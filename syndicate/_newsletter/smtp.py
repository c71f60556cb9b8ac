"""The SMTP transport: one connection reused for many messages, and the relay's verdict on each.

The only module that talks SMTP. It knows nothing of issues, subscribers or
the send ledger: :mod:`syndicate._newsletter.send` decides who is sent what and
records the outcome; this module carries one message and says what the relay
answered (:class:`Reply`), turning lost connections into verdicts rather than
exceptions, so one reader never stops the run.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from .._config import SmtpConfig
from .._errors import RelayUnavailableError as RelayUnavailableError  # re-exported: its old import path

__all__ = ["Outcome", "RelayUnavailableError", "Reply", "SmtpRelay", "sender_or"]


class Outcome(StrEnum):
    SENT = "sent"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    UNCONFIRMED = "unconfirmed"  # the connection died after the data: maybe delivered


@dataclass(frozen=True, slots=True)
class Reply:
    """The relay's verdict on one message."""

    outcome: Outcome
    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class _DroppedError(Exception):
    """The connection went away mid-transaction (or the relay said 421, closing it)."""

    def __init__(self, problem: str, *, after_data: bool = False, first_command: bool = False, code: int = 0) -> None:
        super().__init__(problem)
        self.after_data = after_data  # the data went out: the message may have been delivered
        self.first_command = first_command  # died at MAIL, before any verdict: a stale connection
        self.code = code


def _data_payload(data: bytes) -> bytes:
    """The DATA payload: dot-stuffed (RFC 5321 4.5.2), CRLF-terminated, then the lone dot.

    ``bytes.replace`` does the stuffing: smtplib's line-anchored regex costs
    about half a millisecond on a 50 KB newsletter, more than everything else
    a message costs the client.
    """
    stuffed = data.replace(b"\n.", b"\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def _reply_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())


class SmtpRelay:
    """One SMTP connection reused for many messages, reopened when it drops, paced to a rate.

    The password comes from the environment variable ``[smtp] password_env``
    names; it is passed to ``login`` and never logged or stored.
    """

    def __init__(self, settings: SmtpConfig, rate_per_second: float = 0.0) -> None:
        self.settings = settings
        self.interval = 1.0 / rate_per_second if rate_per_second > 0 else 0.0
        self._password = settings.password()  # fails early, before anything is sent
        self._connection: smtplib.SMTP | None = None
        self._next_slot = 0.0
        self._local_hostname = socket.getfqdn()  # once: smtplib would look it up per connection
        self.connections = 0

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "tls":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host,
                    s.port,
                    local_hostname=self._local_hostname,
                    timeout=s.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(s.host, s.port, local_hostname=self._local_hostname, timeout=s.timeout)
            connection.ehlo()
            if s.security == "starttls":
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if s.username:
                connection.login(s.username, self._password)
        except smtplib.SMTPAuthenticationError as exc:
            raise RelayUnavailableError(
                f"SMTP {s.host}:{s.port}: login as {s.username!r} refused: "
                f"{exc.smtp_code} {_reply_text(exc.smtp_error)}"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise RelayUnavailableError(f"SMTP {s.host}:{s.port} ({s.security}): cannot connect: {exc}") from None
        self.connections += 1
        return connection

    def _pace(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self._next_slot > now:
            time.sleep(self._next_slot - now)
            now = self._next_slot
        self._next_slot = max(now, self._next_slot) + self.interval

    def open(self) -> None:
        if self._connection is None:
            self._connection = self._connect()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def deliver(
        self, sender: str, recipient: str, data: bytes, *, before_data: Callable[[], None] | None = None
    ) -> Reply:
        """One SMTP transaction for one message, and the relay's verdict on it.

        ``before_data`` runs after the relay has accepted the recipient and
        just before the message data is sent (the ledger's commit hook).

        A lost connection never raises: it is the message's verdict (deferred
        before the data, unconfirmed after it), and the next message gets a
        fresh connection. The one exception is a reused connection found dead
        at its first command (the relay closed it while idle): nothing was
        said about this message yet, so it is tried once more on a new one.
        Only a relay that cannot be connected to raises
        :class:`RelayUnavailableError`.
        """
        for _ in range(2):
            self._pace()
            reused = self._connection is not None
            self.open()
            assert self._connection is not None
            try:
                return self._transaction(self._connection, sender, recipient, data, before_data)
            except _DroppedError as exc:
                self._discard()
                if exc.after_data:
                    return Reply(Outcome.UNCONFIRMED, exc.code, f"connection lost after the data: {exc}")
                if reused and exc.first_command and not exc.code:
                    continue  # a connection the relay closed while idle: once more on a new one
                if exc.first_command:
                    # Turned away before any recipient was named (a 4xx to MAIL FROM, or a fresh
                    # connection closed at once): the relay's trouble, not this reader's.
                    raise RelayUnavailableError(
                        f"SMTP {self.settings.host}:{self.settings.port}: the relay takes no mail for now: {exc}"
                    ) from None
                return Reply(Outcome.DEFERRED, exc.code or 421, f"connection lost: {exc}")
            except BaseException:
                self._discard()  # mid-transaction: a polite QUIT could hang in the DATA phase
                raise
        return Reply(Outcome.DEFERRED, 421, "connection lost twice before the relay answered")

    def _transaction(
        self,
        connection: smtplib.SMTP,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], None] | None,
    ) -> Reply:
        data_sent = False
        first_command = True
        try:
            # Addresses were validated on the way in (no CR/LF, no brackets), so they go out as
            # they are: smtplib's mail()/rcpt() would re-parse each one with email.utils.
            connection.putcmd("mail", f"FROM:<{sender}>")
            code, text = connection.getreply()
            if code != 250:
                return self._refused(connection, code, text, sender_refused=True)
            first_command = False
            connection.putcmd("rcpt", f"TO:<{recipient}>")
            code, text = connection.getreply()
            if code not in (250, 251):
                return self._refused(connection, code, text)
            connection.putcmd("data")
            code, text = connection.getreply()
            if code != 354:  # DATA itself refused: the message was not sent
                return self._refused(connection, code, text)
            if before_data is not None:
                before_data()
            data_sent = True  # from the first byte on, the relay may deliver it
            connection.send(_data_payload(data))
            code, text = connection.getreply()
            if code == 250:
                return Reply(Outcome.SENT, code, _reply_text(text))
            return self._refused(connection, code, text, reset=False)
        except _DroppedError as exc:
            exc.after_data = data_sent and not exc.code  # a 421 after the data is a verdict: not taken
            exc.first_command = first_command
            raise
        except smtplib.SMTPServerDisconnected as exc:
            problem = str(exc) or "connection closed"
            raise _DroppedError(problem, after_data=data_sent, first_command=first_command) from None
        except OSError as exc:  # reset, broken pipe, timeout
            problem = str(exc) or type(exc).__name__
            raise _DroppedError(problem, after_data=data_sent, first_command=first_command) from None

    def _refused(
        self, connection: smtplib.SMTP, code: int, raw: bytes | str, *, sender_refused: bool = False, reset: bool = True
    ) -> Reply:
        text = _reply_text(raw)
        if code == 421 or code < 400:  # 421: the relay is closing the connection; odd codes: start afresh
            raise _DroppedError(f"{code} {text}", code=code if code >= 400 else 0)
        if sender_refused and code >= 500:
            raise RelayUnavailableError(
                f"SMTP {self.settings.host}: the sender {sender_or(self.settings)} is refused: {code} {text}"
            )
        if sender_refused:
            # A 4xx to MAIL FROM says nothing about the recipient: the relay is busy or throttling.
            raise _DroppedError(f"{code} {text}", code=code)
        if reset:
            try:
                connection.rset()
            except (OSError, smtplib.SMTPException):
                self._discard()
        return Reply(Outcome.DEFERRED if code < 500 else Outcome.BOUNCED, code, text)


def sender_or(settings: SmtpConfig) -> str:
    return settings.from_ or "(unset [smtp] from)"
