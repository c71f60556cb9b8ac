"""One unattended cycle of a site, the cron job: ``syndicate run`` and :meth:`Site.run`.

Each step runs only when it is due and is idempotent, so cron can start the
cycle every few minutes and most runs do nothing, cheaply:

1. **fetch** the outside sources not fetched for :data:`FETCH_INTERVAL` (and
   not backing off after failures);
2. **build** the feeds; the build manifest makes a build with no changed
   input a no-op that reads no article;
3. **newsletter**: once per newly due week, decide what goes out after the
   last issue (``[newsletter] catch_up``: a digest of missed weeks, only the
   latest, or each), render it once, store it in the send ledger and publish
   its archive copy, all before any message leaves;
4. **send** every opened issue that still has recipients due (new ones,
   deferred ones whose back-off passed, one left in flight by a killed run);
5. **archive**: make sure every sent issue's archive copy, the archive page
   and its RSS are on disk (after an output folder was wiped, say).

A step that fails is reported and the independent ones still run (a broken
source does not stop the newsletter). An exclusive lock (``flock`` on
``.syndicate/run.lock``, dropped by the kernel even on SIGKILL) keeps two
cycles from overlapping: the second one returns at once, marked ``locked``.
Time is a parameter (``now``), so tests run a year of cycles without waiting.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._atomicfile import write_atomic
from ._errors import ConfigError, LockedError, SyndicateError

if TYPE_CHECKING:
    from ._site import Site

FETCH_INTERVAL = timedelta(minutes=55)  # default: about hourly (an hourly cron run is 60 min apart, give or take)
BUILD_RECHECK = timedelta(days=1)  # the build is asked at least this often, whatever the cheap key says
MAX_CATCH_UP_WEEKS = 26  # older missed weeks than this are reported, not sent
RUN_STATE_FILE = "run-state.json"
LOCK_FILE = "run.lock"


class StepStatus(StrEnum):
    DONE = "done"  # ran and did its work
    NOT_DUE = "not-due"  # nothing to do at this moment
    PARTIAL = "partial"  # ran; some items failed (a source, a recipient), the rest went through
    FAILED = "failed"  # the step could not do its work; the next run tries again


class RunExit(IntEnum):
    """``syndicate run``'s exit codes (the same numbers every command uses)."""

    OK = 0
    CONFIG = 3  # a step met a bad config or a missing secret
    PARTIAL = 4
    LOCKED = 6
    FAILED = 10


@dataclass
class StepReport:
    name: str
    status: StepStatus
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    config_error: bool = False
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "status": self.status.value,
            "message": self.message,
            "seconds": round(self.seconds, 4),
            **self.details,
        }


@dataclass
class RunReport:
    """What one cycle did, step by step; ``as_json()`` is ``syndicate run --json``."""

    now: datetime
    locked: bool = False
    steps: list[StepReport] = field(default_factory=list)
    sent_issues: list[dict[str, Any]] = field(default_factory=list)  # {"week", "covers", "sent", ...}
    skipped_weeks: list[dict[str, str]] = field(default_factory=list)  # {"week", "reason"}
    seconds: float = 0.0
    message: str = ""

    @property
    def exit_code(self) -> int:
        if self.locked:
            return RunExit.LOCKED
        if any(s.status is StepStatus.FAILED and s.config_error for s in self.steps):
            return RunExit.CONFIG
        if any(s.status is StepStatus.FAILED for s in self.steps):
            return RunExit.FAILED
        if any(s.status is StepStatus.PARTIAL for s in self.steps):
            return RunExit.PARTIAL
        return RunExit.OK

    @property
    def noop(self) -> bool:
        """True when no step had anything to do (what ``--quiet`` keeps silent about)."""
        return not self.locked and all(s.status is StepStatus.NOT_DUE for s in self.steps)

    def step(self, name: str) -> StepReport | None:
        return next((s for s in self.steps if s.name == name), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "exit_code": int(self.exit_code),
            "locked": self.locked,
            "message": self.message,
            "seconds": round(self.seconds, 4),
            "steps": [s.as_json() for s in self.steps],
            "sent_issues": self.sent_issues,
            "skipped_weeks": self.skipped_weeks,
        }


