"""Posting a published issue to the channels its subscribers picked: once per (issue,
channel), the subscriber's filters applied, the 本期导语, the 信息目录 with each item
linked to its page, and a link to the issue.

A (issue, channel) row is claimed as a mail is (`DigestChannelDelivery`): a redelivered
event finds it `sent`; a post that failed for a passing reason (5xx, 429, timeout) is
`failed` and taken again when the task is retried; failures count towards pausing the
channel like alert posts, and the post that pauses one mails its owner.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from hitwatch.channels import (
    ChannelItem,
    ChannelMessage,
    Poster,
    Vault,
    paused_message,
    post_to_channel,
    record_outcome,
)
from hitwatch.digest.build import Digest
from hitwatch.digest.mail import filter_digest
from hitwatch.digest.render import lead, masthead
from hitwatch.digest.workflow import DigestError, issue_digest
from hitwatch.mail import MailTransport
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import (
    Channel,
    DigestChannelDelivery,
    DigestIssue,
    DigestSubscriber,
    DigestSubscriberChannel,
)

__all__ = [
    "ChannelPostReport",
    "digest_message",
    "post_issue",
    "set_subscriber_channels",
    "subscriber_channels",
]

log = logging.getLogger(__name__)


@dataclass
class ChannelPostReport:
    posted: int = 0
    already_sent: int = 0
    busy: int = 0
    skipped_empty: int = 0
    retry: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def digest_message(digest: Digest, base_url: str, issue_id: int) -> ChannelMessage:
    """The issue as a channel shows it: masthead, 本期导语, 信息目录, link to the issue."""
    base = base_url.rstrip("/")
    items = tuple(
        ChannelItem(
            doc_id=item.doc_id,
            story_id=item.story_id,
            title=item.title,
            url=item.url,
            item_url=f"{base}/items/{item.doc_id}" if item.doc_id else item.url,
            source=item.source_name,
            published_at=item.published_at,
            date=f"{item.local_date:%Y-%m-%d}",
            doc_type=item.doc_type,
        )
        for item in digest.items
    )
    return ChannelMessage(
        event="digest",
        heading=" ".join(masthead(digest)[:2]),
        items=items,
        note=lead(digest),
        link=f"{base}/digests/{issue_id}",
    )


def _claim(database: Database, issue_id: int, channel_id: int, stale: datetime) -> bool:
    try:
        with database.session() as session:
            session.add(DigestChannelDelivery(issue_id=issue_id, channel_id=channel_id))
        return True
    except IntegrityError:
        pass
    with database.session() as session:
        taken = session.execute(
            update(DigestChannelDelivery)
            .where(
                DigestChannelDelivery.issue_id == issue_id,
                DigestChannelDelivery.channel_id == channel_id,
                or_(
                    DigestChannelDelivery.status == "failed",
                    (DigestChannelDelivery.status == "sending")
                    & (DigestChannelDelivery.claimed_at < stale),
                ),
            )
            .values(
                status="sending",
                claimed_at=datetime.now(UTC),
                attempts=DigestChannelDelivery.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def _finish(database: Database, issue_id: int, channel_id: int, **values: object) -> None:
    with database.session() as session:
        session.execute(
            update(DigestChannelDelivery)
            .where(
                DigestChannelDelivery.issue_id == issue_id,
                DigestChannelDelivery.channel_id == channel_id,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def post_issue(
    database: Database,
    settings: Settings,
    poster: Poster,
    transport: MailTransport,
    issue_id: int,
    *,
    manage_url: Callable[[str], str],
) -> ChannelPostReport:
    """Post a published issue to every active channel its active subscribers picked.

    `manage_url(address)` is the page where an owner resumes a channel (the alerts'
    management page), named in the e-mail sent when a failing post pauses one."""
    report = ChannelPostReport()
    with database.session() as session:
        issue = session.get(DigestIssue, issue_id)
        if issue is None or issue.status != "published":
            raise DigestError("not_published", issue=issue_id)
        digest = issue_digest(session, issue, settings)
        rows = session.execute(
            select(DigestSubscriber, Channel)
            .join(
                DigestSubscriberChannel,
                DigestSubscriberChannel.subscriber_id == DigestSubscriber.id,
            )
            .join(Channel, Channel.id == DigestSubscriberChannel.channel_id)
            .where(
                DigestSubscriber.status == "active",
                DigestSubscriber.kind == issue.kind,
                Channel.state == "active",
                Channel.owner_email == DigestSubscriber.email,
            )
            .order_by(Channel.id)
        ).all()
    stale = datetime.now(UTC) - timedelta(seconds=settings.digest_send_claim_timeout)
    vault = Vault(settings.secret_key.get_secret_value())
    for subscriber, channel in rows:
        personal = filter_digest(digest, subscriber.topics or (), subscriber.doc_types or ())
        if not personal.items:
            report.skipped_empty += 1
            continue
        if not _claim(database, issue_id, channel.id, stale):
            with database.session() as session:
                status = session.scalar(
                    select(DigestChannelDelivery.status).where(
                        DigestChannelDelivery.issue_id == issue_id,
                        DigestChannelDelivery.channel_id == channel.id,
                    )
                )
            if status == "sent":
                report.already_sent += 1
            else:
                report.busy += 1
            continue
        batch_id = uuid.uuid4().hex
        _finish(database, issue_id, channel.id, batch_id=batch_id)
        message = digest_message(personal, settings.resolved_public_base_url, issue_id)
        result = post_to_channel(database, vault, poster, channel, message, batch_id, "digest")
        if result.ok:
            report.posted += 1
            _finish(
                database, issue_id, channel.id, status="sent", error="", sent_at=datetime.now(UTC)
            )
            continue
        log.warning("digest %s to channel %s failed: %s", issue_id, channel.id, result.error)
        _finish(database, issue_id, channel.id, status="failed", error=result.error[:4000])
        paused = record_outcome(
            database, channel.id, result, pause_after=settings.channel_pause_after
        )
        if paused:
            _tell_owner(settings, transport, channel, result.error, manage_url(channel.owner_email))
        name = channel.name or f"#{channel.id}"
        (report.retry if result.retryable and not paused else report.refused).append(name)
    return report


def _tell_owner(
    settings: Settings, transport: MailTransport, channel: Channel, error: str, manage_url: str
) -> None:
    message = paused_message(
        sender=settings.mail_from,
        recipient=channel.owner_email,
        channel_name=channel.name,
        kind=channel.kind,
        failures=settings.channel_pause_after,
        error=error,
        manage_url=manage_url,
    )
    try:
        transport.send(message)
    except OSError as failure:
        log.error(
            "could not tell %s that channel %s was paused: %s",
            channel.owner_email,
            channel.id,
            failure,
        )


def subscriber_channels(database: Database, subscriber_id: int) -> tuple[list[Channel], set[int]]:
    """The channels of the subscriber's address, and those the subscription posts to."""
    with database.session() as session:
        subscriber = session.get(DigestSubscriber, subscriber_id)
        if subscriber is None:
            raise DigestError("subscriber_gone")
        owned = list(
            session.scalars(
                select(Channel).where(Channel.owner_email == subscriber.email).order_by(Channel.id)
            )
        )
        chosen = set(
            session.scalars(
                select(DigestSubscriberChannel.channel_id).where(
                    DigestSubscriberChannel.subscriber_id == subscriber_id
                )
            )
        )
    return owned, chosen


def set_subscriber_channels(
    database: Database, subscriber_id: int, channel_ids: Sequence[int]
) -> None:
    """Post the subscription's issues to these channels of its address (others ignored)."""
    owned, chosen = subscriber_channels(database, subscriber_id)
    wanted = set(channel_ids) & {channel.id for channel in owned}
    with database.session() as session:
        for channel_id in chosen - wanted:
            link = session.get(DigestSubscriberChannel, (subscriber_id, channel_id))
            if link is not None:
                session.delete(link)
        for channel_id in sorted(wanted - chosen):
            session.add(DigestSubscriberChannel(subscriber_id=subscriber_id, channel_id=channel_id))
