"""Posting a document's new matches to channels: each (rule, story, channel) once.

The rules of one owner that a story matched and that share a channel make one post
naming them all. Each (rule, story, channel) row is claimed first, as e-mail is
(`delivery.claim_channel`); every request is kept as a ChannelAttempt. A post that
failed for a reason that may pass (5xx, 429, timeout, no connection) is reported as
`retry`, so the task is retried with backoff and the claim taken again; a refusal that
retrying cannot fix (4xx, a wrong signature, a refused address) stays `failed` and
visible. CHANNEL_PAUSE_AFTER failures in a row pause the channel and mail its owner once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select, update

from hitwatch.alerts.delivery import claim_channel, hold, rule_timing, touch_rules
from hitwatch.alerts.mail import AlertLinks, local_date
from hitwatch.channels import (
    ChannelError,
    ChannelItem,
    ChannelMessage,
    Poster,
    PostResult,
    Vault,
    paused_message,
    post_to_channel,
    record_outcome,
)
from hitwatch.channels.formats import rule_names, wording
from hitwatch.mail import MailTransport
from hitwatch.search import SearchDocument
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import AlertRule, AlertRuleChannel, Channel, ChannelDelivery

__all__ = [
    "PostReport",
    "channel_item",
    "mail_paused_owner",
    "post_matches",
    "send_test",
]

log = logging.getLogger(__name__)


@dataclass
class PostReport:
    held: int = 0
    posted: int = 0
    already_sent: int = 0
    busy: int = 0
    retry: list[str] = field(default_factory=list)  # channels to try again later
    refused: list[str] = field(default_factory=list)  # failed for good (until fixed)
    paused: list[int] = field(default_factory=list)


def channel_item(
    document: SearchDocument, terms: Sequence[str], rules: Sequence[str], links: AlertLinks
) -> ChannelItem:
    return ChannelItem(
        doc_id=document.doc_id,
        story_id=document.story_id,
        title=document.title,
        url=document.url,
        item_url=links.item(document.doc_id),
        source=document.source_name,
        published_at=document.published_at,
        date=local_date(document.published_at),
        doc_type=document.doc_type,
        doc_number=document.doc_number,
        issuer=document.issuer,
        terms=_found(document, terms),
        rules=tuple(rules),
    )


def _found(document: SearchDocument, terms: Sequence[str]) -> tuple[str, ...]:
    """The query's terms the text really holds (a synonym it does not use is left out)."""
    text = f"{document.title}\n{document.body}".lower()
    unique = tuple(dict.fromkeys(terms))
    return tuple(term for term in unique if term.lower() in text) or unique


def _rule_name(rule: AlertRule) -> str:
    return rule.name or rule.query


