"""Identity that never moves: each published item keeps its first GUID, whatever happens to its file.

An article's GUID is its front matter ``id`` when it has one. Otherwise the
loader derives one from the slug and date (and, for plain text, the file's
mtime), which would change on a rename, a new slug, a new date or a ``touch``.
The identity ledger in the state database fixes it the first time an item is
seen and finds it again after:

* the same file (lineage: its path), whatever its slug, title or date, and
  also after its ``id`` line was removed;
* a renamed file: an identity whose file is gone, with the same content hash
  (moved unchanged) or else the same headline (moved and edited);
* an ``id`` written into front matter: taken as the GUID from then on
  (``import`` writes ids). An ``id`` changed by hand on an item the ledger
  already knew is reported: readers will see that story again as new.

Every permalink an item had is kept too, so a changed URL leaves a redirect:
``build`` writes ``_redirects`` (Netlify's format) and ``redirects.map`` (an
nginx ``map`` block's body) from each old URL to the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from .._model import Problem, Severity
from .._slugs import headline_key
from .._store import IdentityLedger, IdentityRecord
from . import Collection

REDIRECTS_NETLIFY = "_redirects"
REDIRECTS_NGINX = "redirects.map"


@dataclass(frozen=True, slots=True)
class Redirect:
    """An old permalink and where its story lives now (paths, as web servers match them)."""

    old: str
    new: str


def assign_identities(
    collection: Collection, ledger: IdentityLedger, now: datetime, *, record: bool = True
) -> Collection:
    """``collection`` with each article's permanent GUID from the ledger; new ones are recorded when ``record``.

    ``record=False`` (``check``) reads the ledger without changing it.
    """
    known = ledger.all()
    by_guid = {r.guid: r for r in known}
    by_lineage = {r.lineage: r for r in known if r.lineage}
    present = {a.source_path for a in collection.articles}
    # Identities whose file is gone: a renamed file may claim one, by content, else by headline.
    orphans = [r for r in known if r.lineage and r.lineage not in present]
    orphans_by_hash = {r.content_hash: r for r in orphans if r.content_hash}
    orphans_by_title = {r.title_key: r for r in orphans if r.title_key}
    claimed: set[str] = set()
    ids: dict[str, str] = {}
    problems: list[Problem] = []
    records: list[IdentityRecord] = []
    for article in sorted(collection.articles, key=lambda a: a.source_path):
        title = headline_key(article.title)
        previous = by_lineage.get(article.source_path)
        if article.has_permanent_id:
            guid = article.id
            if previous is not None and previous.guid != guid and previous.guid not in claimed:
                problems.append(
                    Problem(
                        article.source_path,
                        f"its 'id' changed from {previous.guid!r} to {guid!r}: feed readers will show the story "
                        f"again as new (put back 'id: {previous.guid}' unless this is meant to be a new story)",
                        Severity.WARNING,
                    )
                )
        else:
            inherited = previous
            if inherited is None or inherited.guid in claimed:
                inherited = orphans_by_hash.get(article.content_hash) or orphans_by_title.get(title)
            guid = inherited.guid if inherited is not None and inherited.guid not in claimed else article.id
        if guid in claimed:
            # Two files claim one identity (a copied file with its id): the second is a new story.
            problems.append(Problem(article.source_path, f"another article has the id {guid!r} too", Severity.ERROR))
            continue
        claimed.add(guid)
        ids[article.source_path] = guid
        before = by_guid.get(guid)
        state = IdentityRecord(
            guid, article.source_path, article.content_hash, title, article.url, article.has_permanent_id
        )
        if before != state:
            records.append(state)
    if record and records:
        ledger.record(records, now)
    return collection.with_ids(ids, problems)


def redirects(ledger: IdentityLedger, collection: Collection) -> list[Redirect]:
    """Every old permalink of a current article, to its current one (none that another article now uses)."""
    current = {a.id: a.url for a in collection.articles}
    live_urls = set(current.values())
    found = []
    for url, guid in ledger.permalinks():
        now_at = current.get(guid)
        if now_at is None or url == now_at or url in live_urls:
            continue
        found.append(Redirect(_path(url), _path(now_at)))
    return sorted(set(found), key=lambda r: (r.old, r.new))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path or "/"


def netlify_redirects(found: list[Redirect]) -> bytes:
    """The ``_redirects`` file (Netlify, Cloudflare Pages): ``/old/ /new/ 301`` lines."""
    return "".join(f"{r.old} {r.new} 301\n" for r in found).encode("utf-8")


def nginx_redirect_map(found: list[Redirect]) -> bytes:
    """The body of an nginx ``map $uri $new_uri { ... }`` block: ``/old/ /new/;`` lines."""
    head = "# include inside: map $uri $syndicate_redirect { default ''; include redirects.map; }\n"
    return (head + "".join(f"{r.old} {r.new};\n" for r in found)).encode("utf-8")
