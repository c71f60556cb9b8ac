"""Every exception syndicate raises, in one hierarchy.

Catch :class:`SyndicateError` to handle anything of ours; the subclasses say
which stage failed, and each message names the file, URL or key at fault.
Where callers used to catch a built-in (``ValueError``, ``LookupError``), the
subclass derives from it too, so that code keeps working::

    SyndicateError
    ├── ConfigError                  syndicate.toml missing, unreadable, or a bad key
    │   └── SecretMissingError       an environment variable holding a secret is unset
    ├── InvalidArgumentError         (also ValueError) a bad value passed to a public function
    ├── ArticleNotFoundError         (also LookupError) no article has this slug or title
    ├── StoreError                   the state database cannot be opened or migrated
    │   ├── StateDamagedError        the file is corrupt, truncated or not SQLite
    │   ├── TargetExistsError        a backup or restore would replace a file
    │   ├── DatabaseError            SQLite failed for another reason (locked too long, ...)
    │   ├── ArchiveStateError        (also ValueError) the newsletter archive's state file is unreadable
    │   └── LedgerWriteError         a send cannot be recorded (disk full, I/O error)
    ├── SourceError                  an outside feed could not be fetched or parsed
    │   ├── AddressRefused           a connection the address policy does not allow
    │   └── SourceListError          the source list (OPML) cannot take this change
    │       ├── DuplicateSourceError an added source is already listed
    │       └── UnknownSourceError   a removed source is not listed
    ├── NewsletterError              an issue cannot be selected, rendered or sent
    │   ├── LockedError              another run holds the send lock
    │   ├── RelayUnavailableError    the SMTP relay is unreachable or refuses the sender
    │   ├── OutboxWriteError         a dry run's .eml file cannot be written
    │   ├── MailboxError             the bounce mailbox cannot be opened, read or changed
    │   ├── InvalidAddressError      (also ValueError) an address email-validator refuses
    │   ├── InvalidTokenError        (also ValueError) a malformed or forged signed token
    │   │   └── ExpiredTokenError    a confirmation link used too late
    │   ├── PreferenceError          (also ValueError) a preferences form that is not ours
    │   └── WebhookRejected          a webhook request that fails its check
    ├── FrontMatterError             (also ValueError) an article's front matter is not YAML
    └── WriteError                   a file or folder cannot be written
        ├── DiskFullError            no space left, a file-size limit or a quota
        └── NotWritableError         read-only, not ours, or a file in the way

Exceptions named with a leading underscore (``_TooLarge``, ``_DroppedError``)
are control flow inside one module and never leave it. Bad input in articles,
sources and subscriber lists is reported as :class:`~syndicate._model.Problem`
values, not raised, so one bad item never stops the rest.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import Any


class SyndicateError(Exception):
    """Base class of every error syndicate raises on purpose."""


class ConfigError(SyndicateError):
    """``syndicate.toml`` is missing, unreadable, or has a bad key or value."""

    def __init__(self, message: str, *, file: str = "", key: str = "") -> None:
        self.file = file
        self.key = key
        where = ": ".join(part for part in (file, f"[{key}]" if key else "") if part)
        super().__init__(f"{where}: {message}" if where else message)


class InvalidArgumentError(SyndicateError, ValueError):
    """A value passed to a public function or method is out of range or malformed; the message says which."""


class ArticleNotFoundError(SyndicateError, LookupError):
    """No article of the collection has this slug (or resolves from this title)."""

    def __init__(self, slug: str, content_dir: str = "") -> None:
        self.slug = slug
        self.content_dir = content_dir
        where = f" in {content_dir}" if content_dir else ""
        super().__init__(f"no article with slug or title '{slug}'{where}")

    def __reduce__(self) -> tuple[type[ArticleNotFoundError], tuple[str, str]]:
        return (type(self), (self.slug, self.content_dir))


class FrontMatterError(SyndicateError, ValueError):
    """The front matter is missing or not YAML; ``line`` is where, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class StoreError(SyndicateError):
    """The state database cannot be opened or migrated."""


class SourceError(SyndicateError):
    """An outside feed could not be fetched or parsed."""

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        self.reason = message
        super().__init__(f"{url}: {message}")

    def __reduce__(self) -> tuple[type[SourceError], tuple[str, str]]:
        return (type(self), (self.url, self.reason))


class AddressRefused(SourceError):
    """A connection the address policy does not allow; the message says which and why.

    Raised while connecting, before the URL is known to the resolver: the
    message stands alone, and :attr:`url` is empty.
    """

    def __init__(self, message: str) -> None:
        super().__init__("", message)

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self) -> tuple[type[SourceError], tuple[str, str]]:
        return (type(self), (self.reason,))  # type: ignore[return-value]


class NewsletterError(SyndicateError):
    """A newsletter issue cannot be selected, rendered or sent."""


class LockedError(NewsletterError):
    """Another run holds the send lock."""


class RelayUnavailableError(NewsletterError):
    """The relay cannot be reached, or refuses the sender itself: the run stops, nothing is lost."""


