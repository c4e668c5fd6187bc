"""Alert rules in the store: ask (double opt-in), confirm, list, change, pause, delete.

Nobody needs an account: a rule is created pending and only its confirmation link (mailed
to the address) makes it active; changing or deleting needs the address's signed
management link, so nobody can touch someone else's alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hitwatch.alerts.mail import AlertLinks, confirmation_message, manage_message
from hitwatch.alerts.timing import Timing
from hitwatch.errors import PermanentError, QueryError
from hitwatch.mail import MailTransport, normalize_address
from hitwatch.search import CompiledRule, RuleMatcher, compile_rule
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import (
    AlertDelivery,
    AlertRule,
    AlertRuleChannel,
    Article,
    Channel,
    ChannelAttempt,
    ChannelDelivery,
)

__all__ = [
    "AlertError",
    "AlertRequest",
    "ChannelPost",
    "RuleChange",
    "RuleStats",
    "add_rule",
    "change_rule",
    "check_query",
    "confirm_rule",
    "delete_rule",
    "load_matcher",
    "recent_posts",
    "request_alert",
    "request_manage_link",
    "rule_channel_ids",
    "rule_stats",
    "rules_of",
    "rules_version",
    "set_rule_channels",
    "set_rule_timing",
    "unsubscribe_rule",
]

log = logging.getLogger(__name__)

MAX_NAME = 200
MAX_RULES_PER_ADDRESS = 100
RESEND_AFTER = 300


class AlertError(PermanentError):
    """An alert cannot be made or changed as asked (unknown rule, too many rules ...)."""


def check_query(text: str) -> CompiledRule:
    """The rule's query prepared as a search prepares it; QueryError (with the place of the
    mistake) when malformed or naming an unknown topic."""
    return compile_rule(0, text.strip())


@dataclass(frozen=True)
class RuleChange:
    """What a management page or the CLI may change on a rule; None keeps the value."""

    query: str | None = None
    name: str | None = None
    active: bool | None = None
    include_offtopic: bool | None = None


def _new_rule(
    session: Session, email: str, query: str, name: str, include_offtopic: bool
) -> AlertRule:
    check_query(query)
    count = session.scalar(select(func.count()).where(AlertRule.email == email)) or 0
    if count >= MAX_RULES_PER_ADDRESS:
        raise AlertError(f"{email} already has {count} alerts; delete some first")
    rule = AlertRule(
        email=email,
        query=query.strip(),
        name=name.strip()[:MAX_NAME],
        include_offtopic=include_offtopic,
    )
    session.add(rule)
    session.flush()
    return rule


@dataclass(frozen=True)
class AlertRequest:
    """What asking for an alert did: the rule, and whether a mail went out just now
    (False: one went out less than RESEND_AFTER seconds ago, so none was sent again)."""

    rule: AlertRule
    mailed: bool


def request_alert(
    database: Database,
    settings: Settings,
    transport: MailTransport,
    email: str,
    query: str,
    *,
    name: str = "",
    include_offtopic: bool = False,
    links: AlertLinks,
) -> AlertRequest:
    """Record a pending rule and mail its confirmation link (AddressError, QueryError;
    OSError when the mail cannot be sent, and then asking again sends it).

    Asking again for a rule the address already has makes no duplicate: it mails the
    confirmation again (a pending rule) or the management link (a confirmed one), at
    most once per RESEND_AFTER seconds after the last mail that did go out.
    """
    address = normalize_address(email)
    now = datetime.now(UTC)
    with database.session() as session:
        rule = session.scalars(
            select(AlertRule).where(AlertRule.email == address, AlertRule.query == query.strip())
        ).first()
        if rule is None:
            rule = _new_rule(session, address, query, name, include_offtopic)
        elif not rule.confirmed:
            rule.name = name.strip()[:MAX_NAME] or rule.name
            rule.include_offtopic = include_offtopic
        # Asking again and again must not flood someone's mailbox.
        recent = rule.mailed_at is not None and now - rule.mailed_at < timedelta(
            seconds=RESEND_AFTER
        )
    if recent:
        return AlertRequest(rule, mailed=False)
    if rule.confirmed:
        # The owner may have paused it and forgotten: the mail says where to manage it.
        message = manage_message(
            sender=settings.mail_from, recipient=address, manage_url=links.manage(address)
        )
    else:
        message = confirmation_message(
            sender=settings.mail_from,
            recipient=address,
            name=rule.name,
            query=rule.query,
            confirm_url=links.confirm(rule.id),
        )
    transport.send(message)
    with database.session() as session:
        stored = session.get(AlertRule, rule.id)
        if stored is not None:
            stored.mailed_at = now
    rule.mailed_at = now
    return AlertRequest(rule, mailed=True)


def add_rule(
    database: Database, email: str, query: str, *, name: str = "", include_offtopic: bool = False
) -> AlertRule:
    """A confirmed rule at once, for an operator (`hitwatch alerts add`): no opt-in mail."""
    address = normalize_address(email)
    with database.session() as session:
        rule = _new_rule(session, address, query, name, include_offtopic)
        rule.confirmed = True
        rule.confirmed_at = datetime.now(UTC)
    return rule


def confirm_rule(database: Database, rule_id: int) -> AlertRule:
    with database.session() as session:
        rule = session.get(AlertRule, rule_id)
        if rule is None:
            raise AlertError("this alert no longer exists; set it up again")
        if not rule.confirmed:
            rule.confirmed = True
            rule.confirmed_at = datetime.now(UTC)
            rule.active = True
        return rule


def rules_of(database: Database, email: str) -> Sequence[AlertRule]:
    with database.session() as session:
        return session.scalars(
            select(AlertRule).where(AlertRule.email == email).order_by(AlertRule.id)
        ).all()


@dataclass(frozen=True)
class RuleStats:
    """What a rule has sent: mails, the last one's time, and sends that failed for now."""

    sent: int = 0
    last_sent_at: datetime | None = None
    failed: int = 0


