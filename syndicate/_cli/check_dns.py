"""``syndicate newsletter check-dns``: the DNS records to publish for sending, checked when DNS answers."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from .._newsletter.dns_records import DnsCheck
from .common import ExitCode, console, examples, handle_errors, json_option, open_site, print_json, site_option


@click.command(
    "check-dns",
    epilog=examples(
        "syndicate newsletter check-dns",
        "syndicate newsletter check-dns --offline     # print the records only",
        "syndicate newsletter check-dns --nameserver 198.51.100.53 --json",
    ),
)
@site_option
@click.option("--offline", is_flag=True, help="Do not query DNS; print the records to publish.")
@click.option("--timeout", type=float, default=3.0, show_default=True, help="Seconds per DNS query.")
@click.option("--nameserver", metavar="IP[:PORT]", default="", help="Ask this DNS server instead of the system's.")
@json_option
@handle_errors
def check_dns_command(site_dir: str, offline: bool, timeout: float, nameserver: str, as_json: bool) -> None:
    """Print the DKIM key, an SPF hint and a DMARC record to publish, and check them.

    The DKIM record is derived from [smtp] dkim_key_file (with dkim_selector).
    Each record is looked up when a resolver answers; when DNS cannot be
    reached it says "not checked" instead of failing. Exit code 1 when a
    record is missing or different, 0 otherwise.
    """
    with open_site(site_dir) as site:
        checked = site.check_dns(offline=offline, timeout=timeout, nameserver=nameserver)
    if as_json:
        print_json([r.as_json() for r in checked])
    else:
        # One record per block, the value on a line of its own: it is meant to be copied whole.
        for r in checked:
            colour = {DnsCheck.OK: "green", DnsCheck.NOT_CHECKED: "yellow"}.get(r.check, "red")
            console.print(f"[bold]{r.purpose}[/bold]  {escape(r.name)}  TXT")
            console.print(escape(r.value), markup=False, soft_wrap=True)
            console.print(f"  check: [{colour}]{r.check.value}[/{colour}]")
            if r.found and r.check is not DnsCheck.OK:
                console.print(f"  found: {escape(r.found)}")
            if r.note:
                console.print(f"  note: {escape(r.note)}")
            console.print()
    if any(r.check in (DnsCheck.MISSING, DnsCheck.DIFFERENT) for r in checked):
        sys.exit(ExitCode.PROBLEMS)
