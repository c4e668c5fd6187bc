"""Serving the web app in production: waitress, a pure-Python multi-threaded WSGI server."""

from __future__ import annotations

import logging

from hitwatch.secret_key import require_secret_key
from hitwatch.settings import Settings

__all__ = ["serve"]

log = logging.getLogger(__name__)


def serve(settings: Settings, *, threads: int = 8) -> None:
    """Open the store and the search index from `settings`, then serve until stopped.

    Raises SettingsError, before opening anything, when a deployment has no adequate
    SECRET_KEY.
    """
    import waitress

    require_secret_key(settings)
    from hitwatch.monitoring import serve_metrics
    from webapp import create_app

    app = create_app(settings)
    serve_metrics(settings, app.extensions["hitwatch"].database)
    log.info("web app on http://%s:%d/", settings.web_host, settings.web_port)
    waitress.serve(
        app,
        host=settings.web_host,
        port=settings.web_port,
        threads=threads,
        ident="hitwatch",
    )