def rule_stats(database: Database, rule_ids: Sequence[int]) -> dict[int, RuleStats]:
    """Delivery figures of each rule (rules that sent nothing are left out)."""
    if not rule_ids:
        return {}
    with database.session() as session:
        rows = session.execute(
            select(
                AlertDelivery.rule_id,
                func.count().filter(AlertDelivery.status == "sent"),
                func.max(AlertDelivery.sent_at),
                func.count().filter(AlertDelivery.status == "failed"),
            )
            .where(AlertDelivery.rule_id.in_(rule_ids))
            .group_by(AlertDelivery.rule_id)
        ).all()
    return {row[0]: RuleStats(row[1], row[2], row[3]) for row in rows}


def _owned(session: Session, email: str | None, rule_id: int) -> AlertRule:
    rule = session.get(AlertRule, rule_id)
    if rule is None or (email is not None and rule.email != email):
        raise AlertError(f"alert {rule_id} does not exist")
    return rule


def change_rule(
    database: Database, email: str | None, rule_id: int, change: RuleChange
) -> AlertRule:
    """Apply `change` to a rule of `email` (any rule when None); QueryError on a bad query."""
    with database.session() as session:
        rule = _owned(session, email, rule_id)
        if change.query is not None:
            check_query(change.query)
            rule.query = change.query.strip()
        if change.name is not None:
            rule.name = change.name.strip()[:MAX_NAME]
        if change.include_offtopic is not None:
            rule.include_offtopic = change.include_offtopic
        if change.active is not None:
            rule.active = change.active
            rule.unsubscribed_at = None if change.active else rule.unsubscribed_at
        rule.updated_at = datetime.now(UTC)
        return rule


def delete_rule(database: Database, email: str | None, rule_id: int) -> None:
    """Delete a rule of `email` (any rule when None) and its delivery records."""
    with database.session() as session:
        session.delete(_owned(session, email, rule_id))


def unsubscribe_rule(database: Database, rule_id: int) -> AlertRule | None:
    """Stop a rule's mail (one-click); idempotent, silent for rules deleted since."""
    with database.session() as session:
        rule = session.get(AlertRule, rule_id)
        if rule is not None and rule.active:
            rule.active = False
            rule.unsubscribed_at = datetime.now(UTC)
            rule.updated_at = datetime.now(UTC)
        return rule


def set_rule_channels(
    database: Database,
    email: str | None,
    rule_id: int,
    channel_ids: Sequence[int],
    *,
    mail_enabled: bool,
) -> AlertRule:
    """Where a rule's matches go: its address (`mail_enabled`) and these channels, which
    must be the rule owner's. AlertError for a channel that is someone else's or gone."""
    with database.session() as session:
        rule = _owned(session, email, rule_id)
        wanted = set(channel_ids)
        owned = set(
            session.scalars(
                select(Channel.id).where(Channel.id.in_(wanted), Channel.owner_email == rule.email)
            )
        )
        if wanted - owned:
            raise AlertError(f"channel(s) {sorted(wanted - owned)} are not {rule.email}'s")
        current = set(
            session.scalars(
                select(AlertRuleChannel.channel_id).where(AlertRuleChannel.rule_id == rule_id)
            )
        )
        for channel_id in current - wanted:
            link = session.get(AlertRuleChannel, (rule_id, channel_id))
            if link is not None:
                session.delete(link)
        for channel_id in sorted(wanted - current):
            session.add(AlertRuleChannel(rule_id=rule_id, channel_id=channel_id))
        rule.mail_enabled = mail_enabled
        rule.updated_at = datetime.now(UTC)
        return rule


