"""Retrieving outside feeds (lemon24/reader's "retriever"): the only module of syndicate that talks HTTP.

Polite and robust: bounded concurrency overall and per host, conditional
GET, a per-request deadline, a size cap applied to the *decoded* body while
it streams (so neither a gzip bomb nor an endless body gets far), redirects
followed by hand (loop detection, permanent moves noticed), every connection
made only to an address the :mod:`.address_guard` allows (so no feed or
redirect can point the fetcher at loopback, private or metadata addresses),
every number and date of a response parsed with bounds by :mod:`.headers`.
Nothing a server sends makes :meth:`Fetcher.fetch_each` raise: whatever
goes wrong is that source's failed outcome. Statuses are
turned into :class:`~syndicate._sources.decider.FetchOutcome` facts; what they
mean for the source's health is the decider's business.

An ``xmlUrl`` that is not http(s) is a path relative to the site folder,
read from disk with its mtime as Last-Modified, so the demo runs offline.
"""

from __future__ import annotations

import asyncio
import dataclasses
import zlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    from .address_guard import Resolver
    from .http11 import HttpClient

from .. import __version__
from . import headers as bounded
from .decider import MAX_RETRY_AFTER, FetchOutcome, OutcomeKind
from .slots import HostSlots

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)


def user_agent(site_url: str) -> str:
    """``syndicate/<version> (+<site url>)``: who is asking, and where to complain."""
    return f"syndicate/{__version__} (+{site_url}; feed fetcher)"


def is_http_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """One source to fetch, with the validators stored from its last success."""

    url: str
    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """What fetching one source gave: the outcome, and the body when there is one."""

    request: FetchRequest
    outcome: FetchOutcome
    body: bytes = b""
    final_url: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # the few feedparser uses
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str
    concurrency: int = 16
    per_host: int = 2
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    root: Path = Path(".")
    max_wait: timedelta = MAX_RETRY_AFTER  # the longest Retry-After honoured
    allow_private: bool = False  # connect to loopback/private/link-local addresses too
    # Test hooks, never config keys: addresses treated as public, and the resolver.
    trusted_addresses: frozenset[str] = frozenset()
    resolver: Resolver | None = None


class _TooLarge(Exception):
    pass


class _BodyDecoder:
    """Decodes gzip/deflate incrementally, never producing more than ``limit`` bytes.

    httpx's own decoder inflates each network chunk without bound, so one
    64 kB chunk of a gzip bomb could become 64 MB; here every call asks zlib
    for at most what is left of the budget.
    """

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self._raw_deflate_tried = False
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._inflater: zlib._Decompress | None = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            # 32 + MAX_WBITS: accept a zlib or a gzip header, whichever it is.
            self._inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)
            self._deflate = encoding == "deflate"
        else:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")

    def _count(self, data: bytes) -> bytes:
        self.total += len(data)
        if self.total > self.limit:
            raise _TooLarge
        return data

    def feed(self, chunk: bytes) -> bytes:
        if self._inflater is None:
            return self._count(chunk)
        try:
            data = self._inflater.decompress(chunk, self.limit - self.total + 1)
        except zlib.error:
            if not self._deflate or self._raw_deflate_tried or self.total:
                raise
            # Some servers send raw deflate without the zlib header.
            self._raw_deflate_tried = True
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            data = self._inflater.decompress(chunk, self.limit + 1)
        if self._inflater.unconsumed_tail:
            raise _TooLarge
        return self._count(data)

    def flush(self) -> bytes:
        if self._inflater is None:
            return b""
        return self._count(self._inflater.flush())


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:g} MB"


