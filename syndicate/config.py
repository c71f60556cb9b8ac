"""Load and validate ``syndicate.toml`` into a frozen :class:`Config`.

Each table of the file is a frozen dataclass below; its fields are the keys
that table accepts, with their defaults, and the field's ``doc`` metadata is
the documentation ``syndicate config`` prints. Unknown keys, wrong types and
bad values raise :class:`~syndicate.errors.ConfigError` naming the file and key.
Secrets never live in the file: only the *names* of environment variables do.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import io
import os
import re
import tomllib
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError, SecretMissingError

CONFIG_FILE = "syndicate.toml"


def _doc(text: str, check: Callable[[Any], str | None] | None = None) -> dict[str, Any]:
    """Field metadata: its documentation and an optional value check.

    The check returns an error message, or ``None`` when the value is fine.
    """
    return {"doc": text, "check": check}


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _not_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _http_url(value: Any) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an absolute http(s) URL, e.g. https://example.com"
    return None


def _hub_urls(value: Any) -> str | None:
    for url in value:
        problem = _http_url(url)
        if problem:
            return f"{url!r}: {problem}"
    return None


def _optional_http_url(value: Any) -> str | None:
    return _http_url(value) if value else None


def _optional_email(value: Any) -> str | None:
    return None if not value or "@" in str(value) else "must be an email address, e.g. news@example.com"


def _language(value: Any) -> str | None:
    # RFC 5646 in the shape feeds and the Atom schema accept: "en", "en-us", "pt-BR".
    if re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", str(value)):
        return None
    return "must be a language tag such as 'en' or 'en-GB'"


def _permalink(value: Any) -> str | None:
    try:
        path = str(value).format(slug="s", year="2026", month="01", day="01")
    except (KeyError, IndexError, ValueError) as exc:
        return f"unknown placeholder {exc} (use {{slug}}, {{year}}, {{month}}, {{day}})"
    if "{slug}" not in str(value):
        return "must contain {slug}, or every article would have the same URL"
    return None if path.startswith("/") else "must start with '/', e.g. '/{slug}/'"


def _timezone(value: Any) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown timezone {value!r} (use an IANA name such as 'Europe/London')"
    return None


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(map(repr, choices))}"

    return check


def _weekday(value: Any) -> str | None:
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return None if str(value).lower() in days else "must be a weekday name, e.g. 'thursday'"


def _clock(value: Any) -> str | None:
    hours, _, minutes = str(value).partition(":")
    if hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60:
        return None
    return "must be a time of day as HH:MM, e.g. '07:30'"


def _aspect(value: Any) -> str | None:
    width, _, height = str(value).partition(":")
    if width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0:
        return None
    return "must be width:height in whole numbers, e.g. '16:9'"


@dataclass(frozen=True)
class SiteConfig:
    """``[site]``: who publishes and where."""

    title: str = field(default="", metadata=_doc("The publication's name (required)."))
    url: str = field(default="", metadata=_doc("The site's public base URL (required).", _http_url))
    language: str = field(default="en", metadata=_doc("Language code of the feeds (RFC 5646).", _language))
    timezone: str = field(default="UTC", metadata=_doc("IANA timezone for naive dates and ISO weeks.", _timezone))
    description: str = field(default="", metadata=_doc("One-line description for the feeds."))
    permalink: str = field(
        default="/{slug}/",
        metadata=_doc("Path of an article page; {slug}, {year}, {month}, {day} are filled in.", _permalink),
    )
    content_dir: str = field(default="content", metadata=_doc("Folder of the articles."))
    templates_dir: str = field(default="templates", metadata=_doc("Folder of template overrides."))
    state_dir: str = field(default=".syndicate", metadata=_doc("Folder of the state database."))

    @property
    def tz(self) -> ZoneInfo:
        """The site's timezone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    @property
    def domain(self) -> str:
        """The host name of the site URL, used in tag URIs."""
        return urlsplit(self.url).hostname or ""

    @property
    def base_url(self) -> str:
        """The site URL without a trailing slash."""
        return self.url.rstrip("/")


