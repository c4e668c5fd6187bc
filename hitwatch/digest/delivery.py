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
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hitwatch.digest.build import DigestKind, period_word
from hitwatch.digest.mail import (
    CONFIRM,
    PREFERENCES,
    UNSUBSCRIBE,
    DigestParts,
    DigestTemplate,
    SubscriberLinks,
    compose_digest,
    confirmation_message,
    digest_parts,
    filter_digest,
    make_token,
)
from hitwatch.digest.workflow import KINDS, DigestError, issue_digest
from hitwatch.mail import (
    AddressError,
    MailTransport,
    RawMessage,
    new_message_id,
    normalize_address,
)
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import DigestDelivery, DigestIssue, DigestSubscriber

__all__ = [
    "DeliveryReport",
    "confirm_subscriber",
    "count_recipients",
    "deliver_issue",
    "request_subscription",
    "subscriber_links",
    "unsubscribe",
    "update_preferences",
]

log = logging.getLogger(__name__)


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
    except AddressError:
        raise DigestError("bad_email", email=email) from None
    if kind not in KINDS[:2]:
        raise DigestError("bad_subscription_kind", kind=kind)
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
    word = period_word(kind, settings)
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
            raise DigestError("subscriber_gone")
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


def update_preferences(
    database: Database,
    subscriber_id: int,
    *,
    kind: DigestKind,
    topics: tuple[str, ...] = (),
    doc_types: tuple[str, ...] = (),
) -> DigestSubscriber:
    """Change what a subscriber receives (reached through their signed settings link)."""
    if kind not in KINDS[:2]:
        raise DigestError("bad_subscription_kind", kind=kind)
    with database.session() as session:
        subscriber = session.get(DigestSubscriber, subscriber_id)
        if subscriber is None:
            raise DigestError("subscriber_gone")
        subscriber.kind = kind
        subscriber.topics = list(topics)
        subscriber.doc_types = list(doc_types)
        return subscriber


@dataclass
class DeliveryReport:
    sent: int = 0
    skipped_empty: int = 0
    already_sent: int = 0
    failed: list[str] = field(default_factory=list)
    renders: int = 0  # distinct filter sets rendered (once each)


# Claims are taken this many subscribers at a time, in one transaction.
CLAIM_BATCH = 200
# Stand-ins for a subscriber's tokens in a copy rendered once per filter set.
_UNSUBSCRIBE_SLOT = "hw0unsubscribe0token0slot"
_PREFERENCES_SLOT = "hw0preferences0token0slot"


@dataclass(frozen=True)
class _Claim:
    row_id: int
    message_id: str


def _reclaimable(row: DigestDelivery, stale_before: datetime) -> bool:
    """A failed send, or one claimed by a worker that has not finished it in time."""
    return row.status == "failed" or (row.status == "sending" and row.updated_at < stale_before)


