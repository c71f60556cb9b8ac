"""The send ledger's side of a run: the stored issue, and commits overlapped with SMTP.

The SQL lives in :mod:`syndicate._store.ledger`; this module decides *when*
each step is committed relative to the SMTP conversation.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from queue import SimpleQueue

from .._model import RenderedIssue
from .._store import Store
from .._store.ledger import DeliveryStatus, RowOutcome
from . import placeholders


def issue_to_json(issue: RenderedIssue) -> str:
    """The rendered issue as stored with the ledger, so later runs send the same one."""
    return json.dumps(
        {
            "week": issue.week,
            "subject": issue.subject,
            "preheader": issue.preheader,
            "html": issue.html,
            "text": issue.text,
            "web_html": issue.web_html,
            "story_urls": list(issue.story_urls),
            # This process's random markers: a later run translates them to its own.
            "markers": list(placeholders.ALL),
        }
    )


def issue_from_json(text: str) -> RenderedIssue:
    """The stored issue, its markers made this process's (so only the places our templates marked are filled)."""
    data = json.loads(text)
    data["story_urls"] = tuple(data.get("story_urls", ()))
    rendered_with = data.pop("markers", None) or placeholders.LEGACY
    for part in ("html", "text"):
        data[part] = placeholders.translate(data[part], rendered_with)
    return RenderedIssue(**data)


class LedgerWriter:
    """Commits ledger steps on one worker thread, so the disk overlaps the relay's round trips.

    Jobs run in order on a single thread. :meth:`wait` is the relay's
    ``before_data`` hook: a message's data is sent only once the commit marking
    it in flight (and recording the message before it) is done, so at most one
    message can ever be with the relay without the ledger knowing it was sent.
    """

    def __init__(self, store: Store, week: str, now: datetime, max_bounces: int) -> None:
        self._store = store
        self._week = week
        self._now = now
        self._max_bounces = max_bounces
        # A bare queue and semaphore rather than an executor: this runs once per message.
        self._jobs: SimpleQueue[tuple[list[RowOutcome], tuple[int, str] | None] | None] = SimpleQueue()
        self._done = threading.Semaphore(0)
        self._outstanding = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="syndicate-ledger", daemon=True)
        self._thread.start()

    def submit(self, finished: list[RowOutcome], started: tuple[int, str] | None) -> None:
        if finished or started:
            self._outstanding += 1
            self._jobs.put((finished, started))

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            finished, started = job
            try:
                if self._error is None:
                    self._store.ledger.advance(self._week, self._now, finished=finished, started=started)
                    for outcome in finished:
                        if outcome.status is DeliveryStatus.BOUNCED:
                            self._store.subscribers.record_bounce(outcome.subscriber_id, self._max_bounces)
            except BaseException as exc:  # handed to the sending thread by wait()
                self._error = exc
            finally:
                self._done.release()

    def wait(self) -> None:
        """Block until every submitted commit is done; re-raise a commit's failure."""
        while self._outstanding:
            self._done.acquire()
            self._outstanding -= 1
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._jobs.put(None)
            self._thread.join()