def set_rule_timing(
    database: Database,
    email: str | None,
    rule_id: int,
    *,
    cadence: str = "immediate",
    daily_at: str = "08:00",
    quiet_start: str = "",
    quiet_end: str = "",
    muted_weekdays: Sequence[int] = (),
    min_interval_minutes: int = 0,
    heartbeat: bool = False,
) -> AlertRule:
    """When the rule's matches go out (TimingError when malformed); matches already held
    follow the new timing at the next tick."""
    timing = Timing.parse(
        cadence, daily_at, quiet_start, quiet_end, list(muted_weekdays), min_interval_minutes
    )
    with database.session() as session:
        rule = _owned(session, email, rule_id)
        rule.cadence = timing.cadence
        rule.daily_at = f"{timing.daily_at:%H:%M}"
        rule.quiet_start = f"{timing.quiet_start:%H:%M}" if timing.quiet_start else ""
        rule.quiet_end = f"{timing.quiet_end:%H:%M}" if timing.quiet_end else ""
        rule.muted_weekdays = sorted(timing.muted_weekdays)
        rule.min_interval_minutes = min_interval_minutes
        rule.heartbeat = heartbeat
        rule.updated_at = datetime.now(UTC)
        return rule


def rule_channel_ids(database: Database, rule_ids: Sequence[int]) -> dict[int, set[int]]:
    """The channels each rule posts to."""
    links: dict[int, set[int]] = {rule_id: set() for rule_id in rule_ids}
    if not rule_ids:
        return links
    with database.session() as session:
        for rule_id, channel_id in session.execute(
            select(AlertRuleChannel.rule_id, AlertRuleChannel.channel_id).where(
                AlertRuleChannel.rule_id.in_(rule_ids)
            )
        ):
            links[rule_id].add(channel_id)
    return links


@dataclass(frozen=True)
class ChannelPost:
    """One (rule, story, channel) delivery and the requests made for it, for the page."""

    rule_id: int
    channel_name: str
    title: str
    status: str
    attempts: int
    error: str
    claimed_at: datetime
    sent_at: datetime | None
    tries: tuple[tuple[datetime, bool, int | None, str], ...]


def recent_posts(
    database: Database, rule_ids: Sequence[int], per_rule: int = 10
) -> dict[int, list[ChannelPost]]:
    """The newest channel deliveries of each rule, each with every request made for it."""
    posts: dict[int, list[ChannelPost]] = {rule_id: [] for rule_id in rule_ids}
    if not rule_ids:
        return posts
    with database.session() as session:
        rows = [
            row
            for rule_id in rule_ids  # one small query per rule: its newest rows only
            for row in session.execute(
                select(ChannelDelivery, Channel.name, Channel.kind, Article.title)
                .join(Channel, Channel.id == ChannelDelivery.channel_id)
                .outerjoin(Article, Article.id == ChannelDelivery.doc_id)
                .where(ChannelDelivery.rule_id == rule_id)
                .order_by(ChannelDelivery.claimed_at.desc(), ChannelDelivery.id.desc())
                .limit(per_rule)
            ).all()
        ]
        batches = {row[0].batch_id for row in rows if row[0].batch_id}
        tries: dict[tuple[int, str], list[tuple[datetime, bool, int | None, str]]] = {}
        if batches:
            for attempt in session.scalars(
                select(ChannelAttempt)
                .where(ChannelAttempt.batch_id.in_(batches))
                .order_by(ChannelAttempt.id)
            ):
                tries.setdefault((attempt.channel_id, attempt.batch_id), []).append(
                    (attempt.created_at, attempt.ok, attempt.http_status, attempt.error)
                )
    for delivery, name, kind, title in rows:
        # A retry keeps the row's batch id, so its attempts are all found through it.
        posts[delivery.rule_id].append(
            ChannelPost(
                rule_id=delivery.rule_id,
                channel_name=name or kind,
                title=title or delivery.doc_id,
                status=delivery.status,
                attempts=delivery.attempts,
                error=delivery.error,
                claimed_at=delivery.claimed_at,
                sent_at=delivery.sent_at,
                tries=tuple(tries.get((delivery.channel_id, delivery.batch_id), ())),
            )
        )
    return posts


def request_manage_link(
    settings: Settings, transport: MailTransport, email: str, links: AlertLinks
) -> None:
    """Mail the management link to the address (only its owner can open it)."""
    address = normalize_address(email)
    transport.send(
        manage_message(
            sender=settings.mail_from, recipient=address, manage_url=links.manage(address)
        )
    )


def rules_version(session: Session) -> tuple[int, int, datetime | None]:
    """Changes whenever a rule is added, deleted or changed: when to reload the matcher."""
    row = session.execute(
        select(func.count(), func.max(AlertRule.id), func.max(AlertRule.updated_at))
    ).one()
    return int(row[0]), int(row[1] or 0), row[2]


def load_matcher(session: Session) -> RuleMatcher:
    """Every confirmed, active rule compiled once; a rule stored with a bad query (from an
    older grammar) is left out and logged rather than stopping every alert."""
    compiled = []
    for rule in session.scalars(
        select(AlertRule).where(AlertRule.confirmed.is_(True), AlertRule.active.is_(True))
    ):
        try:
            compiled.append(
                compile_rule(rule.id, rule.query, include_offtopic=rule.include_offtopic)
            )
        except QueryError as error:
            log.warning("alert %s has a bad query: %s", rule.id, error)
    return RuleMatcher(compiled)
