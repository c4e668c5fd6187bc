"""The demo's mail catcher: a local SMTP server that keeps what it receives as files.

`hitwatch run` on embedded defaults starts it (the same aiosmtpd the tests use), so the
first hour's confirmation, alert and digest mails arrive somewhere a newcomer can read
them: the web app's 邮件 page lists this folder. Production sends through real SMTP.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

__all__ = ["CaughtMail", "MailboxHandler", "caught_mail", "list_mailbox", "mailbox_dir"]

_MESSAGE_ID = re.compile(r"^[0-9]{13}-[0-9a-f]{32}$")


def mailbox_dir(data_dir: Path) -> Path:
    return data_dir / "mailbox"


class MailboxHandler:
    """aiosmtpd handler: each message becomes `<ms>-<uuid>.eml`, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        name = f"{int(time.time() * 1000):013d}-{uuid.uuid4().hex}"
        partial = self.folder / f".{name}.tmp"
        partial.write_bytes(envelope.content)
        partial.replace(self.folder / f"{name}.eml")  # atomic: readers never see half
        return "250 OK"


@dataclass(frozen=True)
class CaughtMail:
    id: str
    sender: str
    recipient: str
    subject: str
    sent_at: datetime | None
    text: str
    html: str


def _read(path: Path) -> CaughtMail:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    try:
        sent_at = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    if sent_at is None:
        sent_at = datetime.fromtimestamp(int(path.stem[:13]) / 1000, UTC)
    return CaughtMail(
        id=path.stem,
        sender=str(message["From"] or ""),
        recipient=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        sent_at=sent_at,
        text=text.get_content() if isinstance(text, EmailMessage) else "",
        html=html.get_content() if isinstance(html, EmailMessage) else "",
    )


def list_mailbox(
    folder: Path, *, offset: int = 0, limit: int = 50
) -> tuple[int, Sequence[CaughtMail]]:
    """How many messages were caught, and a page of them, newest first."""
    if not folder.is_dir():
        return 0, []
    names = sorted((p for p in folder.glob("*.eml") if _MESSAGE_ID.match(p.stem)), reverse=True)
    return len(names), [_read(path) for path in names[offset : offset + limit]]


def caught_mail(folder: Path, message_id: str) -> CaughtMail | None:
    """One caught message by its id (a file name checked first: no path escapes)."""
    if not _MESSAGE_ID.match(message_id):
        return None
    path = folder / f"{message_id}.eml"
    return _read(path) if path.is_file() else None
