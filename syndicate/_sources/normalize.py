"""Turning raw feed entries into clean :class:`~syndicate._model.OutsideEntry` objects.

Everything from outside is untrusted: titles become plain text, URLs are
resolved against the feed and stripped of tracking parameters, summaries are
sanitised with nh3 (no script, style, event handlers, javascript: URLs or
tracking pixels; links get ``rel="noopener nofollow"``) and cut down to a
summary, never the full outside text. Dates become aware datetimes: a date
written without a zone is read in the source's timezone (feedparser would
assume UTC), a future date is clamped to now, and a missing one is left for
the first-seen time to stand in.

Outside text crosses the boundary of :mod:`syndicate._textguard` here: every
field loses the characters XML cannot carry (one ``&#1;`` in a title would
otherwise stop every build for as long as the entry is kept) and is capped in
length (a five-million-character title is an attack, not a headline). Each
change is counted and reported in the source's problems, never made silently.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import nh3

from .._model import Image, OutsideEntry, Source
from .._textguard import capped, has_forbidden, whole_number, xml_safe
from .parse import ParsedFeed, RawEntry

TRACKING_PARAMETER = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|twclid|mc_cid|mc_eid|igshid|_hsenc|_hsmi|"
    r"mkt_tok|oly_anon_id|oly_enc_id|vero_id|vero_conv|__s|ref_src|_ga|_gl|ncid|cmpid|sr_share|spm)$",
    re.IGNORECASE,
)
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "em", "figcaption", "figure", "i", "img",
    "li", "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}, "abbr": {"title"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Known hit counters and read-receipt beacons, whatever size they claim.
TRACKER_SOURCE = re.compile(
    r"feeds\.feedburner\.com/~r/|/~/i/|stats\.wordpress\.com|pixel\.|/pixel[./?]|/beacon[./?]|/track(?:ing)?/open|"
    r"doubleclick\.net|google-analytics\.com|/1x1\.|/spacer\.gif",
    re.IGNORECASE,
)
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_WHITESPACE = re.compile(r"\s+")
_BLOCK_TAG = re.compile(r"</?(?:p|br|li|ul|ol|blockquote|figure|figcaption|pre|img)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
# A zone at the end of a date: Z, +02:00, -0500, GMT, EST, ...
_HAS_ZONE = re.compile(r"(?:[zZ]|[+-]\d{2}:?\d{2}|\b[A-Za-z]{1,5})\s*$")
_TIME_IN_TEXT = re.compile(r"\d{1,2}:\d{2}")
SUMMARY_TEXT_LIMIT = 1000  # characters of text; beyond this it is an article, not a summary
SNIPPET_LENGTH = 300
# Caps on outside fields. Real headlines, bylines and links are far shorter;
# the caps only bound what a hostile or broken feed can make us store and send.
TITLE_LIMIT = 1_000
AUTHOR_LIMIT = 200
URL_LIMIT = 2_048  # longer links are dropped, not cut: a cut URL points somewhere else
SUMMARY_HTML_LIMIT = 100_000  # markup of a summary; beyond this only its text snippet is kept
ID_LIMIT = 2_048  # longer GUIDs are replaced by a hash of themselves
MAX_ENTRIES_PER_FETCH = 1_000
MIN_YEAR, MAX_YEAR = 1970, 9000


def _scheme(url: str) -> str:
    """The lower-case scheme of ``url``; empty for a URL Python cannot even split."""
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""


@dataclass(frozen=True, slots=True)
class NormalizedFeed:
    """A source's entries, normalised, with the problems met on the way."""

    entries: tuple[tuple[OutsideEntry, bool], ...] = ()  # (entry, the feed gave a date)
    problems: tuple[str, ...] = field(default_factory=tuple)


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment, entities decoded, whitespace collapsed."""
    text = nh3.clean(xml_safe(fragment), tags=set(), clean_content_tags={"script", "style"})
    return _WHITESPACE.sub(" ", xml_safe(html.unescape(text))).strip()


def canonical_url(url: str, base: str = "") -> str | None:
    """``url`` resolved against ``base``, without tracking parameters, fragment, default port.

    Returns ``None`` for anything that is not an absolute http(s) URL
    (``javascript:``, ``data:``, a bare path without a base), and for
    anything longer than :data:`URL_LIMIT` or holding characters XML cannot carry.
    """
    if len(url) > URL_LIMIT or has_forbidden(url):
        return None
    try:
        parts = urlsplit(urljoin(base, url.strip()))
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != (443 if scheme == "https" else 80):
        host = f"{host}:{port}"
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and not TRACKING_PARAMETER.match(pair.split("=", 1)[0])
    )
    canonical = urlunsplit((scheme, host, parts.path or "/", query, ""))
    return canonical if len(canonical) <= URL_LIMIT and not has_forbidden(canonical) else None


def _attribute_filter(base: str) -> Callable[[str, str, str], str | None]:
    def check(tag: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src"):
            if value.strip().lower().startswith("mailto:") and tag == "a":
                return value
            return canonical_url(value, base) if attribute == "href" else _absolute(value, base)
        if attribute in ("width", "height"):
            return value if whole_number(value.strip(), 5) is not None else None
        return capped(value, TITLE_LIMIT)[0]

    return check


def _absolute(url: str, base: str) -> str | None:
    if len(url) > URL_LIMIT or has_forbidden(url):
        return None
    try:
        resolved = urljoin(base, url.strip())
    except ValueError:
        return None
    try:
        scheme = urlsplit(resolved).scheme.lower()
    except ValueError:
        return None
    if len(resolved) > URL_LIMIT or has_forbidden(resolved):
        return None
    return resolved if scheme in ("http", "https") else None


def _is_tracking_image(attributes: dict[str, str]) -> bool:
    if attributes.get("width", "").strip() in ("0", "1") or attributes.get("height", "").strip() in ("0", "1"):
        return True
    source = attributes.get("src", "")
    return not source or bool(TRACKER_SOURCE.search(source))


def _drop_tracking_images(fragment: str) -> str:
    def replace(match: re.Match[str]) -> str:
        attributes = dict(_ATTRIBUTE.findall(match.group(0)))
        return "" if _is_tracking_image(attributes) else match.group(0)

    return _IMG_TAG.sub(replace, fragment)


def sanitize_summary(fragment: str, base: str) -> str:
    """Safe summary HTML: allowed tags only, URLs absolute, no trackers, links nofollow.

    A summary longer than a summary (a full article in ``description``) is
    cut to a plain-text snippet: the full outside text is never republished.
    """
    return summary_and_text(fragment, base)[0]


def summary_and_text(fragment: str, base: str) -> tuple[str, str]:
    """The sanitised summary (see :func:`sanitize_summary`) and its plain text."""
    if not fragment.strip():
        return "", ""
    cleaned = nh3.clean(
        xml_safe(fragment),
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "noscript", "template"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener nofollow",
        strip_comments=True,
        attribute_filter=_attribute_filter(base),
    )
    if "<img" in cleaned:
        cleaned = _drop_tracking_images(cleaned)
    cleaned = cleaned.strip()
    # nh3's output is well-formed, so its text is its tags dropped: no second parse needed.
    text = _WHITESPACE.sub(" ", html.unescape(_TAG.sub("", _BLOCK_TAG.sub(" ", cleaned)))).strip()
    if has_forbidden(cleaned) or has_forbidden(text):
        # An entity such as &#1; survives sanitising as text; removing it leaves the markup well-formed.
        cleaned, text = xml_safe(cleaned), xml_safe(text)
    if not text and "<img" not in cleaned:
        return "", ""
    if len(text) > SUMMARY_TEXT_LIMIT or len(cleaned) > SUMMARY_HTML_LIMIT:
        short = snippet(text)
        return f"<p>{html.escape(short, quote=False)}</p>", short
    return cleaned, text


def snippet(text: str, length: int = SNIPPET_LENGTH) -> str:
    """The first ``length`` characters of ``text``, cut at a word, with an ellipsis."""
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0].rstrip(",;:.") + "\u2026"


def entry_date(raw: RawEntry, zone: ZoneInfo) -> datetime | None:
    """The entry's date as an aware datetime; zone-less dates are read in ``zone``."""
    if raw.date_utc is None or len(raw.date_utc) < 6:
        return None
    year, month, day, hour, minute, second = raw.date_utc[:6]
    # Years outside these bounds are typos or attacks, and near the ends of
    # datetime's range a zone conversion would overflow.
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        moment = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    text = raw.date_text.strip()
    # feedparser reads "2026-11-02T10:00:00" as 10:00 UTC; its wall-clock
    # fields are the ones written, so reattach the zone the source writes in.
    if text and not _HAS_ZONE.search(text[-64:]) and zone.key != "UTC":
        moment = moment.replace(tzinfo=zone).astimezone(UTC)
    return moment