@dataclass(frozen=True)
class FeedsConfig:
    """``[feeds]``: the feeds ``syndicate build`` writes."""

    output_dir: str = field(default="public", metadata=_doc("Output folder of `build`."))
    limit: int = field(default=50, metadata=_doc("Items per feed, newest first.", _positive))
    ttl: int = field(default=60, metadata=_doc("RSS <ttl>: minutes readers may cache a feed.", _positive))
    full_content: bool = field(default=True, metadata=_doc("Put the whole article in feeds."))
    tag_feeds: bool = field(default=True, metadata=_doc("Write tags/<tag>/ feeds."))
    author_feeds: bool = field(default=True, metadata=_doc("Write authors/<author>/ feeds."))
    stylesheet: bool = field(
        default=True,
        metadata=_doc(
            "Link stylesheets (XSL, and CSS where a browser has no XSLT) so a feed opened in a browser reads."
        ),
    )
    websub_hubs: list[str] = field(
        default_factory=list,
        metadata=_doc("WebSub hubs: advertised in every feed, and told after a build which feeds changed.", _hub_urls),
    )
    subscribe_page: bool = field(
        default=True, metadata=_doc("Write feeds/index.html: every feed in its three formats, to subscribe from.")
    )


@dataclass(frozen=True)
class SourcesConfig:
    """``[sources]``: outside feeds merged into film-news."""

    opml: str = field(default="feeds/sources.opml", metadata=_doc("The OPML list of sources."))
    concurrency: int = field(default=16, metadata=_doc("Requests in flight.", _positive))
    per_host: int = field(default=2, metadata=_doc("Requests in flight per host.", _positive))
    timeout: float = field(default=20.0, metadata=_doc("Seconds per request.", _positive))
    max_bytes: int = field(default=10_000_000, metadata=_doc("Largest response body, decoded.", _positive))
    keywords: list[str] = field(
        default_factory=list,
        metadata=_doc("Keep only entries mentioning one of these (empty: keep all)."),
    )
    max_per_source: int = field(default=10, metadata=_doc("Most entries per source in a window.", _positive))
    max_entries_per_fetch: int = field(
        default=1000, metadata=_doc("Most entries kept from one fetch of a source (the newest).", _positive)
    )
    retention_days: int = field(default=90, metadata=_doc("Days outside entries are kept.", _positive))
    merged_limit: int = field(default=100, metadata=_doc("Items in the film-news feeds.", _positive))
    max_redirects: int = field(default=5, metadata=_doc("Redirects followed per request.", _not_negative))
    moved_after_runs: int = field(
        default=3, metadata=_doc("Runs a permanent redirect must hold before the OPML URL is updated.", _positive)
    )
    backoff_minutes: float = field(
        default=30.0, metadata=_doc("Wait after the first failure; doubles with each further one.", _positive)
    )
    backoff_max_hours: float = field(default=24.0, metadata=_doc("Longest wait between failing runs.", _positive))
    max_wait_days: float = field(
        default=7.0,
        metadata=_doc("Ceiling on any wait before the next attempt, including a server's Retry-After.", _positive),
    )
    allow_private: bool = field(
        default=False,
        metadata=_doc("Fetch from loopback, private and link-local addresses too (intranet feeds)."),
    )
    dedupe_days: float = field(
        default=3.0, metadata=_doc("Near-duplicate titles this many days apart are one story.", _positive)
    )
    title_similarity: float = field(
        default=90.0, metadata=_doc("rapidfuzz token-set ratio (0-100) at which titles are the same story.", _positive)
    )
    parse_workers: int = field(
        default=0, metadata=_doc("Processes that parse feeds in big runs (0: one per core).", _not_negative)
    )
    film_news: bool = field(default=True, metadata=_doc("Write the merged film-news/ feeds in `build`."))


@dataclass(frozen=True)
class RelatedConfig:
    """``[related]``: how related stories are scored."""

    count: int = field(default=5, metadata=_doc("Related stories per article.", _positive))
    text_weight: float = field(default=1.0, metadata=_doc("Weight of text similarity.", _not_negative))
    tag_weight: float = field(default=0.3, metadata=_doc("Weight of shared rare tags.", _not_negative))
    name_weight: float = field(default=0.5, metadata=_doc("Weight of shared names in titles.", _not_negative))
    author_weight: float = field(default=0.05, metadata=_doc("Bonus for the same author.", _not_negative))
    recency_weight: float = field(default=0.15, metadata=_doc("Weight of the recency preference.", _not_negative))
    half_life_days: float = field(default=60.0, metadata=_doc("Recency half-life in days.", _positive))
    distinctive_terms: int = field(
        default=40, metadata=_doc("Highest-weighted terms kept per article for matching.", _positive)
    )
    candidates: int = field(default=40, metadata=_doc("Candidates per article scored exactly.", _positive))
    feed_links: int = field(default=3, metadata=_doc("Related links per Atom entry (0: none).", _not_negative))
    workers: int = field(default=0, metadata=_doc("Processes for large collections (0: one per core).", _not_negative))


