"""The kill test: 50 SIGKILLs at random points of a 2,000-recipient send, then nobody missing.

Each run is a real process running the real CLI (``syndicate newsletter send``)
against a real aiosmtpd relay that takes 20 ms per message, killed with
SIGKILL at a seeded random point. A fresh interpreter per run would spend most
of the test importing, so one driver process imports syndicate once and forks
a child per run: each child is its own process with its own SQLite connection,
SMTP connection and send lock, and is killed like any other.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SiteFactory
from smtp_relay import ARTICLES, WEEK, Relay, relay, site_config, write_subscribers

import syndicate
from syndicate import import_subscribers

__all__ = ["relay"]

SECRET = "kill-test-secret-0123456789abcdef"
RECIPIENTS = 2000
KILLS = 50
SEED = 20261202


def _driver(site: str) -> None:
    """Fork one ``newsletter send`` run per line read; print its pid, then how it ended."""
    from syndicate.cli import main  # imported once, before any fork

    for _ in sys.stdin:
        child = os.fork()
        if child == 0:
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the protocol owns stdout
            code: object = 0
            try:
                main(["newsletter", "send", "--site", site, "--week", WEEK, "--json"], standalone_mode=False)
            except SystemExit as exc:
                code = exc.code
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 99
            os._exit(code if isinstance(code, int) else 1)
        print(child, flush=True)
        _, status = os.waitpid(child, 0)
        print(status, flush=True)


class Driver:
    def __init__(self, site: Path, log: Path) -> None:
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, __file__, str(site)],
            env={**os.environ, "SYNDICATE_SECRET": SECRET},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )

    def start(self) -> int:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def result(self) -> int:
        """The run's wait status, once it has ended: its exit code, or the signal that ended it."""
        assert self.process.stdout
        status = int(self.process.stdout.readline())
        return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)
        if self.process.stdout:
            self.process.stdout.close()
        self._log.close()


@contextlib.contextmanager
def driver(site: Path, log: Path) -> Iterator[Driver]:
    running = Driver(site, log)
    try:
        yield running
    finally:
        running.close()


@pytest.mark.slow
def test_fifty_sigkills_at_random_points_lose_nobody_and_duplicate_at_most_one_each(
    make_site: SiteFactory, relay: Relay, tmp_path: Path
) -> None:
    site = make_site(ARTICLES, config=site_config(relay.port))
    write_subscribers(site / "list.csv", RECIPIENTS)
    with syndicate.Site.open(site) as opened:
        assert import_subscribers(opened.store.subscribers, site / "list.csv").counts.added == RECIPIENTS
    relay.latency = 0.020
    rng = random.Random(SEED)
    # Where each kill falls: after a random number of recipients, plus a random part of the next
    # message's 20 ms; every fifth one instead at a random moment from the run's start (opening
    # the issue, reading the ledger, connecting).
    targets = sorted(rng.sample(range(1, RECIPIENTS - 100), KILLS))
    kills = 0
    started = time.monotonic()
    with driver(site, tmp_path / "driver.log") as runs:
        for number, target in enumerate(targets):
            pid = runs.start()
            if number % 5 == 4:
                time.sleep(rng.uniform(0.0, 0.4))
            else:
                deadline = time.monotonic() + 60
                while len(relay.counts()) < target and time.monotonic() < deadline:
                    time.sleep(0.001)
                time.sleep(rng.uniform(0.0, relay.latency * 1.5))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            ended = runs.result()
            kills += ended == -signal.SIGKILL
        # Then runs to the end, as the next cron runs would.
        for _ in range(3):
            runs.start()
            if runs.result() == 0 and len(relay.counts()) == RECIPIENTS:
                break
    elapsed = time.monotonic() - started
    log = (tmp_path / "driver.log").read_text()
    assert "Traceback" not in log, log[-3000:]
    assert kills == KILLS, f"only {kills} runs were still going when killed"

    counts = relay.counts()
    assert len(counts) == RECIPIENTS, f"{RECIPIENTS - len(counts)} recipients missing"
    duplicated = {address: n for address, n in counts.items() if n > 1}
    assert sum(n - 1 for n in duplicated.values()) <= KILLS  # at most one duplicate per kill
    for address in duplicated:
        ids = relay.message_ids(address)
        assert len(set(ids)) == 1, f"{address}: the copies carry different Message-IDs {ids}"
    with syndicate.Site.open(site) as opened:
        final = opened.store.ledger.counts(WEEK)
    assert final == {"sent": RECIPIENTS}  # DeliveryStatus.SENT, a str enum
    print(f"\n{KILLS} kills, {sum(n - 1 for n in duplicated.values())} duplicates, {elapsed:.1f} s")


if __name__ == "__main__":
    _driver(sys.argv[1])
