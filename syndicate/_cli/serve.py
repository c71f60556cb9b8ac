"""``syndicate serve``: the unsubscribe web app on waitress (threads, idle connections closed)."""

from __future__ import annotations

import contextlib

import click

from .._newsletter.server import ServeLimits
from .common import console, examples, handle_errors, open_site, site_option

_DEFAULTS = ServeLimits()


@click.command(
    epilog=examples(
        "SYNDICATE_SECRET=... syndicate serve --port 8025",
        "syndicate serve --threads 8 --timeout 15",
        "gunicorn 'syndicate._newsletter.unsubscribe:make_app(\"/srv/site\")'   # any WSGI server",
    )
)
@site_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8025, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option(
    "--threads",
    default=_DEFAULTS.threads,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Requests handled at once.",
)
@click.option(
    "--timeout",
    "channel_timeout",
    default=_DEFAULTS.channel_timeout,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds before an idle or half-sent connection is closed.",
)
@handle_errors
def serve(site_dir: str, host: str, port: int, threads: int, channel_timeout: int) -> None:
    """Serve the unsubscribe pages: GET shows a confirmation, POST (RFC 8058 one-click) unsubscribes.

    Put it behind your web server at [newsletter] unsubscribe_url (default
    <site url>/unsubscribe). Tokens are checked with $SYNDICATE_SECRET.
    Clients are served concurrently (waitress); a client that connects and
    sends nothing, or half a request, holds up no one and is dropped after
    --timeout seconds. Request lines (they carry tokens) are not logged.
    """
    with (
        open_site(site_dir) as site,
        site.unsubscribe_server(host, port, threads=threads, channel_timeout=channel_timeout) as server,
    ):
        listening = ", ".join(f"http://{h}:{p}/" for h, p in server.addresses)
        console.print(f"unsubscribe app on {listening} (Ctrl-C stops)")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
