"""Benchmark: the cost of VERP return paths and DKIM signing in a real send.

Sends one issue to N recipients (default 2,000) through send_bench.py's local
aiosmtpd server (its own process, so client CPU is the client's) twice: plain,
then with ``[newsletter] verp_address`` and ``[smtp] dkim_*`` set (a fresh
2048-bit RSA key). Prints msg/s and client CPU per message for both.

Usage: .venv/bin/python bench/dkim_send_bench.py [--count 2000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import syndicate
from syndicate._newsletter.send import send_newsletter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import send_bench  # a sibling script, not a package


def _sign_and_verp(site: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (site / "dkim.pem").write_bytes(pem)
    config = (site / "syndicate.toml").read_text()
    config = config.replace("[newsletter]\n", '[newsletter]\nverp_address = "bounces@bench.example.org"\n')
    config += 'dkim_selector = "weekly"\ndkim_key_file = "dkim.pem"\n'  # [smtp] is the file's last table
    (site / "syndicate.toml").write_text(config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="recipients per run")
    args = parser.parse_args()
    os.environ.setdefault("SYNDICATE_SECRET", "bench-secret-0123456789abcdef")
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=send_bench._serve, args=(child,), daemon=True)
    server.start()
    port = parent.recv()
    root = Path(tempfile.mkdtemp(prefix="dkim-bench-"))
    rows = []
    try:
        for label, signed in (("plain", False), ("VERP + DKIM", True)):
            site = send_bench._make_site(root / label.replace(" ", "-"), port, args.count)
            if signed:
                _sign_and_verp(site)

            def run(site: Path = site) -> int:
                with syndicate.Site.open(site) as opened:
                    report = send_newsletter(opened, week=send_bench.WEEK, now=send_bench.NOW)
                assert not report.error, report.error
                return report.sent

            rows.append((label, send_bench._measure(run)))
    finally:
        parent.send("stop")
        server.join(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
    for label, (sent, wall, cpu) in rows:
        rate, cpu_ms = sent / wall, cpu / sent * 1000
        print(f"{label:12} {sent:6d} msgs {wall:7.2f} s {rate:7.1f} msg/s  client CPU {cpu_ms:.3f} ms/msg")


if __name__ == "__main__":
    main()
