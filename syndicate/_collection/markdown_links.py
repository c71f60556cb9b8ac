"""Link destinations in Markdown, normalised and checked as markdown-it-py does.

The renderer (pulldown-cmark, through pyromark) hands us destinations as the
author wrote them, entities and backslash escapes decoded. Before they reach
a feed they are percent-encoded and their host names punycoded, with the
rules of markdown-it-py (and markdown-it in JavaScript), which rendered our
articles before: the same input keeps giving the same ``href``. ``mdurl`` is
the URL library markdown-it-py itself uses for this.
"""

from __future__ import annotations

import codecs
import re
from contextlib import suppress
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import mdurl

# Host names are punycoded only for these schemes (and scheme-relative URLs):
# elsewhere a "host" may be something else (``skype:name``).
_RECODE_HOSTNAME_FOR = ("http:", "https:", "mailto:")
_LABEL_SEPARATORS = re.compile("[\x2e\u3002\uff0e\uff61]")
_NON_ASCII = re.compile("[^\x00-\x7e]")
# A link to these is written as text, not a link (images may be data: pictures).
_BAD_SCHEME = re.compile(r"^(vbscript|javascript|file|data):")
_PICTURE_DATA = re.compile(r"^data:image/(gif|png|jpeg|webp);")
# A path made only of characters that percent-encoding keeps, with no scheme, host, "%" escape,
# query or fragment, normalises to itself: most links in articles (``/story/``) skip the parser.
_PLAIN_PATH = re.compile(r"(?!//)[A-Za-z0-9\-._~!$&'()*+,=@/]*")
# An absolute path that urljoin would keep as it is (no dot segment, no empty query or fragment
# that it would drop), to be put after the page's scheme and host.
_PLAIN_ABSOLUTE_PATH = re.compile(r"/(?!/)[A-Za-z0-9\-._~!$&'()*+,=:@/%]*")


def _map_domain(domain: str, *, to_ascii: bool) -> str:
    # As markdown-it's punycode helper: in an address only what follows the first "@" is a host.
    parts = domain.split("@")
    local, host = (parts[0] + "@", parts[1]) if len(parts) > 1 else ("", domain)
    labels = _LABEL_SEPARATORS.split(host)
    if to_ascii:
        mapped = [
            "xn--" + codecs.encode(label, "punycode").decode() if _NON_ASCII.search(label) else label
            for label in labels
        ]
    else:
        mapped = [
            codecs.decode(label[4:].lower().encode("ascii"), "punycode") if label.startswith("xn--") else label
            for label in labels
        ]
    return local + ".".join(mapped)


def normalize_link(url: str) -> str:
    """``url`` percent-encoded, its host name punycoded: what goes into ``href`` and ``src``."""
    return url if _PLAIN_PATH.fullmatch(url) else _normalize_link(url)


@lru_cache(maxsize=4096)
def _normalize_link(url: str) -> str:
    parsed = mdurl.parse(url, slashes_denote_host=True)
    if parsed.hostname and (not parsed.protocol or parsed.protocol in _RECODE_HOSTNAME_FOR):
        with suppress(UnicodeError, ValueError):  # a label punycode cannot take stays as it is
            parsed = parsed._replace(hostname=_map_domain(parsed.hostname, to_ascii=True))
    if not parsed.hostname or ":" not in parsed.hostname:
        return mdurl.encode(mdurl.format(parsed))
    # An IPv6 host: encode the parts before format() adds the brackets.
    return mdurl.format(
        parsed._replace(
            protocol=parsed.protocol and mdurl.encode(parsed.protocol),
            auth=parsed.auth and mdurl.encode(parsed.auth),
            hostname=mdurl.encode(parsed.hostname),
            pathname=parsed.pathname and mdurl.encode(parsed.pathname),
            search=parsed.search and mdurl.encode(parsed.search),
            hash=parsed.hash and mdurl.encode(parsed.hash),
        )
    )


def normalize_link_text(url: str) -> str:
    """The text an autolink shows for ``url``: percent-escapes decoded, host name in Unicode."""
    parsed = mdurl.parse(url, slashes_denote_host=True)
    if parsed.hostname and (not parsed.protocol or parsed.protocol in _RECODE_HOSTNAME_FOR):
        with suppress(UnicodeError, ValueError):
            parsed = parsed._replace(hostname=_map_domain(parsed.hostname, to_ascii=False))
    # '%' stays encoded (markdown-it issue 720): decoding it could make a different URL.
    return mdurl.decode(mdurl.format(parsed), mdurl.DECODE_DEFAULT_CHARS + "%")


def is_allowed_link(normalized: str) -> bool:
    """False for a script, file or (non-picture) data URL, which never becomes a link or image."""
    url = normalized.strip().lower()
    return bool(_PICTURE_DATA.search(url)) if _BAD_SCHEME.search(url) else True


def absolute_url(url: str, page_url: str, page_origin: str) -> str:
    """``urljoin(page_url, url)``; ``page_origin`` is the page's ``scheme://host``, for the usual ``/path``."""
    if page_origin and _PLAIN_ABSOLUTE_PATH.fullmatch(url) and "/." not in url:
        return page_origin + url
    return urljoin(page_url, url)


def url_origin(page_url: str) -> str:
    """``scheme://host`` of an absolute ``page_url``, or "" when it has no scheme or host."""
    parts = urlsplit(page_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