def content_id(title: str, summary_text: str) -> str:
    """Identity of an entry with neither GUID nor link: a hash of what it says."""
    digest = hashlib.sha256(f"{title}\n{summary_text}".encode()).hexdigest()
    return f"urn:syndicate:sha256:{digest[:32]}"


def credit_url(source: Source, feed: ParsedFeed) -> str:
    """Where to credit a story from: the feed's own http(s) URL, else its site."""
    for candidate in (source.url, feed.self_url, source.html_url, feed.link):
        if candidate and len(candidate) <= URL_LIMIT and _scheme(candidate) in ("http", "https"):
            return xml_safe(candidate)
    return xml_safe(source.url)


def _image(raw: RawEntry, summary_html: str, base: str) -> Image | None:
    candidates = list(raw.images)
    for match in _IMG_TAG.finditer(summary_html):
        attributes = dict(_ATTRIBUTE.findall(match.group(0)))
        if not _is_tracking_image(attributes):
            candidates.append(attributes.get("src", ""))
    for candidate in candidates:
        url = _absolute(candidate, base) if candidate else None
        if url and not TRACKER_SOURCE.search(url):
            lower = url.split("?", 1)[0].lower()
            kind = "image/png" if lower.endswith(".png") else "image/webp" if lower.endswith(".webp") else "image/jpeg"
            return Image(url=url, mime_type=kind)
    return None