@dataclass(frozen=True)
class NewsletterConfig:
    """``[newsletter]``: the weekly email."""

    send_weekday: str = field(default="friday", metadata=_doc("Day the issue is due.", _weekday))
    send_time: str = field(default="07:00", metadata=_doc("Time (site timezone) it is due.", _clock))
    max_stories: int = field(default=8, metadata=_doc("Most stories in an issue.", _positive))
    related_count: int = field(default=3, metadata=_doc("Related stories per story.", _positive))
    around_the_web: int = field(default=6, metadata=_doc("Outside stories in 'Around the web'.", _not_negative))
    around_the_web_per_source: int = field(default=2, metadata=_doc("Outside stories per source.", _positive))
    utm: bool = field(default=True, metadata=_doc("Add UTM parameters to our links."))
    utm_source: str = field(default="newsletter", metadata=_doc("utm_source value."))
    utm_medium: str = field(default="email", metadata=_doc("utm_medium value."))
    postal_address: str = field(default="", metadata=_doc("Postal address in the footer."))
    list_id: str = field(default="", metadata=_doc("List-Id, e.g. weekly.example.com."))
    unsubscribe_url: str = field(
        default="", metadata=_doc("Base URL of the unsubscribe app (default: <site url>/unsubscribe).")
    )
    unsubscribe_mailto: str = field(default="", metadata=_doc("Address for mailto unsubscribes."))
    subscribe_url: str = field(
        default="", metadata=_doc("Public URL of the sign-up endpoint (default: <site url>/subscribe).")
    )
    confirm_url: str = field(
        default="", metadata=_doc("Public URL of the sign-up confirmation page (default: <site url>/confirm).")
    )
    confirm_hours: int = field(default=48, metadata=_doc("Hours a sign-up confirmation link stays valid.", _positive))
    signups_per_ip_hour: int = field(
        default=20, metadata=_doc("Sign-up requests one client address may make per hour.", _positive)
    )
    client_ip_header: str = field(
        default="",
        metadata=_doc("Header your reverse proxy sets to the client's address, e.g. X-Forwarded-For (empty: none)."),
    )
    rate_per_second: float = field(default=0.0, metadata=_doc("Most messages a second (0: no limit).", _not_negative))
    max_bounces: int = field(default=3, metadata=_doc("Hard bounces before an address is suppressed.", _positive))
    retry_minutes: float = field(
        default=30.0, metadata=_doc("Wait before retrying a deferred (4xx) recipient; doubles each time.", _positive)
    )
    max_attempts: int = field(default=6, metadata=_doc("Tries per recipient before a deferral is given up.", _positive))
    utm_campaign: str = field(
        default="{week}", metadata=_doc("utm_campaign value; {week} is the issue's week, e.g. 2026-W47.")
    )
    archive_url: str = field(
        default="", metadata=_doc("Public URL of the issue archive (default: <site url>/newsletter/).")
    )
    image_aspect: str = field(
        default="16:9", metadata=_doc("Width:height of the space kept for story images, e.g. '3:2'.", _aspect)
    )
    verp_address: str = field(
        default="",
        metadata=_doc(
            "Bounce address, e.g. bounces@example.com: each message's envelope sender becomes "
            "bounces+<signed id>@example.com (empty: the From address, no VERP).",
            _optional_email,
        ),
    )
    verp_separator: str = field(
        default="+", metadata=_doc("Character between the bounce address and the signed id.", _one_of("+", "-", "="))
    )
    catch_up: str = field(
        default="digest",
        metadata=_doc(
            "After missed send days: 'digest' (one issue of every missed week), 'latest' or 'each'.",
            _one_of("digest", "latest", "each"),
        ),
    )
    secret_file: str = field(
        default="",
        metadata=_doc("A dotenv file (KEY=value lines) of secrets, read when they are not in the environment."),
    )


