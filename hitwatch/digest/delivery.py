"""Subscriptions (double opt-in) and sending a published issue to each subscriber once.

The mail transport is a `MailTransport` protocol with an SMTP implementation chosen by
`open_transport(settings)`. `deliver_issue` claims a (issue revision, subscriber) row
before sending, so a retried or concurrent run never mails anyone twice; a failed send
stays visible as `failed` with its error and is retried by the next run.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hitwatch.digest.build import DigestKind
from hitwatch.digest.mail import (
    CONFIRM,
    UNSUBSCRIBE,
    SubscriberLinks,
    confirmation_message,
    digest_message,
    filter_digest,
    make_token,
)
from hitwatch.digest.workflow import KINDS, DigestError, issue_digest
from hitwatch.mail import AddressError, normalize_address
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import DigestDelivery, DigestIssue, DigestSubscriber

__all__ = [
    "DeliveryReport",
    "MailTransport",
    "SmtpTransport",
    "confirm_subscriber",
    "deliver_issue",
    "open_transport",
    "request_subscription",
    "subscriber_links",
    "unsubscribe",
]

log = logging.getLogger(__name__)


class MailTransport(Protocol):
    """Something that sends one finished message or raises."""

    def send(self, message: EmailMessage) -> None: ...


@dataclass
class SmtpTransport:
    """Plain smtplib, one connection per message: digests are sent rarely, in batches."""

    host: str
    port: int
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 30.0

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as client:
            if self.starttls:
                client.starttls()
            if self.user:
                client.login(self.user, self.password)
            client.send_message(message)


def open_transport(settings: Settings) -> MailTransport:
    return SmtpTransport(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_user,
        settings.smtp_password.get_secret_value(),
        settings.smtp_starttls,
    )


def request_subscription(
    database: Database,
    settings: Settings,
    transport: MailTransport,
    email: str,
    *,
    kind: DigestKind = "monthly",
    topics: tuple[str, ...] = (),
    doc_types: tuple[str, ...] = (),
    confirm_url: Callable[[str], str],
) -> DigestSubscriber:
    """Record (or update) a pending subscription and mail the confirmation link.

    An address that is already active keeps receiving; its filters are updated only
    through a confirmed link, so nobody can change someone else's subscription.
    """
    try:
        address = normalize_address(email)
    except AddressError as error:
        raise DigestError(str(error)) from None
    if kind not in KINDS[:2]:
        raise DigestError(f"subscriptions are to monthly or weekly digests, not {kind!r}")
    with database.session() as session:
        subscriber = session.scalars(
            select(DigestSubscriber).where(DigestSubscriber.email == address)
        ).first()
        if subscriber is None:
            subscriber = DigestSubscriber(email=address, status="pending")
            session.add(subscriber)
        if subscriber.status != "active":
            subscriber.status = "pending"
            subscriber.kind = kind
            subscriber.topics = list(topics)
            subscriber.doc_types = list(doc_types)
        session.flush()
        token = make_token(settings.secret_key.get_secret_value(), CONFIRM, subscriber.id)
    word = settings.digest_monthly_word if kind == "monthly" else settings.digest_weekly_word
    transport.send(
        confirmation_message(
            sender=settings.mail_from,
            recipient=address,
            confirm_url=confirm_url(token),
            period_word=word,
            publisher=settings.digest_publisher,
        )
    )
    return subscriber


def confirm_subscriber(database: Database, subscriber_id: int) -> DigestSubscriber:
    with database.session() as session:
        subscriber = session.get(DigestSubscriber, subscriber_id)
        if subscriber is None:
            raise DigestError("this subscription no longer exists; subscribe again")
        if subscriber.status != "active":
            subscriber.status = "active"
            subscriber.confirmed_at = datetime.now(UTC)
        return subscriber


def unsubscribe(database: Database, subscriber_id: int) -> DigestSubscriber | None:
    """Stop all mail to the subscriber; idempotent, and silent for unknown ids."""
    with database.session() as session:
        subscriber = session.get(DigestSubscriber, subscriber_id)
        if subscriber is not None and subscriber.status != "unsubscribed":
            subscriber.status = "unsubscribed"
            subscriber.unsubscribed_at = datetime.now(UTC)
        return subscriber


@dataclass
class DeliveryReport:
    sent: int = 0
    skipped_empty: int = 0
    already_sent: int = 0
    failed: list[str] = field(default_factory=list)


def _claim(database: Database, issue_id: int, subscriber_id: int) -> bool:
    """Take the (issue, subscriber) row for sending; False when it is sent or taken."""
    try:
        with database.session() as session:
            row = session.scalars(
                select(DigestDelivery).where(
                    DigestDelivery.issue_id == issue_id,
                    DigestDelivery.subscriber_id == subscriber_id,
                )
            ).first()
            if row is None:
                session.add(
                    DigestDelivery(issue_id=issue_id, subscriber_id=subscriber_id, attempts=1)
                )
                return True
            if row.status != "failed":
                return False
            row.status = "sending"
            row.attempts += 1
            return True
    except IntegrityError:
        return False  # another run inserted the row first


def deliver_issue(
    database: Database,
    settings: Settings,
    transport: MailTransport,
    issue_id: int,
    *,
    links: Callable[[DigestIssue, int, str], SubscriberLinks],
) -> DeliveryReport:
    """Send a published issue to every active subscriber of its kind, once each.

    `links(issue, subscriber_id, unsubscribe_token)` builds the absolute URLs (the web
    app knows its routes; the core does not).
    """
    secret = settings.secret_key.get_secret_value()
    with database.session() as session:
        issue = session.get(DigestIssue, issue_id)
        if issue is None or issue.status != "published":
            raise DigestError(f"digest {issue_id} is not published; publish it before sending")
        digest = issue_digest(session, issue, settings)
        subscribers = [
            (s.id, s.email, tuple(s.topics or ()), tuple(s.doc_types or ()))
            for s in session.scalars(
                select(DigestSubscriber).where(
                    DigestSubscriber.status == "active", DigestSubscriber.kind == issue.kind
                )
            )
        ]
    report = DeliveryReport()
    for subscriber_id, email, topics, doc_types in subscribers:
        personal = filter_digest(digest, topics, doc_types)
        if not personal.items:
            report.skipped_empty += 1
            continue
        if not _claim(database, issue_id, subscriber_id):
            report.already_sent += 1
            continue
        token = make_token(secret, UNSUBSCRIBE, subscriber_id)
        message = digest_message(
            personal,
            sender=settings.mail_from,
            recipient=email,
            links=links(issue, subscriber_id, token),
        )
        try:
            transport.send(message)
        except (OSError, smtplib.SMTPException) as error:
            log.warning("digest %s to subscriber %s failed: %s", issue_id, subscriber_id, error)
            report.failed.append(email)
            _finish(database, issue_id, subscriber_id, "failed", str(error), "")
        else:
            report.sent += 1
            _finish(database, issue_id, subscriber_id, "sent", "", str(message["Message-ID"]))
    return report


def _finish(
    database: Database, issue_id: int, subscriber_id: int, status: str, error: str, msgid: str
) -> None:
    with database.session() as session:
        row = session.scalars(
            select(DigestDelivery).where(
                DigestDelivery.issue_id == issue_id, DigestDelivery.subscriber_id == subscriber_id
            )
        ).one()
        row.status = status
        row.error = error
        row.message_id = msgid
        row.sent_at = datetime.now(UTC) if status == "sent" else None


def subscriber_links(base_url: str) -> Callable[[DigestIssue, int, str], SubscriberLinks]:
    """Absolute links for one subscriber's copy; `base_url` is PUBLIC_BASE_URL.

    The paths are the web app's digest routes; a test checks they resolve there."""
    base = base_url.rstrip("/")

    def build(issue: DigestIssue, subscriber_id: int, token: str) -> SubscriberLinks:
        return SubscriberLinks(
            web=f"{base}/digests/{issue.id}",
            unsubscribe=f"{base}/digests/unsubscribe/{token}",
            one_click=f"{base}/digests/unsubscribe/{token}/one-click",
        )

    return build