def newest_entries(entries: tuple[RawEntry, ...], limit: int) -> tuple[RawEntry, ...]:
    """The ``limit`` newest of ``entries``, in feed order; undated entries count as newest.

    Undated entries will be dated by their first-seen time (now), so they are
    the newest the stream will see; among equals the feed's own order decides.
    """
    if len(entries) <= limit:
        return entries
    newest_first = sorted(
        range(len(entries)),
        key=lambda index: (entries[index].date_utc is not None, _date_key(entries[index]), index),
    )
    return tuple(entries[index] for index in sorted(newest_first[:limit]))


def _date_key(raw: RawEntry) -> tuple[int, ...]:
    # Negated so that ascending order is newest first; bounded so a hostile tuple cannot mislead the sort.
    return tuple(-max(-(10**6), min(int(part), 10**6)) for part in (raw.date_utc or ())[:6])


def _entry_id(guid: str) -> str:
    """An outside GUID fit to store and republish: XML-safe, and hashed when absurdly long."""
    guid = xml_safe(guid).strip()
    if len(guid) > ID_LIMIT:
        return f"urn:syndicate:sha256:{hashlib.sha256(guid.encode('utf-8', 'replace')).hexdigest()[:32]}"
    return guid


@dataclass
class _Tally:
    """How many entries each guard changed, for one line per kind in the source's problems."""

    cleaned: int = 0
    titles_cut: int = 0
    authors_cut: int = 0
    links_dropped: int = 0
    ids_hashed: int = 0

    def notes(self) -> list[str]:
        notes = []
        if self.cleaned:
            notes.append(f"{self.cleaned} entries held characters XML cannot carry (control characters); removed")
        if self.titles_cut:
            notes.append(f"{self.titles_cut} titles were longer than {TITLE_LIMIT} characters; cut")
        if self.authors_cut:
            notes.append(f"{self.authors_cut} author names were longer than {AUTHOR_LIMIT} characters; cut")
        if self.links_dropped:
            notes.append(f"{self.links_dropped} links were longer than {URL_LIMIT} characters; dropped")
        if self.ids_hashed:
            notes.append(f"{self.ids_hashed} GUIDs were longer than {ID_LIMIT} characters; replaced by their hash")
        return notes


def _raw_has_forbidden(raw: RawEntry) -> bool:
    return any(has_forbidden(text) for text in (raw.title, raw.summary, raw.content, raw.author, raw.link, raw.guid))


