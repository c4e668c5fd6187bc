"""Digest e-mail: signed links, per-subscriber filtering and the messages themselves.

Pure: nothing here opens a connection. Links carry signed, expiring tokens
(`hitwatch.mail`) so confirming and unsubscribing need no login; each purpose has its
own salt, so a confirmation link cannot be replayed as an unsubscribe link.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import formataddr, parseaddr
from types import MappingProxyType

from hitwatch.digest.build import Digest
from hitwatch.digest.render import render_email_html, render_plain, render_text, wording
from hitwatch.mail import (
    RawMessage,
    TokenError,
    make_token,
    new_message_id,
    read_token,
    sender_domain,
)

__all__ = [
    "CONFIRM",
    "CONFIRM_MAX_AGE",
    "PREFERENCES",
    "PREFERENCES_MAX_AGE",
    "UNSUBSCRIBE",
    "UNSUBSCRIBE_MAX_AGE",
    "DigestParts",
    "DigestTemplate",
    "SubscriberLinks",
    "TokenError",
    "compose_digest",
    "confirmation_message",
    "digest_message",
    "digest_parts",
    "filter_digest",
    "make_token",
    "read_token",
]

HEADERS_UNFOLDED = default.clone(max_line_length=998)

CONFIRM = "digest-confirm"
UNSUBSCRIBE = "digest-unsubscribe"
PREFERENCES = "digest-preferences"
CONFIRM_MAX_AGE = 7 * 24 * 3600
# Unsubscribe and settings links must keep working in old issues found in a mailbox.
UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600
PREFERENCES_MAX_AGE = 400 * 24 * 3600


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


@dataclass(frozen=True)
class DigestParts:
    """A subscriber's copy rendered once: subject, text and HTML, whose links are filled in
    per subscriber by `compose_digest` (only the tokens differ between subscribers)."""

    subject: str
    list_name: str
    text: str
    html: str


def digest_parts(digest: Digest, links: SubscriberLinks) -> DigestParts:
    """Render the issue (already filtered for a subscriber) for e-mail, with these links."""
    words = wording()
    footer = words["mail_footer"].format(web=links.web, unsubscribe=links.unsubscribe)
    if links.preferences:
        footer += words["mail_preferences"].format(preferences=links.preferences)
    return DigestParts(
        subject=digest.title,
        list_name=digest.publisher or digest.period_word,
        text=render_text(digest) + "\n" + footer,
        html=render_email_html(
            digest,
            web_url=links.web,
            unsubscribe_url=links.unsubscribe,
            preferences_url=links.preferences,
        ),
    )


def compose_digest(
    parts: DigestParts,
    *,
    sender: str,
    recipient: str,
    one_click: str,
    message_id: str,
    replacements: Mapping[str, str] = MappingProxyType({}),
) -> EmailMessage:
    """One subscriber's message (multipart/alternative, RFC 8058 headers) from rendered
    parts, with each placeholder of `replacements` replaced by the subscriber's value."""
    text, html = parts.text, parts.html
    for placeholder, value in replacements.items():
        text, html = text.replace(placeholder, value), html.replace(placeholder, value)
    message = EmailMessage()
    message["Subject"] = parts.subject
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = message_id
    message["List-Id"] = formataddr((parts.list_name, f"digest.{sender_domain(sender)}"))
    message["List-Unsubscribe"] = f"<{one_click}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # Long headers stay on one line: folding List-Unsubscribe would turn its URL into
    # RFC 2047 encoded words, which mail clients do not decode in that header.
    message.policy = HEADERS_UNFOLDED
    return message


def digest_message(
    digest: Digest, *, sender: str, recipient: str, links: SubscriberLinks
) -> EmailMessage:
    """The issue as a multipart/alternative e-mail (bulletin text + HTML), RFC 8058 ready."""
    return compose_digest(
        digest_parts(digest, links),
        sender=sender,
        recipient=recipient,
        one_click=links.one_click,
        message_id=new_message_id(sender),
    )


# email's base64 lines carry 76 characters: 57 bytes of the body each.
_BASE64_LINE = 57
_TO_SLOT = "hw0recipient0slot@slot.invalid"
_ID_SLOT = "<hw0message0id0slot@slot.invalid>"
_TEXT_SLOT = b"hw0text0body0slot"
_HTML_SLOT = b"hw0html0body0slot"


