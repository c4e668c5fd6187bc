"""The scheduler's tick (every minute): send what rules held back, and heartbeats.

A match a rule holds (bundled, quiet hours, muted weekday, minimum interval) is a
`waiting` delivery row (`delivery.hold`). Each tick, for every rule whose timing has a
cutoff now (`timing.Timing.cutoff`), its waiting rows from before the cutoff are claimed
(a conditional UPDATE: one tick sends them, however many workers run it) and sent as one
message per target: one e-mail per address, one post per channel, listing every match
policies first, then newest first, each naming the rules it matched. Rows of a post that
failed for a passing reason go back to `waiting` for the next tick; the channel's failures
count towards pausing it as for immediate posts.

Heartbeat: a rule with `heartbeat` that sent nothing in the day before its daily time
sends 今日无新匹配 to its targets once that day, so a team knows the monitor runs.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update

from hitwatch.alerts.delivery import rule_timing, touch_rules
from hitwatch.alerts.mail import AlertLinks, bundle_message, heartbeat_message
from hitwatch.alerts.posting import channel_item, mail_paused_owner
from hitwatch.channels import (
    ChannelItem,
    ChannelMessage,
    Poster,
    Vault,
    post_to_channel,
    record_outcome,
)
from hitwatch.channels.formats import rule_names, wording
from hitwatch.errors import QueryError
from hitwatch.mail import MailTransport
from hitwatch.search import SearchDocument, article_document, compile_rule, positive_terms
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import (
    AlertDelivery,
    AlertRule,
    AlertRuleChannel,
    Article,
    Channel,
    ChannelDelivery,
)

__all__ = ["BundleReport", "order_items", "send_due"]

log = logging.getLogger(__name__)

POLICY = "政策文件"
Row = AlertDelivery | ChannelDelivery


@dataclass
class BundleReport:
    mails: int = 0
    posts: int = 0
    items: int = 0
    heartbeats: int = 0
    failed: list[str] = field(default_factory=list)


def order_items(items: Sequence[ChannelItem]) -> list[ChannelItem]:
    """Policies first, then newest first (undated last)."""
    newest = sorted(
        items,
        key=lambda item: item.published_at or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )
    return sorted(newest, key=lambda item: item.doc_type != POLICY)


def _pending(model: Any, stale: datetime) -> ColumnElement[bool]:
    """Rows to send: held ones, and claims left by a worker that died (after the timeout)."""
    return or_(
        model.status == "waiting",
        (model.status == "sending") & (model.claimed_at < stale),
    )


def _terms(rule: AlertRule) -> list[str]:
    try:
        return [term.text for term in positive_terms(compile_rule(rule.id, rule.query).query)]
    except QueryError:  # a stored query of an older grammar: no terms shown
        return []


@dataclass
class _Group:
    rows: list[Row] = field(default_factory=list)
    rules: dict[int, AlertRule] = field(default_factory=dict)


def send_due(
    database: Database,
    settings: Settings,
    poster: Poster,
    transport: MailTransport,
    links: AlertLinks,
    *,
    now: datetime | None = None,
) -> BundleReport:
    """Send every held match whose rule may send now, and the heartbeats that are due."""
    now = now or datetime.now(UTC)
    report = BundleReport()
    stale = now - timedelta(seconds=settings.alert_claim_timeout)
    with database.session() as session:
        rule_ids = set(
            session.scalars(select(AlertDelivery.rule_id).where(_pending(AlertDelivery, stale)))
        ) | set(
            session.scalars(select(ChannelDelivery.rule_id).where(_pending(ChannelDelivery, stale)))
        )
        rules = {
            rule.id: rule
            for rule in session.scalars(
                select(AlertRule).where(
                    AlertRule.id.in_(rule_ids),
                    AlertRule.confirmed.is_(True),
                    AlertRule.active.is_(True),
                )
            )
        }
        cutoffs = {
            rule_id: cutoff
            for rule_id, rule in rules.items()
            if (cutoff := rule_timing(rule).cutoff(now, rule.last_message_at)) is not None
        }
        mail: dict[str, _Group] = defaultdict(_Group)
        posts: dict[int, _Group] = defaultdict(_Group)
        if cutoffs:
            for row in session.scalars(
                select(AlertDelivery).where(
                    AlertDelivery.rule_id.in_(cutoffs), _pending(AlertDelivery, stale)
                )
            ):
                rule = rules[row.rule_id]
                if row.claimed_at < cutoffs[row.rule_id] and rule.mail_enabled:
                    mail[rule.email].rows.append(row)
                    mail[rule.email].rules[rule.id] = rule
            active = set(session.scalars(select(Channel.id).where(Channel.state == "active")))
            for post_row in session.scalars(
                select(ChannelDelivery).where(
                    ChannelDelivery.rule_id.in_(cutoffs), _pending(ChannelDelivery, stale)
                )
            ):
                if (
                    post_row.claimed_at < cutoffs[post_row.rule_id]
                    and post_row.channel_id in active
                ):
                    posts[post_row.channel_id].rows.append(post_row)
                    posts[post_row.channel_id].rules[post_row.rule_id] = rules[post_row.rule_id]
    sent_rules: set[int] = set()
    for address, group in mail.items():
        sent_rules |= _send_mail(database, settings, transport, links, address, group, now, report)
    for channel_id, group in posts.items():
        sent_rules |= _send_post(
            database, settings, poster, transport, links, channel_id, group, now, report
        )
    if sent_rules:
        touch_rules(database, sorted(sent_rules), now)
    _heartbeats(database, settings, poster, transport, links, now, report)
    return report


def _claim_rows(
    database: Database,
    model: Any,
    rows: list[Row],
    batch_id: str,
    now: datetime,
    stale: datetime,
) -> list[Row]:
    """Take the rows for this message: only those still pending (another tick may have
    taken some)."""
    ids = [row.id for row in rows]
    with database.session() as session:
        session.execute(
            update(model)
            .where(model.id.in_(ids), _pending(model, stale))
            .values(
                status="sending",
                claimed_at=now,
                attempts=model.attempts + 1,
                **(
                    {"batch_id": batch_id} if model is ChannelDelivery else {"message_id": batch_id}
                ),
            )
            .execution_options(synchronize_session=False)
        )
        return list(
            session.scalars(
                select(model).where(
                    model.id.in_(ids),
                    model.status == "sending",
                    (model.batch_id if model is ChannelDelivery else model.message_id) == batch_id,
                )
            )
        )


def _finish_rows(database: Database, model: Any, rows: list[Row], **values: object) -> None:
    with database.session() as session:
        session.execute(
            update(model)
            .where(model.id.in_([row.id for row in rows]))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _release(database: Database, model: Any, found: list[Row], error: str) -> None:
    """Back to `waiting` for the next tick, each row with the time its match was found
    (the claim overwrote it), so it stays in the window it belongs to."""
    with database.session() as session:
        for row in found:
            session.execute(
                update(model)
                .where(model.id == row.id, model.status == "sending")
                .values(status="waiting", claimed_at=row.claimed_at, error=error[:4000])
                .execution_options(synchronize_session=False)
            )


def _items(
    database: Database, rows: list[Row], rules: dict[int, AlertRule], links: AlertLinks
) -> list[ChannelItem]:
    """One item per story, naming every rule of the message that matched it."""
    by_story: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_story[row.story_id].append(row)
    with database.session() as session:
        documents: dict[str, SearchDocument] = {
            article.id: article_document(article)
            for article in session.scalars(
                select(Article).where(Article.id.in_({row.doc_id for row in rows}))
            )
        }
    items = []
    for story_rows in by_story.values():
        document = documents.get(story_rows[-1].doc_id)
        if document is None:
            continue  # the article is gone from the store: nothing to show
        matched = [rules[row.rule_id] for row in story_rows]
        items.append(
            channel_item(
                document,
                [term for rule in matched for term in _terms(rule)],
                list(dict.fromkeys(rule.name or rule.query for rule in matched)),
                links,
            )
        )
    return order_items(items)


def _names(rules: dict[int, AlertRule]) -> str:
    return rule_names([(rule.id, rule.name or rule.query) for rule in rules.values()])


def _send_mail(
    database: Database,
    settings: Settings,
    transport: MailTransport,
    links: AlertLinks,
    address: str,
    group: _Group,
    now: datetime,
    report: BundleReport,
) -> set[int]:
    stale = now - timedelta(seconds=settings.alert_claim_timeout)
    message_key = f"bundle-{uuid.uuid4().hex}"
    rows = _claim_rows(database, AlertDelivery, group.rows, message_key, now, stale)
    if not rows:
        return set()
    rules = {row.rule_id: group.rules[row.rule_id] for row in rows}
    items = _items(database, rows, rules, links)
    message = bundle_message(
        sender=settings.mail_from,
        recipient=address,
        names=_names(rules),
        items=items,
        manage_url=links.manage(address),
        unsubscribe_rule=next(iter(rules)) if len(rules) == 1 else None,
        links=links,
    )
    try:
        transport.send(message)
    except OSError as error:
        log.warning("bundle mail to %s failed (kept for the next tick): %s", address, error)
        taken = {row.id for row in rows}
        _release(database, AlertDelivery, [r for r in group.rows if r.id in taken], str(error))
        report.failed.append(address)
        return set()
    _finish_rows(
        database, AlertDelivery, rows, status="sent", error="",
        message_id=str(message["Message-ID"]), sent_at=datetime.now(UTC),
    )  # fmt: skip
    report.mails += 1
    report.items += len(items)
    return set(rules)


def _send_post(
    database: Database,
    settings: Settings,
    poster: Poster,
    transport: MailTransport,
    links: AlertLinks,
    channel_id: int,
    group: _Group,
    now: datetime,
    report: BundleReport,
) -> set[int]:
    stale = now - timedelta(seconds=settings.alert_claim_timeout)
    batch_id = uuid.uuid4().hex
    rows = _claim_rows(database, ChannelDelivery, group.rows, batch_id, now, stale)
    with database.session() as session:
        channel = session.get(Channel, channel_id)
    if not rows or channel is None:
        return set()
    rules = {row.rule_id: group.rules[row.rule_id] for row in rows}
    items = _items(database, rows, rules, links)
    names = _names(rules)
    heading = (
        str(wording()["alert_heading"]).format(names=names, title=items[0].title)
        if len(items) == 1
        else str(wording()["alert_heading_many"]).format(names=names, count=len(items))
    )
    message = ChannelMessage(
        event="alert",
        heading=heading,
        items=tuple(items),
        rules=tuple((rule.id, rule.name or rule.query) for rule in rules.values()),
    )
    vault = Vault(settings.secret_key.get_secret_value())
    result = post_to_channel(database, vault, poster, channel, message, batch_id, "bundle")
    if result.ok:
        _finish_rows(
            database, ChannelDelivery, rows, status="sent", error="", sent_at=datetime.now(UTC)
        )
        report.posts += 1
        report.items += len(items)
        return set(rules)
    paused = record_outcome(database, channel_id, result, pause_after=settings.channel_pause_after)
    if result.retryable and not paused:
        taken = {row.id for row in rows}
        _release(database, ChannelDelivery, [r for r in group.rows if r.id in taken], result.error)
    else:
        _finish_rows(database, ChannelDelivery, rows, status="failed", error=result.error[:4000])
    report.failed.append(channel.name or f"#{channel_id}")
    if paused:
        mail_paused_owner(settings, transport, channel, result, links)
    return set()


def _heartbeats(
    database: Database,
    settings: Settings,
    poster: Poster,
    transport: MailTransport,
    links: AlertLinks,
    now: datetime,
    report: BundleReport,
) -> None:
    with database.session() as session:
        candidates = session.scalars(
            select(AlertRule).where(
                AlertRule.heartbeat.is_(True),
                AlertRule.confirmed.is_(True),
                AlertRule.active.is_(True),
            )
        ).all()
    for rule in candidates:
        timing = rule_timing(rule)
        slot = timing.daily_slot(now)
        quiet_day = rule.last_message_at is None or rule.last_message_at < slot - timedelta(days=1)
        if not timing.is_open(now) or not quiet_day:
            continue
        if rule.created_at > slot - timedelta(days=1):
            continue  # a rule younger than a day has not had a day yet
        with database.session() as session:
            taken = session.execute(
                update(AlertRule)
                .where(
                    AlertRule.id == rule.id,
                    or_(AlertRule.heartbeat_at.is_(None), AlertRule.heartbeat_at < slot),
                )
                .values(heartbeat_at=now)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue  # sent today already (or by another tick right now)
            channels = session.scalars(
                select(Channel)
                .join(AlertRuleChannel, AlertRuleChannel.channel_id == Channel.id)
                .where(AlertRuleChannel.rule_id == rule.id, Channel.state == "active")
            ).all()
        name = rule.name or rule.query
        if rule.mail_enabled:
            try:
                transport.send(
                    heartbeat_message(
                        sender=settings.mail_from, recipient=rule.email, name=name,
                        manage_url=links.manage(rule.email),
                    )
                )  # fmt: skip
                report.heartbeats += 1
            except OSError as error:
                log.warning("heartbeat of alert %s not mailed: %s", rule.id, error)
        vault = Vault(settings.secret_key.get_secret_value())
        message = ChannelMessage(
            event="heartbeat",
            heading=str(wording()["heartbeat_heading"]).format(name=name),
            rules=((rule.id, name),),
            note=str(wording()["heartbeat_text"]),
        )
        for channel in channels:
            beat = uuid.uuid4().hex
            if post_to_channel(database, vault, poster, channel, message, beat, "heartbeat").ok:
                report.heartbeats += 1