def _reclaim(session: Session, row: DigestDelivery, message_id: str) -> _Claim | None:
    """Take a failed or stale row, unless another run took it since it was read: the
    attempt counter is the row's version."""
    taken = session.execute(
        update(DigestDelivery)
        .where(
            DigestDelivery.id == row.id,
            DigestDelivery.status == row.status,
            DigestDelivery.attempts == row.attempts,
        )
        .values(
            status="sending",
            attempts=row.attempts + 1,
            message_id=row.message_id or message_id,
            updated_at=datetime.now(UTC),
        )
        .execution_options(synchronize_session=False)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        return None
    return _Claim(row.id, row.message_id or message_id)


def _claim_batch(
    database: Database,
    issue_id: int,
    subscriber_ids: list[int],
    stale_before: datetime,
    new_id: Callable[[], str],
) -> dict[int, _Claim]:
    """Claim the rows this run may send now, in one transaction: new ones, failed ones and
    stale ones. A Message-ID is fixed at the first claim and kept by every later one."""
    try:
        with database.session() as session:
            existing = {
                row.subscriber_id: row
                for row in session.scalars(
                    select(DigestDelivery).where(
                        DigestDelivery.issue_id == issue_id,
                        DigestDelivery.subscriber_id.in_(subscriber_ids),
                    )
                )
            }
            claims: dict[int, _Claim] = {}
            fresh: dict[int, DigestDelivery] = {}
            for subscriber_id in subscriber_ids:
                row = existing.get(subscriber_id)
                if row is None:
                    fresh[subscriber_id] = DigestDelivery(
                        issue_id=issue_id,
                        subscriber_id=subscriber_id,
                        status="sending",
                        attempts=1,
                        message_id=new_id(),
                    )
                elif _reclaimable(row, stale_before):
                    claim = _reclaim(session, row, new_id())
                    if claim is not None:
                        claims[subscriber_id] = claim
            session.add_all(fresh.values())
            session.flush()
            claims.update(
                (subscriber_id, _Claim(row.id, row.message_id))
                for subscriber_id, row in fresh.items()
            )
            return claims
    except IntegrityError:
        # Another run inserted some of these rows meanwhile: claim them one at a time.
        claims = {}
        for subscriber_id in subscriber_ids:
            claim = _claim_one(database, issue_id, subscriber_id, stale_before, new_id)
            if claim is not None:
                claims[subscriber_id] = claim
        return claims


def _claim_one(
    database: Database,
    issue_id: int,
    subscriber_id: int,
    stale_before: datetime,
    new_id: Callable[[], str],
) -> _Claim | None:
    try:
        with database.session() as session:
            row = session.scalars(
                select(DigestDelivery).where(
                    DigestDelivery.issue_id == issue_id,
                    DigestDelivery.subscriber_id == subscriber_id,
                )
            ).first()
            if row is not None:
                return _reclaim(session, row, new_id()) if _reclaimable(row, stale_before) else None
            row = DigestDelivery(
                issue_id=issue_id,
                subscriber_id=subscriber_id,
                status="sending",
                attempts=1,
                message_id=new_id(),
            )
            session.add(row)
            session.flush()
            return _Claim(row.id, row.message_id)
    except IntegrityError:
        return None  # another run inserted the row first


def _finish(database: Database, claim: _Claim, status: str, error: str = "") -> None:
    now = datetime.now(UTC)
    with database.session() as session:
        session.execute(
            update(DigestDelivery)
            .where(DigestDelivery.id == claim.row_id)
            .values(
                status=status,
                error=error,
                sent_at=now if status == "sent" else None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class _Subscriber:
    id: int
    email: str
    filters: tuple[tuple[str, ...], tuple[str, ...]]


def deliver_issue(
    database: Database,
    settings: Settings,
    transport: MailTransport,
    issue_id: int,
    *,
    links: Callable[[DigestIssue, str, str], SubscriberLinks],
) -> DeliveryReport:
    """Send a published issue to every active subscriber of its kind, once each.

    `links(issue, unsubscribe_token, preferences_token)` builds the absolute URLs (the
    web app knows its routes; the core does not). Each distinct filter set is rendered
    once; claims are taken in batches; one SMTP connection carries the whole run.
    """
    secret = settings.secret_key.get_secret_value()
    with database.session() as session:
        issue = session.get(DigestIssue, issue_id)
        if issue is None or issue.status != "published":
            raise DigestError("not_published", issue=issue_id)
        digest = issue_digest(session, issue, settings)
        subscribers = [
            _Subscriber(s.id, s.email, (tuple(s.topics or ()), tuple(s.doc_types or ())))
            for s in session.scalars(
                select(DigestSubscriber)
                .where(DigestSubscriber.status == "active", DigestSubscriber.kind == issue.kind)
                .order_by(DigestSubscriber.id)
            )
        ]
        slot_links = links(issue, _UNSUBSCRIBE_SLOT, _PREFERENCES_SLOT)
    report = DeliveryReport()
    rendered: dict[tuple[tuple[str, ...], tuple[str, ...]], DigestParts | None] = {}
    templates: dict[tuple[tuple[str, ...], tuple[str, ...]], DigestTemplate] = {}

    def parts_for(subscriber: _Subscriber) -> DigestParts | None:
        if subscriber.filters not in rendered:
            personal = filter_digest(digest, *subscriber.filters)
            rendered[subscriber.filters] = (
                digest_parts(personal, slot_links) if personal.items else None
            )
            report.renders += personal.items != ()
        return rendered[subscriber.filters]

    def template_for(subscriber: _Subscriber, parts: DigestParts) -> DigestTemplate:
        if subscriber.filters not in templates:
            templates[subscriber.filters] = DigestTemplate.of(
                parts,
                sender=settings.mail_from,
                one_click=slot_links.one_click,
                slots=(_UNSUBSCRIBE_SLOT, _PREFERENCES_SLOT),
            )
        return templates[subscriber.filters]

    wanted = [s for s in subscribers if parts_for(s) is not None]
    report.skipped_empty = len(subscribers) - len(wanted)
    stale_before = datetime.now(UTC) - timedelta(seconds=settings.digest_send_claim_timeout)
    new_id = partial(new_message_id, settings.mail_from)
    with transport.batch():
        for first in range(0, len(wanted), CLAIM_BATCH):
            batch = wanted[first : first + CLAIM_BATCH]
            claims = _claim_batch(database, issue_id, [s.id for s in batch], stale_before, new_id)
            report.already_sent += len(batch) - len(claims)
            for subscriber in batch:
                claim = claims.get(subscriber.id)
                parts = parts_for(subscriber)
                if claim is None or parts is None:
                    continue
                replacements = {
                    _UNSUBSCRIBE_SLOT: make_token(secret, UNSUBSCRIBE, subscriber.id),
                    _PREFERENCES_SLOT: make_token(secret, PREFERENCES, subscriber.id),
                }
                message: EmailMessage | RawMessage
                if subscriber.email.isascii():
                    message = template_for(subscriber, parts).copy(
                        recipient=subscriber.email,
                        message_id=claim.message_id,
                        replacements=replacements,
                    )
                else:  # an internationalised address: let the email package encode it
                    message = compose_digest(
                        parts,
                        sender=settings.mail_from,
                        recipient=subscriber.email,
                        one_click=slot_links.one_click.replace(
                            _UNSUBSCRIBE_SLOT, replacements[_UNSUBSCRIBE_SLOT]
                        ),
                        message_id=claim.message_id,
                        replacements=replacements,
                    )
                _send(database, transport, report, subscriber, claim, message)
    return report


def _send(
    database: Database,
    transport: MailTransport,
    report: DeliveryReport,
    subscriber: _Subscriber,
    claim: _Claim,
    message: EmailMessage | RawMessage,
) -> None:
    try:
        transport.send(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("digest %s to subscriber %s failed: %s", claim.message_id, subscriber.id, error)
        report.failed.append(subscriber.email)
        _finish(database, claim, "failed", str(error))
    else:
        report.sent += 1
        _finish(database, claim, "sent")


def count_recipients(session: Session, issue: DigestIssue, settings: Settings) -> int:
    """How many subscribers publishing `issue` will mail: active ones of its kind whose
    topic and type filters leave at least one item (the others get nothing)."""
    digest = issue_digest(session, issue, settings)
    wanted: dict[tuple[tuple[str, ...], tuple[str, ...]], bool] = {}
    count = 0
    for subscriber in session.scalars(
        select(DigestSubscriber).where(
            DigestSubscriber.status == "active", DigestSubscriber.kind == issue.kind
        )
    ):
        filters = (tuple(subscriber.topics or ()), tuple(subscriber.doc_types or ()))
        if filters not in wanted:
            wanted[filters] = bool(filter_digest(digest, *filters).items)
        count += wanted[filters]
    return count


def subscriber_links(base_url: str) -> Callable[[DigestIssue, str, str], SubscriberLinks]:
    """Absolute links for one subscriber's copy; `base_url` is PUBLIC_BASE_URL.

    The paths are the web app's digest routes; a test checks they resolve there."""
    base = base_url.rstrip("/")

    def build(
        issue: DigestIssue, unsubscribe_token: str, preferences_token: str
    ) -> SubscriberLinks:
        return SubscriberLinks(
            web=f"{base}/digests/{issue.id}",
            unsubscribe=f"{base}/digests/unsubscribe/{unsubscribe_token}",
            one_click=f"{base}/digests/unsubscribe/{unsubscribe_token}/one-click",
            preferences=f"{base}/digests/preferences/{preferences_token}",
        )

    return build