def _finish(
    database: Database, keys: list[tuple[int, int]], story_id: str, **values: object
) -> None:
    with database.session() as session:
        for rule_id, channel_id in keys:
            session.execute(
                update(ChannelDelivery)
                .where(
                    ChannelDelivery.rule_id == rule_id,
                    ChannelDelivery.story_id == story_id,
                    ChannelDelivery.channel_id == channel_id,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def _batch_id(database: Database, keys: list[tuple[int, int]], story_id: str) -> str:
    """The delivery id of a retry is the first try's, so a receiver can drop a copy (the
    first try may have arrived although its answer did not); a new post gets a new one."""
    with database.session() as session:
        earlier = session.scalars(
            select(ChannelDelivery.batch_id)
            .where(
                ChannelDelivery.story_id == story_id,
                ChannelDelivery.channel_id == keys[0][1],
                ChannelDelivery.rule_id.in_([rule_id for rule_id, _ in keys]),
                ChannelDelivery.batch_id != "",
            )
            .order_by(ChannelDelivery.batch_id)
        ).first()
    return earlier or uuid.uuid4().hex


def _channels_of_rules(
    database: Database, rule_ids: Sequence[int]
) -> dict[int, tuple[Channel, list[AlertRule]]]:
    """Active channels of the given confirmed, active rules, each with its rules."""
    grouped: dict[int, tuple[Channel, list[AlertRule]]] = {}
    with database.session() as session:
        rows = session.execute(
            select(Channel, AlertRule)
            .join(AlertRuleChannel, AlertRuleChannel.channel_id == Channel.id)
            .join(AlertRule, AlertRule.id == AlertRuleChannel.rule_id)
            .where(
                AlertRule.id.in_(rule_ids),
                AlertRule.confirmed.is_(True),
                AlertRule.active.is_(True),
                Channel.state == "active",
                # A channel serves its owner's rules only.
                Channel.owner_email == AlertRule.email,
            )
            .order_by(Channel.id, AlertRule.id)
        ).all()
    for channel, rule in rows:
        grouped.setdefault(channel.id, (channel, []))[1].append(rule)
    return grouped


def post_matches(
    database: Database,
    settings: Settings,
    poster: Poster,
    transport: MailTransport,
    document: SearchDocument,
    terms: dict[int, list[str]],
    links: AlertLinks,
) -> PostReport:
    """Post `document` to the channels of the matched rules (ids are `terms`' keys)."""
    report = PostReport()
    if not terms:
        return report
    vault = Vault(settings.secret_key.get_secret_value())
    now = datetime.now(UTC)
    for channel_id, (channel, rules) in _channels_of_rules(database, list(terms)).items():
        claimed: list[AlertRule] = []
        for rule in rules:
            if rule_timing(rule).holds(now, rule.last_message_at):
                row = {"rule_id": rule.id, "story_id": document.story_id, "channel_id": channel_id}
                report.held += hold(database, ChannelDelivery, row, document.doc_id, now=now)
                continue
            state = claim_channel(
                database,
                rule.id,
                document.story_id,
                channel_id,
                document.doc_id,
                timeout=settings.alert_claim_timeout,
            )
            if state == "claimed":
                claimed.append(rule)
            elif state in ("sent", "held"):
                report.already_sent += 1
            elif state == "busy":
                report.busy += 1
        if not claimed:
            continue
        keys = [(rule.id, channel_id) for rule in claimed]
        batch_id = _batch_id(database, keys, document.story_id)
        _finish(database, keys, document.story_id, batch_id=batch_id)
        named = [(rule.id, _rule_name(rule)) for rule in claimed]
        item = channel_item(
            document,
            [term for rule in claimed for term in terms[rule.id]],
            [name for _id, name in named],
            links,
        )
        heading = str(wording()["alert_heading"]).format(names=rule_names(named), title=item.title)
        message = ChannelMessage(event="alert", heading=heading, items=(item,), rules=tuple(named))
        result = post_to_channel(database, vault, poster, channel, message, batch_id, "alert")
        if result.ok:
            report.posted += 1
            _finish(
                database, keys, document.story_id, status="sent", error="",
                sent_at=datetime.now(UTC),
            )  # fmt: skip
            touch_rules(database, [rule.id for rule in claimed], datetime.now(UTC))
            continue
        log.warning(
            "channel %s: post of story %s failed: %s", channel_id, document.story_id, result.error
        )
        _finish(database, keys, document.story_id, status="failed", error=result.error[:4000])
        paused = record_outcome(
            database, channel_id, result, pause_after=settings.channel_pause_after
        )
        if paused:
            report.paused.append(channel_id)
            mail_paused_owner(settings, transport, channel, result, links)
        elif result.retryable:
            report.retry.append(channel.name or f"#{channel_id}")
            continue
        report.refused.append(channel.name or f"#{channel_id}")
    return report


def mail_paused_owner(
    settings: Settings,
    transport: MailTransport,
    channel: Channel,
    result: PostResult,
    links: AlertLinks,
) -> None:
    message = paused_message(
        sender=settings.mail_from,
        recipient=channel.owner_email,
        channel_name=channel.name,
        kind=channel.kind,
        failures=settings.channel_pause_after,
        error=result.error,
        manage_url=links.manage(channel.owner_email),
    )
    try:
        transport.send(message)
    except OSError as error:
        # The pause itself is recorded and shown on the management page.
        log.error(
            "could not tell %s that channel %s was paused: %s",
            channel.owner_email,
            channel.id,
            error,
        )


def send_test(
    database: Database,
    settings: Settings,
    poster: Poster,
    channel_id: int,
    *,
    owner_email: str | None = None,
) -> PostResult:
    """Post one sample message to a channel now (ChannelError: no such channel). A test
    does not count towards pausing; a successful one clears the count of failures."""
    with database.session() as session:
        channel = session.get(Channel, channel_id)
    if channel is None or (owner_email is not None and channel.owner_email != owner_email):
        raise ChannelError("missing", f"channel {channel_id} does not exist")
    name = channel.name or str(wording()["kinds"][channel.kind])
    message = ChannelMessage(
        event="test",
        heading=str(wording()["test_heading"]),
        note=str(wording()["test_text"]).format(name=name),
    )
    vault = Vault(settings.secret_key.get_secret_value())
    return post_to_channel(database, vault, poster, channel, message, uuid.uuid4().hex, "test")