def _base64(data: bytes) -> bytes:
    lines = (
        binascii.b2a_base64(data[i : i + _BASE64_LINE]) for i in range(0, len(data), _BASE64_LINE)
    )
    return b"".join(lines).replace(b"\n", b"\r\n")


@dataclass(frozen=True)
class _Body:
    """A body (UTF-8) whose start, up to the last whole base64 line
    before the first slot, is encoded once; the rest is encoded per copy. Base64 works on
    aligned 57-byte lines, so the result is the same as encoding the whole body."""

    canonical: bytes
    cut: int
    head: bytes

    @classmethod
    def of(cls, text: str, slots: Sequence[bytes]) -> _Body:
        # Line ends as the email package's own base64 text parts have them (LF).
        canonical = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
        found = [canonical.find(slot) for slot in slots if slot in canonical]
        cut = min(found, default=len(canonical)) // _BASE64_LINE * _BASE64_LINE
        return cls(canonical, cut, _base64(canonical[:cut]))

    def encode(self, replacements: Mapping[bytes, bytes]) -> bytes:
        rest = self.canonical[self.cut :]
        for slot, value in replacements.items():
            rest = rest.replace(slot, value)
        return self.head + _base64(rest)


@dataclass(frozen=True)
class DigestTemplate:
    """One filter set's e-mail, built and encoded once by the email package with slots in
    place of what differs per subscriber (To, Message-ID, the tokens in links); `copy`
    fills them in. Serialising a 20-item issue takes milliseconds, filling slots takes
    microseconds, and the bytes are those `compose_digest` would give."""

    skeleton: bytes
    text: _Body
    html: _Body
    sender: str

    @classmethod
    def of(
        cls, parts: DigestParts, *, sender: str, one_click: str, slots: Sequence[str]
    ) -> DigestTemplate:
        message = compose_digest(
            parts, sender=sender, recipient=_TO_SLOT, one_click=one_click, message_id=_ID_SLOT
        )
        text_part, html_part = message.iter_parts()
        for part, slot in ((text_part, _TEXT_SLOT), (html_part, _HTML_SLOT)):
            del part["Content-Transfer-Encoding"]
            part["Content-Transfer-Encoding"] = "base64"
            part.set_payload(slot.decode("ascii"))
        skeleton = message.as_bytes(policy=SMTP.clone(max_line_length=998))
        encoded_slots = [slot.encode("ascii") for slot in slots]
        return cls(
            skeleton,
            _Body.of(parts.text, encoded_slots),
            _Body.of(parts.html, encoded_slots),
            parseaddr(sender)[1],
        )

    def copy(
        self, *, recipient: str, message_id: str, replacements: Mapping[str, str]
    ) -> RawMessage:
        """A subscriber's message. `recipient` must be ASCII (see `compose_digest`)."""
        values = {
            slot.encode("ascii"): value.encode("ascii") for slot, value in replacements.items()
        }
        head, _, tail = self.skeleton.partition(b"\r\n\r\n")
        head = head.replace(_TO_SLOT.encode(), recipient.encode("ascii"))
        head = head.replace(_ID_SLOT.encode(), message_id.encode("ascii"))
        for slot, value in values.items():
            head = head.replace(slot, value)
        tail = tail.replace(_TEXT_SLOT + b"\r\n", self.text.encode(values), 1)
        tail = tail.replace(_HTML_SLOT + b"\r\n", self.html.encode(values), 1)
        return RawMessage(self.sender, recipient, head + b"\r\n\r\n" + tail)


def confirmation_message(
    *, sender: str, recipient: str, confirm_url: str, period_word: str, publisher: str
) -> EmailMessage:
    """The double opt-in mail: nothing is sent to this address until the link is opened."""
    message = EmailMessage()
    message["Subject"] = wording()["confirm_subject"].format(name=f"{publisher}{period_word}")
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = new_message_id(sender)
    message.set_content(
        render_plain(
            "confirm.txt", publisher=publisher, period_word=period_word, confirm_url=confirm_url
        )
    )
    return message
