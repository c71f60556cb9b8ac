"""Benchmark: sending one issue to N recipients through a local aiosmtpd server.

Three ways, side by side in the same run, against the same server (in its own
process, so the client's CPU time is the client's alone):

* naive:     per recipient, build an EmailMessage and open a new smtplib connection;
* ceiling:   one connection sending pre-built bytes with sendmail (the same bytes syndicate
             sends one recipient; no building, no ledger);
* syndicate: ``syndicate._newsletter.send.send_newsletter``: the message built once per
             issue and personalised by substitution, one connection, the ledger
             committed twice per message, the lock, the progress callback.

Usage: .venv/bin/python bench/send_bench.py [--count 10000] [--naive-count 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import smtplib
import tempfile
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

import syndicate
from syndicate._newsletter import placeholders, prepare_issue
from syndicate._newsletter.send import Sender, send_newsletter
from syndicate._newsletter.subscribers import import_subscribers

WEEK = "2026-W47"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += len(envelope.rcpt_tos)
        return "250 OK"


class _LocalController(Controller):  # type: ignore[misc]
    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


def _serve(pipe: Connection) -> None:
    controller = _LocalController(_Counter(), hostname="127.0.0.1", port=0)
    controller.start()
    pipe.send(controller.port)
    pipe.recv()  # wait for the word to stop
    controller.stop()


def _make_site(root: Path, port: int, count: int) -> Path:
    site = root / "site"
    (site / "content").mkdir(parents=True)
    (site / "syndicate.toml").write_text(
        textwrap.dedent(
            f"""\
            [site]
            title = "Bench Reel"
            url = "https://bench.example.org"
            timezone = "UTC"

            [newsletter]
            list_id = "weekly.bench.example.org"

            [smtp]
            host = "127.0.0.1"
            port = {port}
            security = "none"
            from = "Bench Reel <news@bench.example.org>"
            """
        )
    )
    paragraph = "A long paragraph about a film festival, its restorations and its premieres. " * 12
    for n in range(8):
        (site / "content" / f"story-{n}.md").write_text(
            f"---\ntitle: Story {n} Of The Week\ndate: 2026-11-{17 + n % 5} 10:00\n"
            f"summary: Summary of story {n}.\n---\n{paragraph}\n\n{paragraph}\n"
        )
    lines = ["email,name", *(f"reader{n}@example.net,Reader {n}" for n in range(count))]
    (site / "list.csv").write_text("\n".join(lines) + "\n")
    with syndicate.Site.open(site) as opened:
        import_subscribers(opened.store.subscribers, site / "list.csv")
    return site


def _measure(run: Callable[[], int]) -> tuple[int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    sent = run()
    return sent, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="recipients for ceiling and syndicate")
    parser.add_argument("--naive-count", type=int, default=10_000, help="recipients for the naive loop")
    args = parser.parse_args()
    os.environ.setdefault("SYNDICATE_SECRET", "bench-secret-0123456789abcdef")

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(child,), daemon=True)
    server.start()
    port = parent.recv()
    root = Path(tempfile.mkdtemp(prefix="send-bench-"))
    try:
        site = _make_site(root, port, args.count)
        with syndicate.Site.open(site) as opened:
            issue = prepare_issue(opened, WEEK, now=NOW)
        assert issue is not None
        sample_html = issue.html.replace(placeholders.GREETING, "Hi Reader,").replace(
            placeholders.UNSUBSCRIBE_URL, "https://bench.example.org/unsubscribe?token=1.abcdefghijklmnopqrstuv"
        )
        sample_text = issue.text.replace(placeholders.GREETING, "Hi Reader,")

        def naive() -> int:
            for n in range(args.naive_count):
                message = EmailMessage(policy=policy.SMTP)
                message["From"] = "Bench Reel <news@bench.example.org>"
                message["To"] = f"Reader {n} <reader{n}@example.net>"
                message["Subject"] = issue.subject
                message["List-Unsubscribe"] = f"<https://bench.example.org/unsubscribe?token={n}.x>"
                message.set_content(sample_text)
                message.add_alternative(sample_html, subtype="html")
                with smtplib.SMTP("127.0.0.1", port, local_hostname="bench") as connection:
                    connection.send_message(message)
            return int(args.naive_count)

        # The ceiling sends the very bytes syndicate sends (one recipient's message, same encoding
        # and size), so the difference between the two rows is syndicate's own per-message work.
        with syndicate.Site.open(site) as opened:
            sample = Sender(opened, NOW)
            template = sample.template(issue)
            recipient, token = sample.recipient(1, "reader1@example.net", "Reader 1")
            data = template.render(recipient, token=token, now=NOW)

        def ceiling() -> int:
            with smtplib.SMTP("127.0.0.1", port, local_hostname="bench") as connection:
                for n in range(args.count):
                    connection.sendmail("news@bench.example.org", [f"reader{n}@example.net"], data)
            return int(args.count)

        def ours() -> int:
            with syndicate.Site.open(site) as opened:
                report = send_newsletter(opened, week=WEEK, now=NOW)
            assert not report.error, report.error
            return report.sent

        # The machine is shared: the ceiling runs before and after syndicate and counts as the
        # mean of the two, so a load change during the run does not favour either side.
        naive_row = _measure(naive)
        before = _measure(ceiling)
        ours_row = _measure(ours)
        after = _measure(ceiling)
        ceiling_row = (before[0] + after[0], before[1] + after[1], before[2] + after[2])
        rows = [
            ("naive (EmailMessage + new connection each)", naive_row),
            ("ceiling (one connection, pre-built bytes)", ceiling_row),
            ("syndicate send_newsletter", ours_row),
        ]
    finally:
        parent.send("stop")
        server.join(timeout=10)
        shutil.rmtree(root, ignore_errors=True)

    ceiling_rate = rows[1][1][0] / rows[1][1][1]
    print(f"message size: {len(data):,} bytes; server: aiosmtpd on 127.0.0.1 in its own process")
    print(f"ceiling: {before[0] / before[1]:.1f} msg/s before syndicate's run, {after[0] / after[1]:.1f} after")
    print(f"{'run':44} {'messages':>9} {'seconds':>8} {'msg/s':>8} {'client CPU ms/msg':>18} {'vs ceiling':>11}")
    for name, (sent, wall, cpu) in rows:
        rate = sent / wall
        print(f"{name:44} {sent:9d} {wall:8.2f} {rate:8.1f} {cpu / sent * 1000:18.3f} {rate / ceiling_rate:10.0%}")


if __name__ == "__main__":
    main()
