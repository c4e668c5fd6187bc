"""A real SMTP server's handler that keeps what it receives: the fault harness counts mails
with it, `bench pipeline` times alerts with it, and the tests use it (tests/smtp.py) as
their inbox."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from email.message import EmailMessage
from typing import Any

__all__ = ["Inbox"]


class Inbox:
    """aiosmtpd handler keeping every received message; `refuse` makes it answer 451, and
    so does `refuse_after` once that many messages were received (a server going down in
    the middle of a delivery). `received_at` holds each kept message's arrival time, and
    `arrived` is set on every arrival."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = False
        self.refuse_after: int | None = None
        self.refused = 0
        self.received_at: list[float] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook name)
        full = self.refuse_after is not None and len(self.messages) >= self.refuse_after
        if self.refuse or full:
            self.refused += 1
            return "451 try again later"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)
        self.received_at.append(time.time())
        self.arrived.set()
        return "250 OK"