class OutboxWriteError(NewsletterError):
    """A dry run's ``.eml`` file cannot be written (disk full, file size limit, permissions)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: cannot write the dry run's message: {reason}")

    def __reduce__(self) -> tuple[type[OutboxWriteError], tuple[Path, str]]:
        return (type(self), (self.path, self.reason))


class MailboxError(NewsletterError):
    """The bounce mailbox cannot be opened, read or changed."""


class InvalidAddressError(NewsletterError, ValueError):
    """An address email-validator refuses: ``address`` is what was given, ``reason`` says why.

    The message names the address; ``reason`` alone is for callers that name it themselves.
    """

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        super().__init__(f"{address!r} is not a usable address: {reason}")

    def __reduce__(self) -> tuple[type[InvalidAddressError], tuple[str, str]]:
        return (type(self), (self.address, self.reason))


class InvalidTokenError(NewsletterError, ValueError):
    """A token that is malformed (``forged`` False) or whose signature does not match (True)."""

    def __init__(self, message: str, *, forged: bool) -> None:
        super().__init__(message)
        self.forged = forged

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_token_error, (type(self), str(self), self.forged))


class ExpiredTokenError(InvalidTokenError):
    """A confirmation link used after ``confirm_hours``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, forged=False)


class PreferenceError(NewsletterError, ValueError):
    """A preferences form that is not one of ours (unknown field, weeks out of range)."""


class WebhookRejected(NewsletterError):
    """A request that fails its check; ``status`` is the HTTP status to answer."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class SecretMissingError(ConfigError):
    """An environment variable that holds a secret is unset."""


class StateDamagedError(StoreError):
    """The state database file is corrupt, truncated or not an SQLite database at all.

    Raised wherever the damage shows (on open, or in a query reaching a bad
    page), so every command stops with the same advice instead of a traceback.
    """

    def __init__(self, path: str, detail: str) -> None:
        self.path = str(path)
        self.detail = detail
        super().__init__(
            f"state database {path} is damaged ({detail}): run `syndicate state check`, "
            "or restore a backup with `syndicate state restore BACKUP`"
        )

    def __reduce__(self) -> tuple[type[StateDamagedError], tuple[str, str]]:
        return (type(self), (self.path, self.detail))


class TargetExistsError(StoreError):
    """A backup or restore would replace a file the caller did not say to replace."""


class DatabaseError(StoreError):
    """SQLite failed on the state database for a reason other than damage (locked too long, a bad query)."""


class ArchiveStateError(StoreError, ValueError):
    """The newsletter archive's state file in ``.syndicate/`` is unreadable (not JSON, or not our shape)."""


class LedgerWriteError(StoreError):
    """SQLite could not write the state database during a send (disk full, file size limit, I/O error).

    Raised before the message the step was for is sent, so nothing is ever
    recorded as sent that was not; the run stops, and the next one resumes.
    """

    def __init__(self, path: Path, action: str, reason: str) -> None:
        self.path = path
        self.action = action
        self.reason = reason
        super().__init__(f"{path}: cannot record {action}: {reason} (is the disk full?)")

    def __reduce__(self) -> tuple[type[LedgerWriteError], tuple[Path, str, str]]:
        return (type(self), (self.path, self.action, self.reason))


class WriteError(SyndicateError):
    """A file or folder cannot be written; the message names it.

    Subclasses say why, so the CLI can give each its own exit code. The
    arguments are kept for pickling: feed sets are written in forked workers.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        # An OSError from a bare file descriptor names no file: then the reason stands alone.
        super().__init__(f"{path}: {reason}" if path else reason)

    def __reduce__(self) -> tuple[type[WriteError], tuple[str, str]]:
        return (type(self), (self.path, self.reason))

    @staticmethod
    def from_os_error(path: str, exc: OSError) -> WriteError | None:
        """The WriteError an OSError from writing ``path`` stands for, or None if it is another failure."""
        if exc.errno in _DISK_FULL:
            return DiskFullError(path, f"disk full ({exc.strerror or 'no space left'}); nothing was half-written")
        if exc.errno in _NOT_WRITABLE or isinstance(exc, FileExistsError):
            return NotWritableError(path, f"cannot write here ({exc.strerror or exc}): check the folder's permissions")
        return None


class DiskFullError(WriteError):
    """No space left (ENOSPC), a file-size limit (EFBIG) or a quota (EDQUOT) stopped a write."""


class NotWritableError(WriteError):
    """The folder is read-only, not ours to write, or a path on the way is a file."""


def _rebuild_token_error(cls: type[InvalidTokenError], message: str, forged: bool) -> InvalidTokenError:
    # ExpiredTokenError takes no ``forged``: build without __init__, then set what it would have.
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.forged = forged
    return error


def as_syndicate_error(exc: BaseException) -> BaseException:
    """The :class:`SyndicateError` a low-level failure stands for, or ``exc`` itself when it is no such failure.

    An OSError from writing (outside :func:`~syndicate._atomicfile.write_atomic`:
    a library we call, a lock file) becomes :class:`DiskFullError` or
    :class:`NotWritableError` by its errno; an ``sqlite3.Error`` becomes
    :class:`DatabaseError`. The CLI calls this once, so every command reports a
    full disk or a database failure the same way.
    """
    if isinstance(exc, OSError) and not isinstance(exc, WriteError):
        translated = WriteError.from_os_error(str(exc.filename or ""), exc)
        if translated is not None:
            return translated
    if isinstance(exc, sqlite3.Error):
        return DatabaseError(str(exc))
    return exc


# EFBIG is what a file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) gives: for the operator it is a full disk.
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR}


# --- The list of outside sources (site.sources): changes that cannot be made as asked. ---


class SourceListError(SourceError):
    """A change to the list of sources was refused: a bad URL or value, or an unreadable OPML file.

    ``url`` names the source (or the file) at fault, as for every :class:`SourceError`.
    """


class DuplicateSourceError(SourceListError):
    """The source to add is already listed."""


class UnknownSourceError(SourceListError):
    """The source to remove is not listed."""
