"""Digest e-mail: signed links, per-subscriber filtering and the messages themselves.

Pure: nothing here opens a connection. Links carry signed, expiring tokens
(`hitwatch.mail`) so confirming and unsubscribing need no login; each purpose has its
own salt, so a confirmation link cannot be replayed as an unsubscribe link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from hitwatch.digest.build import Digest
from hitwatch.digest.render import render_email_html, render_plain, render_text, wording
from hitwatch.mail import TokenError, make_token, read_token, sender_domain

__all__ = [
    "CONFIRM",
    "CONFIRM_MAX_AGE",
    "UNSUBSCRIBE",
    "UNSUBSCRIBE_MAX_AGE",
    "SubscriberLinks",
    "TokenError",
    "confirmation_message",
    "digest_message",
    "filter_digest",
    "make_token",
    "read_token",
]

CONFIRM = "digest-confirm"
UNSUBSCRIBE = "digest-unsubscribe"
CONFIRM_MAX_AGE = 7 * 24 * 3600
# Unsubscribe links must keep working in old issues people find in their mailbox.
UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600


def filter_digest(digest: Digest, topics: Sequence[str], doc_types: Sequence[str]) -> Digest:
    """The issue reduced to the items a subscriber chose (no filter: everything)."""
    items = tuple(
        item
        for item in digest.items
        if (not topics or set(topics) & set(item.topics))
        and (not doc_types or item.doc_type in doc_types)
    )
    return digest if items == digest.items else replace(digest, items=items)


@dataclass(frozen=True)
class SubscriberLinks:
    """Absolute URLs put in one subscriber's copy of an issue."""

    web: str
    unsubscribe: str
    one_click: str
    preferences: str = ""


def digest_message(
    digest: Digest, *, sender: str, recipient: str, links: SubscriberLinks
) -> EmailMessage:
    """The issue as a multipart/alternative e-mail (bulletin text + HTML), RFC 8058 ready."""
    message = EmailMessage()
    message["Subject"] = digest.title
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = make_msgid(domain=sender_domain(sender))
    message["List-Id"] = formataddr(
        (digest.publisher or digest.period_word, f"digest.{sender_domain(sender)}")
    )
    message["List-Unsubscribe"] = f"<{links.one_click}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = render_text(digest)
    text += "\n" + wording()["mail_footer"].format(web=links.web, unsubscribe=links.unsubscribe)
    message.set_content(text)
    message.add_alternative(
        render_email_html(
            digest,
            web_url=links.web,
            unsubscribe_url=links.unsubscribe,
            preferences_url=links.preferences,
        ),
        subtype="html",
    )
    return message


def confirmation_message(
    *, sender: str, recipient: str, confirm_url: str, period_word: str, publisher: str
) -> EmailMessage:
    """The double opt-in mail: nothing is sent to this address until the link is opened."""
    message = EmailMessage()
    message["Subject"] = wording()["confirm_subject"].format(name=f"{publisher}{period_word}")
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = make_msgid(domain=sender_domain(sender))
    message.set_content(
        render_plain(
            "confirm.txt", publisher=publisher, period_word=period_word, confirm_url=confirm_url
        )
    )
    return message
