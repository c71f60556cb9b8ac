"""The bounce mailbox: a local Maildir, or an IMAP folder over TLS.

Both give the same three things: the messages waiting (a key and the raw
bytes, at most ``max_messages`` a run, each capped in size), a way to move one
to the processed folder, and closing. Messages nobody could attribute are
left where they are, for a person to look at.
"""

from __future__ import annotations

import contextlib
import imaplib
import ipaddress
import mailbox
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from .._config import Config
from .._errors import ConfigError
from .._errors import MailboxError as MailboxError  # re-exported: its old import path

__all__ = ["BounceMailbox", "ImapMailbox", "MailboxError", "MaildirMailbox", "open_imap"]

MAX_MESSAGE_BYTES = 2_000_000  # a bounce quoting a whole newsletter is ~100 KB; more is not a bounce


class BounceMailbox(Protocol):
    def messages(self, limit: int) -> Iterator[tuple[str, bytes]]: ...

    def move_processed(self, key: str) -> None: ...

    def close(self) -> None: ...

    @property
    def name(self) -> str: ...


class MaildirMailbox:
    """A Maildir folder; processed messages go to its Maildir++ subfolder (``.Processed``)."""

    def __init__(self, path: str | Path, processed_folder: str = "Processed") -> None:
        self.path = Path(path)
        if not (self.path / "cur").is_dir() and not (self.path / "new").is_dir():
            raise MailboxError(f"{self.path}: not a Maildir (no cur/ or new/ folder)")
        self._box = mailbox.Maildir(self.path, factory=None, create=False)
        self._processed_name = processed_folder
        self._processed: mailbox.Maildir | None = None

    @property
    def name(self) -> str:
        return str(self.path)

    def messages(self, limit: int) -> Iterator[tuple[str, bytes]]:
        for count, key in enumerate(sorted(self._box.iterkeys())):
            if count >= limit:
                return
            try:
                with self._box.get_file(key) as handle:
                    data = handle.read(MAX_MESSAGE_BYTES + 1)
            except (KeyError, OSError):
                continue  # removed by someone else meanwhile
            yield key, data

    def move_processed(self, key: str) -> None:
        if self._processed is None:
            try:
                self._processed = self._box.get_folder(self._processed_name)
            except mailbox.NoSuchMailboxError:
                self._processed = self._box.add_folder(self._processed_name)
        try:
            message = self._box.get_message(key)
            self._processed.add(message)
            self._box.remove(key)
        except (KeyError, OSError) as exc:
            raise MailboxError(f"{self.path}: cannot move message {key} to {self._processed_name}: {exc}") from None

    def close(self) -> None:
        self._box.close()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _imap_quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapMailbox:
    """One IMAP folder; processed messages are MOVEd (or copied and expunged) to another."""

    def __init__(self, connection: imaplib.IMAP4, folder: str, processed_folder: str, label: str) -> None:
        self._imap = connection
        self.folder = folder
        self.processed_folder = processed_folder
        self._label = label
        self._created = False
        self._expunge = False
        status, _ = self._imap.select(_imap_quote(folder))
        if status != "OK":
            raise MailboxError(f"{label}: cannot open folder {folder!r}")

    @property
    def name(self) -> str:
        return f"{self._label}/{self.folder}"

    def messages(self, limit: int) -> Iterator[tuple[str, bytes]]:
        status, data = self._imap.uid("SEARCH", "ALL")  # type: ignore[arg-type]
        if status != "OK":
            raise MailboxError(f"{self.name}: SEARCH failed")
        uids = [uid.decode("ascii") for uid in (data[0] or b"").split() if uid.isdigit()][:limit]
        for uid in uids:
            status, fetched = self._imap.uid("FETCH", uid, f"(BODY.PEEK[]<0.{MAX_MESSAGE_BYTES + 1}>)")
            if status != "OK":
                continue
            for item in fetched:
                if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
                    yield uid, item[1]
                    break

    def _ensure_processed_folder(self) -> None:
        if not self._created:
            self._imap.create(_imap_quote(self.processed_folder))  # fails harmlessly when it exists
            self._created = True

    def move_processed(self, key: str) -> None:
        self._ensure_processed_folder()
        target = _imap_quote(self.processed_folder)
        if "MOVE" in self._imap.capabilities:  # RFC 6851: one atomic step
            status, _ = self._imap.uid("MOVE", key, target)
            if status == "OK":
                return
        status, _ = self._imap.uid("COPY", key, target)
        if status != "OK":
            raise MailboxError(f"{self.name}: cannot copy message {key} to {self.processed_folder!r}")
        self._imap.uid("STORE", key, "+FLAGS.SILENT", r"(\Deleted)")
        self._expunge = True

    def close(self) -> None:
        try:
            if self._expunge:
                self._imap.expunge()
            self._imap.close()
            self._imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def open_imap(config: Config) -> ImapMailbox:
    """Log in to ``[bounces]``'s IMAP server; plain IMAP only on a loopback host."""
    settings = config.bounces
    host, port = settings.host, settings.port
    if not host:
        raise ConfigError("is not set: give --maildir PATH, or an IMAP host", key="bounces.host")
    if settings.security == "none" and not _is_loopback(host):
        raise ConfigError(
            f"'none' sends the password in clear; it is allowed only for a loopback host, not {host!r}",
            key="bounces.security",
        )
    password = settings.password()
    context = ssl.create_default_context(cafile=str(config.path(settings.ca_file)) if settings.ca_file else None)
    label = f"imap://{settings.user}@{host}:{port}"
    connection: imaplib.IMAP4 | None = None
    try:
        if settings.security == "tls":
            connection = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=settings.timeout)
        else:
            connection = imaplib.IMAP4(host, port, timeout=settings.timeout)
            if settings.security == "starttls":
                connection.starttls(context)
        connection.login(settings.user, password)
    except imaplib.IMAP4.error as exc:
        _shut(connection)
        raise MailboxError(f"{label}: login refused: {_one_line(exc)}") from None
    except (TimeoutError, OSError, ssl.SSLError) as exc:
        _shut(connection)
        raise MailboxError(f"{label} ({settings.security}): cannot connect: {exc}") from None
    try:
        return ImapMailbox(connection, settings.folder, settings.processed_folder, label)
    except MailboxError:
        _shut(connection)
        raise


def _shut(connection: imaplib.IMAP4 | None) -> None:
    """Close the socket of a connection that failed before an ImapMailbox took it over (else it leaks)."""
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.shutdown()


def _one_line(exc: BaseException) -> str:
    return re.sub(r"\s+", " ", str(exc))[:200]
