"""A real SMTP server for tests: an aiosmtpd handler that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import socket

__all__ = ["Inbox", "free_port"]


class Inbox:
    """aiosmtpd handler keeping every received message; `refuse` makes it answer 451."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802 (aiosmtpd hook name)
        if self.refuse:
            return "451 try again later"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    """A TCP port nothing listens on right now, for a server the test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