class Fetcher:
    """Fetches many sources concurrently within the politeness limits."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self._slots = HostSlots(settings.concurrency, settings.per_host)

    async def fetch_each(self, requests: Sequence[FetchRequest]) -> AsyncIterator[FetchResponse]:
        """Fetch every request; yield each response as soon as it is complete."""
        # Here, not at the top: every other command (a build with nothing to fetch) starts without h11.
        from .address_guard import AddressPolicy, GuardedConnector
        from .http11 import HttpClient

        policy = AddressPolicy.build(self.settings.allow_private, self.settings.trusted_addresses)
        connector = GuardedConnector(policy, self.settings.resolver)
        fixed = {"User-Agent": self.settings.user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
        async with HttpClient(connector.connect, fixed) as client:
            tasks = [asyncio.ensure_future(self.fetch_one(client, request)) for request in requests]
            try:
                for done in asyncio.as_completed(tasks):
                    yield await done
            finally:
                for task in tasks:
                    task.cancel()

    async def fetch_one(self, client: HttpClient, request: FetchRequest) -> FetchResponse:
        started = asyncio.get_running_loop().time()
        try:
            if is_http_url(request.url):
                response = await self._fetch_http(client, request)
            else:
                response = await asyncio.to_thread(self._read_file, request)
        except Exception as exc:  # whatever a server manages to break is this source's failure
            response = self._failed(request, f"unexpected {type(exc).__name__} while fetching: {exc}")
        elapsed = asyncio.get_running_loop().time() - started
        return FetchResponse(
            response.request, response.outcome, response.body, response.final_url, response.headers, elapsed
        )

    def _failed(self, request: FetchRequest, error: str, status: int | None = None) -> FetchResponse:
        return FetchResponse(request, FetchOutcome(OutcomeKind.FAILED, status=status, error=error))

    def _read_file(self, request: FetchRequest) -> FetchResponse:
        root = self.settings.root.resolve()
        path = (root / request.url).resolve()
        if not path.is_relative_to(root):
            # An imported OPML file must not turn the fetcher into a reader of local files.
            return self._failed(request, f"local path {request.url!r} is outside the site folder {root}")
        try:
            stat = path.stat()
            last_modified = format_datetime(datetime.fromtimestamp(int(stat.st_mtime), UTC), usegmt=True)
            if request.last_modified and request.last_modified == last_modified:
                return FetchResponse(
                    request, FetchOutcome(OutcomeKind.NOT_MODIFIED, last_modified=last_modified), final_url=str(path)
                )
            with path.open("rb") as handle:
                body = handle.read(self.settings.max_bytes + 1)
        except FileNotFoundError:
            return self._failed(request, f"no such file: {path}")
        except OSError as exc:
            return self._failed(request, f"cannot read {path}: {exc.strerror or exc}")
        if len(body) > self.settings.max_bytes:
            return self._failed(request, f"file larger than {_megabytes(self.settings.max_bytes)}")
        outcome = FetchOutcome(OutcomeKind.FETCHED, last_modified=last_modified)
        return FetchResponse(request, outcome, body, path.as_uri(), {})

    async def _fetch_http(self, client: HttpClient, request: FetchRequest) -> FetchResponse:
        from .address_guard import AddressRefused
        from .http11 import HttpError  # loaded by fetch_each already: a dictionary lookup

        url = request.url
        visited = [url]
        moved_to = ""
        permanent_so_far = True
        headers: dict[str, str] = {}
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        for _hop in range(self.settings.max_redirects + 1):
            host = (urlsplit(url).hostname or "").lower()
            try:
                async with self._slots.slot(host), asyncio.timeout(self.settings.timeout):
                    response = await self._exchange(client, request, url, headers)
            except AddressRefused as exc:
                via = f", redirected from {visited[-2]}" if len(visited) > 1 else ""
                return self._failed(
                    request,
                    f"refused to connect to {url}{via}: {exc} (set [sources] allow_private = true for intranet feeds)",
                )
            except TimeoutError:
                return self._failed(request, f"timed out after {self.settings.timeout:g} s ({url})")
            except _TooLarge:
                return self._failed(
                    request, f"response larger than {_megabytes(self.settings.max_bytes)} once decoded; cut off"
                )
            except (HttpError, zlib.error, ValueError) as exc:
                return self._failed(request, f"{type(exc).__name__}: {exc or 'connection failed'} ({url})")
            finally:
                if self._slots.idle(host):
                    client.retire(host)
            status = response.outcome.status
            if status not in REDIRECT_STATUSES:
                outcome = response.outcome
                if moved_to and outcome.ok:
                    outcome = dataclasses.replace(outcome, moved_to=moved_to)
                return FetchResponse(request, outcome, response.body, url, response.headers)
            location = response.final_url
            if not location:
                return self._failed(request, f"HTTP {status} redirect without a Location header ({url})", status)
            try:
                target = urljoin(url, location)
            except ValueError as exc:
                return self._failed(request, f"HTTP {status} redirect to an unusable Location {location!r}: {exc}")
            if not is_http_url(target):
                return self._failed(request, f"redirect to a non-HTTP URL {target!r}", status)
            if target in visited:
                chain = " -> ".join([*visited[visited.index(target) :], target])
                return self._failed(request, f"redirect loop: {chain}", status)
            if status in PERMANENT_REDIRECTS and permanent_so_far:
                moved_to = target
            else:
                permanent_so_far = False
            visited.append(target)
            url = target
        return self._failed(request, f"more than {self.settings.max_redirects} redirects: {' -> '.join(visited)}")

    async def _exchange(
        self, client: HttpClient, request: FetchRequest, url: str, headers: dict[str, str]
    ) -> FetchResponse:
        """One request/response; for a redirect, ``final_url`` carries the Location."""
        async with client.stream(url, headers) as response:
            status = response.status_code
            now = datetime.now(UTC)
            reply = response.headers
            if status in REDIRECT_STATUSES:
                return FetchResponse(
                    request, FetchOutcome(OutcomeKind.FAILED, status), final_url=response.headers.get("location", "")
                )
            etag = bounded.etag_validator(reply.get("etag"))
            last_modified = bounded.last_modified_validator(reply.get("last-modified"))
            if status == 304:
                # A 304 has no body (h11 reads none whatever the server sends), but httpcore keeps
                # the connection for the next request only once the message end has been read.
                async for _ in response.aiter_raw():
                    pass
                return FetchResponse(request, FetchOutcome(OutcomeKind.NOT_MODIFIED, status, "", etag, last_modified))
            reason = f"HTTP {status} {response.reason_phrase}".strip()
            if status == 410:
                return FetchResponse(request, FetchOutcome(OutcomeKind.GONE, status, f"{reason}: source disabled"))
            if status in (429, 503):
                delay = bounded.retry_after(reply.get("retry-after"), now, reply.get("date"), self.settings.max_wait)
                error = f"{reason}: retry after {int(delay.total_seconds())} s" if delay is not None else reason
                return FetchResponse(request, FetchOutcome(OutcomeKind.THROTTLED, status, error, retry_after=delay))
            if not 200 <= status < 300:
                return FetchResponse(request, FetchOutcome(OutcomeKind.FAILED, status, f"{reason} ({url})"))
            encoding = response.headers.get("content-encoding", "")
            declared = bounded.content_length(reply.get("content-length"))
            if not encoding and declared is not None and declared > self.settings.max_bytes:
                raise _TooLarge
            decoder = _BodyDecoder(encoding, self.settings.max_bytes)
            parts = [decoder.feed(chunk) async for chunk in response.aiter_raw()]
            parts.append(decoder.flush())
            kept = {
                name: response.headers[name]
                for name in ("content-type", "content-language", "content-location")
                if name in response.headers
            }
            kept.setdefault("content-location", url)
            return FetchResponse(
                request,
                FetchOutcome(OutcomeKind.FETCHED, status, "", etag, last_modified),
                b"".join(parts),
                url,
                kept,
            )
