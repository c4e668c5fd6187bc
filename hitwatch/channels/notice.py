"""The e-mail telling a channel's owner that it was paused after failing again and again."""

from __future__ import annotations

from email.message import EmailMessage

from hitwatch.channels.formats import template, wording
from hitwatch.mail import new_message_id

__all__ = ["paused_message"]


def paused_message(
    *,
    sender: str,
    recipient: str,
    channel_name: str,
    kind: str,
    failures: int,
    error: str,
    manage_url: str,
) -> EmailMessage:
    """Sent once, by the post whose failure paused the channel; `manage_url` is where the
    owner resumes it."""
    label = str(wording()["kinds"][kind])
    name = channel_name or label
    message = EmailMessage()
    message["Subject"] = str(wording()["paused_subject"]).format(name=name)
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = new_message_id(sender)
    message.set_content(
        template("paused.txt").render(
            name=name, kind=label, failures=failures, error=error, manage_url=manage_url
        )
    )
    return message
