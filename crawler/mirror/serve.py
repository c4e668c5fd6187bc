"""Serve the mirror from a thread of this process (benchmarks and tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

__all__ = ["serve_in_thread"]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One log line per request would drown a benchmark's output."""


@contextmanager
def serve_in_thread(app: Flask) -> Iterator[str]:
    """Serve `app` on a free local port; yields its base URL, stops on exit."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="mirror", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
