"""Sending survives SIGKILL midway and overlapping cron runs (real processes, real SMTP server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SiteFactory
from smtp_relay import ARTICLES, WEEK, Relay, relay, site_config, write_subscribers

import syndicate
from syndicate import import_subscribers

__all__ = ["relay"]

SECRET = "crash-test-secret-0123456789"


def prepared_site(make_site: SiteFactory, relay: Relay, count: int, rate: float = 0.0) -> Path:
    site = make_site(ARTICLES, config=site_config(relay.port, rate=rate))
    write_subscribers(site / "list.csv", count)
    with syndicate.Site.open(site) as opened:
        import_subscribers(opened.store.subscribers, site / "list.csv")
    return site


def start_send(site: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "SYNDICATE_SECRET": SECRET}
    return subprocess.Popen(
        [sys.executable, "-m", "syndicate", "newsletter", "send", "--site", str(site), "--week", WEEK, "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_sigkill_midway_then_rerun_sends_everyone_once_with_at_most_one_duplicate(
    make_site: SiteFactory, relay: Relay
) -> None:
    site = prepared_site(make_site, relay, 2000)
    process = start_send(site)
    deadline = time.monotonic() + 60
    while relay.count() < 500 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)  # waits, and closes the pipes (else they leak: a ResourceWarning)
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    killed_at = relay.count()
    assert 0 < killed_at < 2000

    rerun = start_send(site)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    summary = json.loads(out)
    counts = relay.counts()
    assert len(counts) == 2000  # nobody lost
    duplicates = [address for address, n in counts.items() if n > 1]
    assert len(duplicates) <= 1 and max(counts.values()) <= 2  # at most the one message in flight
    assert summary["sent"] == 2000 - killed_at + len(duplicates)

    again = start_send(site)
    out, _ = again.communicate(timeout=60)
    assert json.loads(out)["sent"] == 0 and sum(relay.counts().values()) == 2000 + len(duplicates)


@pytest.mark.slow
def test_two_runs_started_together_only_one_sends(make_site: SiteFactory, relay: Relay) -> None:
    site = prepared_site(make_site, relay, 300, rate=100)  # about three seconds of sending
    first, second = start_send(site), start_send(site)
    results = [process.communicate(timeout=60) for process in (first, second)]
    codes = sorted(p.returncode for p in (first, second))
    assert codes == [0, 6], results
    locked_err = next(err for p, (_, err) in zip((first, second), results, strict=True) if p.returncode == 6)
    assert "another send run is in progress" in " ".join(locked_err.split())
    counts = relay.counts()
    assert len(counts) == 300 and set(counts.values()) == {1}