def normalize_feed(
    feed: ParsedFeed,
    source: Source,
    now: datetime,
    default_zone: str = "UTC",
    max_entries: int = MAX_ENTRIES_PER_FETCH,
) -> NormalizedFeed:
    """Every usable entry of ``feed`` as an :class:`OutsideEntry`; one bad entry never stops the rest.

    At most ``max_entries`` are kept, the newest: a feed of a hundred thousand
    items is a mistake or an attack, and either way it must not flood the stream.
    """
    problems: list[str] = []
    zone = ZoneInfo(source.timezone or default_zone)
    feed_base = feed.self_url if _scheme(feed.self_url) in ("http", "https") else ""
    feed_base = feed_base or (feed.url if _scheme(feed.url) in ("http", "https") else "") or feed.link
    feed_base = "" if len(feed_base) > URL_LIMIT or has_forbidden(feed_base) else feed_base
    source_title = capped(source.title or plain_text(feed.title) or source.url, TITLE_LIMIT)[0]
    source_url = credit_url(source, feed)
    fallback_link = canonical_url(feed.link, feed_base) or canonical_url(source.html_url) or ""
    seen: set[str] = set()
    duplicates = future = skipped = 0
    tally = _Tally()
    result: list[tuple[OutsideEntry, bool]] = []
    raws = newest_entries(feed.entries, max_entries)
    if len(raws) < len(feed.entries):
        problems.append(
            f"the feed holds {len(feed.entries)} entries; only the newest {max_entries} were kept "
            "([sources] max_entries_per_fetch)"
        )
    for raw in raws:
        if _raw_has_forbidden(raw):
            tally.cleaned += 1
        try:
            base = urljoin(feed_base, raw.base) if raw.base and len(raw.base) <= URL_LIMIT else feed_base
        except ValueError:
            base = feed_base
        link = canonical_url(raw.link, base) if raw.link else None
        if raw.link and link is None and len(raw.link) > URL_LIMIT:
            tally.links_dropped += 1
        if link is None and raw.guid and raw.guid.startswith(("http://", "https://")):
            link = canonical_url(raw.guid)
        summary_source = raw.summary or raw.content
        summary, summary_text = summary_and_text(summary_source, base)
        title = plain_text(raw.title) if raw.title_is_html else _WHITESPACE.sub(" ", xml_safe(raw.title)).strip()
        if not title:
            title = snippet(summary_text, 80)
        title, cut = capped(title, TITLE_LIMIT) if title else (title, False)
        tally.titles_cut += cut
        if not title or not (link or fallback_link):
            skipped += 1
            continue
        # Identity: the GUID, else (an RSS item without guid gets no id from
        # feedparser) the canonical link, else a hash of the content.
        guid = _entry_id(raw.guid) if raw.guid else ""
        tally.ids_hashed += len(guid) < len(raw.guid.strip()) and guid.startswith("urn:syndicate:sha256:")
        identity = guid or link or content_id(title, summary_text)
        if identity in seen:
            duplicates += 1
            continue
        seen.add(identity)
        published = entry_date(raw, zone)
        dated = published is not None
        if published is not None and published > now:
            future += 1
            published = now
        author = plain_text(raw.author) if "<" in raw.author or "&" in raw.author else xml_safe(raw.author).strip()
        author, cut = capped(author, AUTHOR_LIMIT) if author else (author, False)
        tally.authors_cut += cut
        result.append(
            (
                OutsideEntry(
                    id=identity,
                    title=title,
                    url=link or fallback_link,
                    source_title=source_title,
                    source_url=source_url,
                    published=published or now,
                    first_seen=now,
                    summary_html=summary,
                    author=author,
                    image=_image(raw, summary, base),
                    source_weight=source.weight,
                    category=xml_safe(source.category),
                ),
                dated,
            )
        )
    problems.extend(tally.notes())
    if duplicates:
        problems.append(f"{duplicates} entries repeat an earlier entry's GUID; only the first copy was kept")
    if future:
        problems.append(f"{future} entries are dated in the future; their date was set to the time of fetching")
    if skipped:
        problems.append(f"{skipped} entries have no title or no http(s) link; skipped")
    undated = sum(1 for _, dated in result if not dated)
    if undated:
        problems.append(f"{undated} entries have no date; their first-seen time stands in")
    return NormalizedFeed(tuple(result), tuple(problems))