@dataclass(frozen=True)
class SmtpConfig:
    """``[smtp]``: the mail relay. The password comes from ``password_env``."""

    host: str = field(default="localhost", metadata=_doc("SMTP host."))
    port: int = field(default=587, metadata=_doc("SMTP port.", _positive))
    security: str = field(
        default="starttls",
        metadata=_doc("'starttls', 'tls' or 'none'.", _one_of("starttls", "tls", "none")),
    )
    username: str = field(default="", metadata=_doc("Login name (empty: no login)."))
    password_env: str = field(
        default="SYNDICATE_SMTP_PASSWORD",
        metadata=_doc("Name of the environment variable holding the password."),
    )
    from_: str = field(default="", metadata=_doc("From address, e.g. 'Site <news@example.com>'."))
    timeout: float = field(default=30.0, metadata=_doc("Seconds per SMTP command.", _positive))
    dkim_selector: str = field(
        default="", metadata=_doc("DKIM selector; with dkim_key_file, every message is signed (empty: no DKIM).")
    )
    dkim_key_file: str = field(
        default="", metadata=_doc("PEM file of the DKIM private key (RSA, 2048 bits), relative to the site folder.")
    )
    dkim_domain: str = field(default="", metadata=_doc("DKIM signing domain (default: the From address's domain)."))

    def password(self) -> str:
        """The password from the environment; raises if a username is set and it is missing."""
        value = os.environ.get(self.password_env, "")
        if self.username and not value:
            raise SecretMissingError(f"environment variable {self.password_env} is not set", key="smtp.password_env")
        return value


def _host_list(value: Any) -> str | None:
    bad = [host for host in value if not re.fullmatch(r"[A-Za-z0-9.-]+", host)]
    return f"not host names: {', '.join(map(repr, bad))}" if bad else None


@dataclass(frozen=True)
class BouncesConfig:
    """``[bounces]``: where bounce and complaint mail arrives, and how addresses are suppressed."""

    host: str = field(default="", metadata=_doc("IMAP host of the bounce mailbox (empty: use --maildir)."))
    port: int = field(default=993, metadata=_doc("IMAP port (993 for tls, 143 for starttls).", _positive))
    security: str = field(
        default="tls",
        metadata=_doc(
            "'tls', 'starttls', or 'none' (allowed only for a loopback host, e.g. in tests).",
            _one_of("tls", "starttls", "none"),
        ),
    )
    ca_file: str = field(
        default="", metadata=_doc("PEM file of CA certificates to trust for IMAP TLS (empty: the system's).")
    )
    user: str = field(default="", metadata=_doc("IMAP login name."))
    password_env: str = field(
        default="SYNDICATE_BOUNCES_PASSWORD", metadata=_doc("Name of the environment variable holding the password.")
    )
    folder: str = field(default="INBOX", metadata=_doc("Folder the bounces arrive in."))
    processed_folder: str = field(default="Processed", metadata=_doc("Folder processed messages are moved to."))
    timeout: float = field(default=30.0, metadata=_doc("Seconds per IMAP command.", _positive))
    soft_bounce_limit: int = field(
        default=3, metadata=_doc("Soft bounces (mailbox full, ...) before an address is suppressed.", _positive)
    )
    max_messages: int = field(default=1000, metadata=_doc("Most messages read in one run.", _positive))
    sns_topic_arns: list[str] = field(
        default_factory=list, metadata=_doc("SNS topics whose SES notifications are accepted (empty: any topic).")
    )
    sns_region: str = field(default="us-east-1", metadata=_doc("AWS region of the SNS topic."))
    sns_cert_hosts: list[str] = field(
        default_factory=list,
        metadata=_doc(
            "Hosts SNS signing certificates may come from (default: sns.<sns_region>.amazonaws.com).", _host_list
        ),
    )
    postmark_user_env: str = field(
        default="SYNDICATE_POSTMARK_USER", metadata=_doc("Environment variable holding the Postmark webhook user.")
    )
    postmark_password_env: str = field(
        default="SYNDICATE_POSTMARK_PASSWORD",
        metadata=_doc("Environment variable holding the Postmark webhook password."),
    )
    sendgrid_public_key_env: str = field(
        default="SYNDICATE_SENDGRID_PUBLIC_KEY",
        metadata=_doc("Environment variable holding SendGrid's verification key (base64 DER, ECDSA P-256)."),
    )
    sendgrid_tolerance_seconds: int = field(
        default=300, metadata=_doc("Oldest SendGrid webhook timestamp accepted, in seconds.", _positive)
    )

    def password(self) -> str:
        """The IMAP password from the environment; raises if it is missing."""
        value = os.environ.get(self.password_env, "")
        if not value:
            raise SecretMissingError(f"environment variable {self.password_env} is not set", key="bounces.password_env")
        return value

    @property
    def cert_hosts(self) -> list[str]:
        return self.sns_cert_hosts or [f"sns.{self.sns_region}.amazonaws.com"]