class RunState:
    """The little the cycle remembers between runs, in ``.syndicate/run-state.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fetch_every = FETCH_INTERVAL
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            self.data = {}  # lost or damaged: every step is re-decided, which is safe (they are idempotent)

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any) -> None:
        if self.data.get(key) != value:
            self.data[key] = value
            write_atomic(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")


def run_cycle(site: Site, *, now: datetime | None = None, fetch_every: timedelta = FETCH_INTERVAL) -> RunReport:
    """Run every due step of the cycle once; see the module's documentation.

    ``fetch_every``: a source is fetched when its last fetch is at least this
    old (and it is not backing off after failures).
    """
    started = time.perf_counter()
    moment = now or datetime.now(UTC)
    report = RunReport(now=moment)
    lock = _acquire_lock(site.config.state_dir / LOCK_FILE)
    if lock is None:
        report.locked = True
        report.message = f"{site.config.state_dir / LOCK_FILE}: another run is in progress; this one did nothing"
        return report
    try:
        state = RunState(site.config.state_dir / RUN_STATE_FILE)
        state.fetch_every = fetch_every
        for name, step in (
            ("fetch", _fetch_step),
            ("build", _build_step),
            ("newsletter", _newsletter_step),
            ("send", _send_step),
            ("archive", _archive_step),
        ):
            step_started = time.perf_counter()
            try:
                done = step(site, moment, state, report)
            except ConfigError as exc:
                done = StepReport(name, StepStatus.FAILED, str(exc), config_error=True)
            except (SyndicateError, OSError, ValueError) as exc:
                done = StepReport(name, StepStatus.FAILED, f"{type(exc).__name__}: {exc}")
            done.seconds = time.perf_counter() - step_started
            report.steps.append(done)
    finally:
        os.close(lock)  # closing drops the flock
    report.seconds = time.perf_counter() - started
    return report


def _acquire_lock(path: Path) -> int | None:
    """An exclusive ``flock`` on ``path`` (the kernel drops it when the holder dies); ``None`` if held.

    The same discipline as the send lock, without importing the newsletter
    package: a no-op cycle should not pay for loading MJML and the related engine.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


# --- the steps --------------------------------------------------------------------------------------


def _fetch_step(site: Site, now: datetime, state: RunState, report: RunReport) -> StepReport:
    from ._sources import list_sources
    from ._sources.decider import is_due

    config = site.config
    if not config.path(config.sources.opml).is_file():
        return StepReport("fetch", StepStatus.NOT_DUE, "no OPML list of sources")
    healths = site.store.source_health.all()
    due = []
    for source in list_sources(config):
        health = healths.get(source.url)
        last = health.last_attempt if health else None
        if health is None or (is_due(health, now) and (last is None or now - last >= state.fetch_every)):
            due.append(source.url)
    if not due:
        return StepReport("fetch", StepStatus.NOT_DUE, "every source was fetched recently or is backing off")
    fetched = site.fetch(now=now, only=due)
    failed = [r for r in fetched.results if r.failed]
    details = {
        "fetched": len(due),
        "new_entries": fetched.new_entries,
        "failed": [{"url": r.source.url, "error": r.health.last_error if r.health else ""} for r in failed],
    }
    message = f"fetched {len(due)} source(s): {fetched.new_entries} new stories"
    if failed:
        message += f"; {len(failed)} failed: " + ", ".join(r.source.url for r in failed)
        return StepReport("fetch", StepStatus.PARTIAL, message, details)
    return StepReport("fetch", StepStatus.DONE, message, details)


@functools.cache
def _installation_fingerprint() -> str:
    """syndicate's own code and packaged templates: they cannot change under a running process, so once per run."""
    from importlib import resources

    from ._build import code_fingerprint

    digest = hashlib.blake2b(code_fingerprint().encode(), digest_size=16)
    packaged = Path(str(resources.files("syndicate")))
    for folder in (packaged / "templates", packaged / "feeds"):
        digest.update(_listing(folder).encode())
    return digest.hexdigest()


def _listing(folder: Path) -> str:
    """Names, sizes and mtimes of the files under ``folder``: a change to any of them changes this."""
    if not folder.is_dir():
        return ""
    entries = []
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            info = path.stat()
            entries.append(f"{path}:{info.st_size}:{info.st_mtime_ns}")
    return "\0".join(sorted(entries))


