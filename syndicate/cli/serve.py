"""``syndicate serve``: the unsubscribe web app on a small built-in server."""

from __future__ import annotations

import contextlib
from wsgiref.simple_server import WSGIRequestHandler, make_server

import click

from ..newsletter.unsubscribe import unsubscribe_app
from .common import console, examples, handle_errors, open_site, site_option


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        # Request lines carry unsubscribe tokens: keep them out of logs.
        return


@click.command(
    epilog=examples(
        "SYNDICATE_SECRET=... syndicate serve --port 8025",
        "gunicorn 'syndicate.newsletter.unsubscribe:make_app(\"/srv/site\")'   # any WSGI server",
    )
)
@site_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8025, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@handle_errors
def serve(site_dir: str, host: str, port: int) -> None:
    """Serve the unsubscribe pages: GET shows a confirmation, POST (RFC 8058 one-click) unsubscribes.

    Put it behind your web server at [newsletter] unsubscribe_url (default
    <site url>/unsubscribe). Tokens are checked with $SYNDICATE_SECRET.
    """
    with open_site(site_dir) as site:
        app = unsubscribe_app(site)
        with make_server(host, port, app, handler_class=_QuietHandler) as server:
            console.print(f"unsubscribe app on http://{host}:{server.server_port}/ (Ctrl-C stops)")
            with contextlib.suppress(KeyboardInterrupt):
                server.serve_forever()
