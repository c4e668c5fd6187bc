"""`hitwatch web`: run the web app on WEB_HOST:WEB_PORT."""

from __future__ import annotations

import logging
import sys

import click

from hitwatch.settings import load_settings

__all__ = ["web_command"]


@click.command("web")
@click.option("--host", default=None, help="Listen address (default: WEB_HOST).")
@click.option("--port", type=int, default=None, help="Port (default: WEB_PORT).")
@click.option("--threads", type=int, default=8, show_default=True, help="Worker threads.")
def web_command(host: str | None, port: int | None, threads: int) -> None:
    """Serve the web app: latest items, search, digests, source health, failures."""
    overrides: dict[str, object] = {}
    if host:
        overrides["web_host"] = host
    if port:
        overrides["web_port"] = port
    settings = load_settings(**overrides)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from webapp.server import serve

    click.echo(f"web app: http://{settings.web_host}:{settings.web_port}/ (Ctrl-C to stop)")
    serve(settings, threads=threads)