@dataclass(frozen=True)
class AuthorConfig:
    """``[authors.<slug>]``: optional details of an author."""

    name: str = field(default="", metadata=_doc("Display name."))
    bio: str = field(default="", metadata=_doc("Short biography."))
    email: str = field(default="", metadata=_doc("Public email address.", _optional_email))
    url: str = field(default="", metadata=_doc("Author page URL.", _optional_http_url))


# TOML key -> Python field name where the key is a Python keyword.
_KEY_ALIASES = {"from": "from_"}


@dataclass(frozen=True)
class Config:
    """The whole of ``syndicate.toml``, validated. ``root`` is the site folder."""

    root: Path
    site: SiteConfig
    feeds: FeedsConfig = field(default_factory=FeedsConfig)
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    related: RelatedConfig = field(default_factory=RelatedConfig)
    newsletter: NewsletterConfig = field(default_factory=NewsletterConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    bounces: BouncesConfig = field(default_factory=BouncesConfig)
    authors: dict[str, AuthorConfig] = field(default_factory=dict)
    source_hash: str = ""

    def path(self, relative: str) -> Path:
        """A path of the site, resolved against the site folder."""
        return (self.root / relative).resolve()

    @property
    def output_dir(self) -> Path:
        return self.path(self.feeds.output_dir)

    @property
    def content_dir(self) -> Path:
        return self.path(self.site.content_dir)

    @property
    def state_dir(self) -> Path:
        return self.path(self.site.state_dir)

    @property
    def database_path(self) -> Path:
        return self.state_dir / "state.sqlite3"


SECTIONS: dict[str, type] = {
    "site": SiteConfig,
    "feeds": FeedsConfig,
    "sources": SourcesConfig,
    "related": RelatedConfig,
    "newsletter": NewsletterConfig,
    "smtp": SmtpConfig,
    "bounces": BouncesConfig,
}


def _type_name(tp: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        tp, "a list of strings" if typing.get_origin(tp) is list else str(tp)
    )


def _coerce(value: Any, tp: Any) -> Any:
    """Return ``value`` as type ``tp``, or raise ``TypeError``."""
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is bool or tp is int:
        if isinstance(value, tp) and (tp is bool or not isinstance(value, bool)):
            return value
        raise TypeError
    if typing.get_origin(tp) is list:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        raise TypeError
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise TypeError


def _build_section(cls: type, table: Any, file: str, prefix: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError("must be a table", file=file, key=prefix)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for raw_key, value in table.items():
        name = _KEY_ALIASES.get(raw_key, raw_key)
        key = f"{prefix}.{raw_key}"
        if name not in fields or (name.endswith("_") and raw_key == name):
            known = [k.rstrip("_") for k in fields]
            close = difflib.get_close_matches(raw_key, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"unknown key{hint}", file=file, key=key)
        try:
            coerced = _coerce(value, hints[name])
        except TypeError:
            raise ConfigError(f"must be {_type_name(hints[name])}, not {value!r}", file=file, key=key) from None
        check = fields[name].metadata.get("check")
        problem = check(coerced) if check else None
        if problem:
            raise ConfigError(problem, file=file, key=key)
        values[name] = coerced
    return cls(**values)


def parse_config(data: dict[str, Any], root: Path, file: str = CONFIG_FILE) -> Config:
    """Validate a parsed TOML document into a :class:`Config`."""
    sections: dict[str, Any] = {}
    authors: dict[str, AuthorConfig] = {}
    for name, table in data.items():
        if name == "authors":
            if not isinstance(table, dict):
                raise ConfigError("must be a table of [authors.<slug>] tables", file=file, key=name)
            for slug, author in table.items():
                authors[slug] = _build_section(AuthorConfig, author, file, f"authors.{slug}")
            continue
        if name not in SECTIONS:
            close = difflib.get_close_matches(name, [*SECTIONS, "authors"], n=1)
            hint = f" (did you mean '[{close[0]}]'?)" if close else ""
            raise ConfigError(f"unknown table{hint}", file=file, key=name)
        sections[name] = _build_section(SECTIONS[name], table, file, name)
    site = sections.get("site")
    if site is None or not site.title:
        raise ConfigError("is required", file=file, key="site.title")
    if not site.url:
        raise ConfigError("is required", file=file, key="site.url")
    digest = hashlib.sha256(repr(sorted(data.items(), key=lambda kv: kv[0])).encode()).hexdigest()
    return Config(root=root.resolve(), authors=authors, source_hash=digest, **sections)


def load_config(site_dir: str | os.PathLike[str] = ".") -> Config:
    """Read and validate ``syndicate.toml`` in ``site_dir``."""
    root = Path(site_dir)
    path = root / CONFIG_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no {CONFIG_FILE} here; is this a site folder?", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8: {exc}", file=str(path)) from None
    return parse_config(data, root, str(path))


SECRET_FILE_ENV = "SYNDICATE_SECRET_FILE"


def secret_file(config: Config, env_file: str | os.PathLike[str] | None = None) -> Path | None:
    """The dotenv file secrets come from: ``--env-file``, else ``$SYNDICATE_SECRET_FILE``, else the config's."""
    if env_file:
        return Path(env_file).expanduser()
    if os.environ.get(SECRET_FILE_ENV):
        return Path(os.environ[SECRET_FILE_ENV]).expanduser()
    if config.newsletter.secret_file:
        return config.path(os.path.expanduser(config.newsletter.secret_file))
    return None


def load_secret_files(config: Config, env_file: str | os.PathLike[str] | None = None) -> list[str]:
    """Put the variables of the secret file into ``os.environ``; return the names set.

    One file is read, the first named of ``env_file``, ``$SYNDICATE_SECRET_FILE``
    and ``[newsletter] secret_file``. A variable already in the environment
    wins over the file (so ``export`` still overrides). Cron starts jobs with a
    bare environment: this is how ``SYNDICATE_SECRET`` and the SMTP password
    reach a job without a wrapper script. The format is dotenv: ``KEY=value``
    lines (an ``export`` prefix and quotes are allowed, ``#`` starts a
    comment), which a shell can also source.
    """
    from dotenv import dotenv_values  # imported here: most commands never read a secret file

    path = secret_file(config, env_file)
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretMissingError(f"secret file {path} does not exist", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretMissingError(f"secret file {path} cannot be read: {exc}", file=str(path)) from None
    set_names: list[str] = []
    for name, value in dotenv_values(stream=io.StringIO(text)).items():
        if value is None or not name or name in os.environ:
            continue
        os.environ[name] = value
        set_names.append(name)
    return set_names


def documented_keys() -> list[tuple[str, str, str, str]]:
    """(key, type, default, doc) for every key, for ``syndicate config --keys`` and the README."""
    rows = []
    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc,operator]
            key = f"{section}.{f.name.rstrip('_')}"
            rows.append((key, _type_name(hints[f.name]), repr(default), f.metadata.get("doc", "")))
    hints = typing.get_type_hints(AuthorConfig)
    for f in dataclasses.fields(AuthorConfig):
        rows.append((f"authors.<slug>.{f.name}", _type_name(hints[f.name]), repr(f.default), f.metadata.get("doc", "")))
    return rows


def config_table_markdown() -> str:
    """The README's "Configuration" table, generated from :func:`documented_keys`."""
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, type_name, default, doc in documented_keys():
        lines.append(f"| `{key}` | {type_name} | `{default}` | {doc.replace('|', chr(92) + '|')} |")
    return "\n".join(lines)
