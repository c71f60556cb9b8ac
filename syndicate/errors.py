"""Every exception syndicate raises, in one hierarchy.

Catch :class:`SyndicateError` to handle anything of ours; the subclasses say
which stage failed, and each message names the file, URL or key at fault.
"""

from __future__ import annotations

import errno


class SyndicateError(Exception):
    """Base class of every error syndicate raises on purpose."""


class ConfigError(SyndicateError):
    """``syndicate.toml`` is missing, unreadable, or has a bad key or value."""

    def __init__(self, message: str, *, file: str = "", key: str = "") -> None:
        self.file = file
        self.key = key
        where = ": ".join(part for part in (file, f"[{key}]" if key else "") if part)
        super().__init__(f"{where}: {message}" if where else message)


class ArticleError(SyndicateError):
    """An article file cannot be turned into an :class:`~syndicate.model.Article`."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        location = f"{path}:{line}" if line else path
        super().__init__(f"{location}: {message}")


class StoreError(SyndicateError):
    """The state database cannot be opened or migrated."""


class SourceError(SyndicateError):
    """An outside feed could not be fetched or parsed."""

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        self.reason = message
        super().__init__(f"{url}: {message}")


class NewsletterError(SyndicateError):
    """A newsletter issue cannot be selected, rendered or sent."""


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


class DeskImportError(ArticleError):
    """An import of plain-text desk copy cannot be done as asked (one ``slug`` for several files)."""