def build_inputs_key(site: Site) -> str:
    """A cheap key of everything a build reads: no article is parsed, no stream merged.

    The build has its own, exact, manifest; this key only lets a cycle skip
    asking it when nothing can have changed (same articles on disk, same
    config and templates, no fetch since). Time is handled by the manifest's
    validity window, which the cycle keeps beside the key.
    """
    from ._build import input_signature

    config = site.config
    healths = site.store.source_health.all()
    # Files changed too recently for their stat to prove anything come with their digests: an
    # in-place edit within the clock's tick still changes the key.
    signature, racy = input_signature(config, "")
    digest = hashlib.blake2b(digest_size=16)
    for part in (
        _installation_fingerprint(),
        config.source_hash,
        str(config.output_dir),
        _listing(config.path(config.site.templates_dir)),
        signature + repr(sorted(racy.items())),
        repr(sorted((url, h.last_attempt, h.last_success, h.entries) for url, h in healths.items())),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _build_step(site: Site, now: datetime, state: RunState, report: RunReport) -> StepReport:
    config = site.config
    key = build_inputs_key(site)
    valid_until = state.get("build_valid_until")
    if (
        state.get("build_inputs") == key
        and isinstance(valid_until, float | int)
        and now.timestamp() < valid_until
        and (config.output_dir / "rss.xml").is_file()
    ):
        return StepReport("build", StepStatus.NOT_DUE, "no input changed: the feeds are up to date")
    result = site.build(now=now)
    manifest = site.store.outputs.manifest(str(config.output_dir))
    # A scheduled article going live ends the manifest's window; a day caps it anyway.
    horizon = (now + BUILD_RECHECK).timestamp()
    state.set("build_valid_until", min(manifest.valid_until, horizon) if manifest else now.timestamp())
    state.set("build_inputs", key)
    if result.up_to_date:
        return StepReport("build", StepStatus.NOT_DUE, "no input changed: the feeds are up to date")
    details = {"written": len(result.written), "removed": len(result.removed), "errors": len(result.errors)}
    message = f"built {result.feed_sets} feed set(s): {len(result.written)} file(s) written"
    if result.errors:
        message += f"; {len(result.errors)} article(s) skipped with errors (`syndicate check` lists them)"
        return StepReport("build", StepStatus.PARTIAL, message, details)
    return StepReport("build", StepStatus.DONE, message, details)


def _newsletter_step(site: Site, now: datetime, state: RunState, report: RunReport) -> StepReport:
    from ._dates import due_week, shift_week

    config = site.config
    nl = config.newsletter
    due = due_week(now, config.site.tz, nl.send_weekday, nl.send_time)
    if state.get("newsletter_decided") == due:
        return StepReport("newsletter", StepStatus.NOT_DUE, f"{due} was decided; the next issue is not due yet")
    opened = [r.week for r in site.store.ledger.issues()]
    if any(week >= due for week in opened):
        state.set("newsletter_decided", due)
        return StepReport("newsletter", StepStatus.NOT_DUE, f"{due} (or a later issue) is already out")
    earlier = [week for week in opened if week < due]
    candidates = [due]
    if earlier:
        candidates = []
        week = shift_week(earlier[-1], 1)
        while week <= due:
            candidates.append(week)
            week = shift_week(week, 1)
    too_old = candidates[:-MAX_CATCH_UP_WEEKS]
    candidates = candidates[-MAX_CATCH_UP_WEEKS:]
    opened_now, skipped = _open_issues(site, candidates, now)
    skipped += [(week, f"more than {MAX_CATCH_UP_WEEKS} weeks late") for week in too_old]
    report.skipped_weeks += [{"week": week, "reason": reason} for week, reason in sorted(skipped)]
    state.set("newsletter_decided", due)
    if not opened_now:
        return StepReport(
            "newsletter",
            StepStatus.NOT_DUE,
            f"{due} is due: nothing to send ({'; '.join(f'{w}: {r}' for w, r in sorted(skipped))})",
            {"skipped": report.skipped_weeks},
        )
    labels = ", ".join(
        f"{label} (covering {', '.join(covers)})" if len(covers) > 1 else label for label, covers in opened_now
    )
    return StepReport(
        "newsletter",
        StepStatus.DONE,
        f"opened {labels} under catch_up = {nl.catch_up!r}",
        {
            "opened": [{"week": label, "covers": list(covers)} for label, covers in opened_now],
            "skipped": report.skipped_weeks,
        },
    )


def _open_issues(
    site: Site, candidates: list[str], now: datetime
) -> tuple[list[tuple[str, tuple[str, ...]]], list[tuple[str, str]]]:
    """Select the candidate weeks, plan the catch-up, render and store each issue, and publish it."""
    from ._newsletter import publish_issue, render_site_issue, select_week
    from ._newsletter.ledger import issue_to_json
    from ._newsletter.select import digest_issue, plan_catch_up

    config = site.config
    nl = config.newsletter
    issues = {}
    for week in candidates:
        issue = select_week(site, week, now=now)
        if issue is not None:
            issues[week] = issue
    plan = plan_catch_up(candidates, set(issues), nl.catch_up)
    ledger = site.store.ledger
    opened: list[tuple[str, tuple[str, ...]]] = []
    for label, covers in plan.send:
        issue = issues[label] if len(covers) == 1 else digest_issue([issues[w] for w in covers])
        rendered, _ = render_site_issue(site, issue)
        audience = [s.id for s in site.store.subscribers.all() if s.active and s.bounces < nl.max_bounces]
        ledger.open_issue(label, rendered.subject, issue_to_json(rendered), audience, now)
        publish_issue(site, label, now=now, covers=list(covers))
        opened.append((label, covers))
    return opened, list(plan.skipped)


def _db_stamp(site: Site) -> str:
    """Size and mtime of the state database and its WAL: unchanged means no row changed since."""
    parts = []
    for path in (site.config.database_path, site.config.database_path.with_name("state.sqlite3-wal")):
        try:
            info = path.stat()
            parts.append(f"{info.st_size}:{info.st_mtime_ns}")
        except FileNotFoundError:
            parts.append("-")
    return "|".join(parts)


def _send_step(site: Site, now: datetime, state: RunState, report: RunReport) -> StepReport:
    idle = state.get("send_idle")
    if isinstance(idle, dict) and idle.get("db") == _db_stamp(site) and now.timestamp() < float(idle["until"]):
        # Nothing written to the ledger since the last look, and no deferred retry due yet.
        return StepReport("send", StepStatus.NOT_DUE, "every open issue was sent to everyone due")
    ledger = site.store.ledger
    waiting = [r.week for r in ledger.issues() if r.completed_at is None]
    due = [week for week in waiting if ledger.rows_to_send(week, now)]
    for week in set(waiting) - set(due):
        if ledger.close_issue_if_done(week, now):  # e.g. an issue opened with nobody to send it to
            waiting.remove(week)
    if not due:
        retries = [moment for week in waiting if (moment := ledger.next_retry(week)) is not None]
        wake = min(retries).timestamp() if retries else (now + BUILD_RECHECK).timestamp()
        state.set("send_idle", {"db": _db_stamp(site), "until": wake})
        if waiting:
            return StepReport(
                "send", StepStatus.NOT_DUE, f"{', '.join(waiting)}: deferred recipients wait for their retry"
            )
        return StepReport("send", StepStatus.NOT_DUE, "every issue was sent to everyone")
    from ._newsletter.send import send_newsletter

    status = StepStatus.DONE
    messages = []
    for week in due:
        try:
            sent = send_newsletter(site, week=week, now=now)
        except LockedError as exc:
            return StepReport("send", StepStatus.PARTIAL, str(exc))
        entry = {"week": week, **{k: v for k, v in sent.as_json().items() if k in _SEND_FIELDS}}
        report.sent_issues.append(entry)
        messages.append(
            f"{week}: {sent.sent} sent, {sent.deferred} deferred, {sent.bounced} bounced, "
            f"{sent.remaining} still to send" + (f" ({sent.error})" if sent.error else "")
        )
        if sent.error and not sent.sent:
            status = StepStatus.FAILED
        elif sent.partial and status is StepStatus.DONE:
            status = StepStatus.PARTIAL
    return StepReport("send", status, "; ".join(messages), {"issues": report.sent_issues})


_SEND_FIELDS = ("sent", "skipped", "deferred", "bounced", "failed", "remaining", "error")


def _archive_step(site: Site, now: datetime, state: RunState, report: RunReport) -> StepReport:
    config = site.config
    page = config.output_dir / "newsletter" / "index.html"
    stamp = _db_stamp(site)
    if state.get("archive_db") == stamp and page.is_file():  # no issue opened since the last look
        return StepReport("archive", StepStatus.NOT_DUE, "the archive holds every sent issue")
    records = site.store.ledger.issues()
    fingerprint = f"{config.output_dir}|" + "|".join(f"{r.week}@{r.opened_at.isoformat()}" for r in records)
    # The archive page stands for the rest: a wiped output folder loses it with them.
    if not records or (state.get("archive") == fingerprint and page.is_file()):
        if records:
            state.set("archive_db", stamp)
        return StepReport("archive", StepStatus.NOT_DUE, "the archive holds every sent issue")
    from ._newsletter import publish_issue

    written = []
    for record in records:
        if record.opened_at > now:
            continue
        published = publish_issue(site, record.week, now=now)
        if published is not None:
            written += published.written
    state.set("archive", fingerprint)
    state.set("archive_db", _db_stamp(site))
    status = StepStatus.DONE if written else StepStatus.NOT_DUE
    return StepReport(
        "archive", status, f"archive checked: {len(written)} file(s) rewritten", {"written": len(written)}
    )
