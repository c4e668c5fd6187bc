"""A real SMTP server for tests: an aiosmtpd handler that keeps what it receives (the
fault harness's `Inbox`), and free ports for the servers tests start."""

from __future__ import annotations

import socket

from hitwatch.bench.inbox import Inbox

__all__ = ["Inbox", "free_port"]


def free_port() -> int:
    """A TCP port nothing listens on right now, for a server the test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
