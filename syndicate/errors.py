"""Every exception syndicate raises, in one hierarchy.

Catch :class:`SyndicateError` to handle anything of ours; the subclasses say
which stage failed, and each message names the file, URL or key at fault.
"""

from __future__ import annotations


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
