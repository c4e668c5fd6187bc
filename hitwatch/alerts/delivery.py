"""Mailing a document's new matches: each (rule, story) once, whatever happens to workers.

Before sending, a (rule, story) row is *claimed*: inserted, or taken over by a
conditional UPDATE when it failed before or its claim is older than ALERT_CLAIM_TIMEOUT
(the worker that held it died mid-send). Only the one writer whose INSERT or UPDATE
succeeds sends; a redelivered event finds the row `sent` and does nothing, or finds it
freshly claimed by someone else and reports it `busy` so the task is retried later.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from hitwatch.alerts.mail import AlertLinks, alert_message
from hitwatch.alerts.timing import Timing, TimingError
from hitwatch.mail import MailTransport
from hitwatch.metrics import ALERT_LATENCY
from hitwatch.policies import policy_views
from hitwatch.search import CompiledRule, SearchDocument, article_document, positive_terms
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import AlertDelivery, AlertRule, Article, ChannelDelivery

__all__ = [
    "AlertReport",
    "Claim",
    "claim",
    "claim_channel",
    "deliver_matches",
    "hold",
    "load_document",
    "load_documents",
    "rule_timing",
    "touch_rules",
]

log = logging.getLogger(__name__)

Claim = Literal["claimed", "sent", "busy", "held", "gone"]


def load_document(database: Database, doc_id: str) -> SearchDocument | None:
    return load_documents(database, [doc_id]).get(doc_id)


def load_documents(database: Database, doc_ids: Sequence[str]) -> dict[str, SearchDocument]:
    """The stored documents among `doc_ids` as the search index sees them, in two queries
    and the policy views of the batch."""
    with database.session() as session:
        articles = session.scalars(select(Article).where(Article.id.in_(set(doc_ids)))).all()
        views = policy_views(session, [article.id for article in articles])
        return {
            article.id: article_document(article, views[article.id].status, views[article.id].links)
            for article in articles
        }


def claim(
    database: Database,
    rule_id: int,
    story_id: str,
    doc_id: str,
    *,
    timeout: float,
    now: datetime | None = None,
) -> Claim:
    """Take the (rule, story) row for mailing, or say why not."""
    keys = {"rule_id": rule_id, "story_id": story_id}
    return _claim(database, AlertDelivery, keys, doc_id, timeout=timeout, now=now)


def claim_channel(
    database: Database,
    rule_id: int,
    story_id: str,
    channel_id: int,
    doc_id: str,
    *,
    timeout: float,
    now: datetime | None = None,
) -> Claim:
    """Take the (rule, story, channel) row for posting, or say why not."""
    keys = {"rule_id": rule_id, "story_id": story_id, "channel_id": channel_id}
    return _claim(database, ChannelDelivery, keys, doc_id, timeout=timeout, now=now)


def hold(
    database: Database,
    model: type[AlertDelivery] | type[ChannelDelivery],
    keys: dict[str, object],
    doc_id: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Keep a match `waiting` for its rule's next message (False: it is known already)."""
    try:
        with database.session() as session:
            session.add(
                model(
                    **keys,
                    doc_id=doc_id,
                    status="waiting",
                    attempts=0,
                    claimed_at=now or datetime.now(UTC),
                )
            )
        return True
    except IntegrityError:
        return False


def touch_rules(database: Database, rule_ids: Sequence[int], now: datetime) -> None:
    """Record that these rules' matches just went out (their minimum interval starts)."""
    with database.session() as session:
        session.execute(
            update(AlertRule)
            .where(AlertRule.id.in_(list(rule_ids)))
            .values(last_message_at=now)
            .execution_options(synchronize_session=False)
        )


def _claim(
    database: Database,
    model: type[AlertDelivery] | type[ChannelDelivery],
    keys: dict[str, object],
    doc_id: str,
    *,
    timeout: float,
    now: datetime | None,
) -> Claim:
    now = now or datetime.now(UTC)
    try:
        with database.session() as session:
            session.add(model(**keys, doc_id=doc_id, claimed_at=now))
        return "claimed"
    except IntegrityError:
        pass  # the row exists (or the rule or channel was deleted: see below)
    stale = now - timedelta(seconds=timeout)
    where = [getattr(model, name) == value for name, value in keys.items()]
    with database.session() as session:
        taken = session.execute(
            update(model)
            .where(
                *where,
                or_(
                    model.status == "failed",
                    (model.status == "sending") & (model.claimed_at < stale),
                ),
            )
            .values(
                status="sending",
                claimed_at=now,
                doc_id=doc_id,
                attempts=model.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return "claimed"
        status = session.scalar(select(model.status).where(*where))
    if status is None:
        return "gone"  # no row and no insert: the rule (or channel) no longer exists
    if status == "waiting":
        return "held"  # the scheduler's tick sends it with the rule's next message
    return "sent" if status == "sent" else "busy"


def _finish(
    database: Database, rule_id: int, story_id: str, status: str, error: str, message_id: str
) -> None:
    with database.session() as session:
        session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.rule_id == rule_id, AlertDelivery.story_id == story_id)
            .values(
                status=status,
                error=error[:4000],
                message_id=message_id,
                sent_at=datetime.now(UTC) if status == "sent" else None,
            )
            .execution_options(synchronize_session=False)
        )


def rule_timing(rule: AlertRule) -> Timing:
    """The rule's timing; a malformed one (edited by hand) is read as immediate."""
    try:
        return Timing.parse(
            rule.cadence,
            rule.daily_at,
            rule.quiet_start,
            rule.quiet_end,
            list(rule.muted_weekdays or ()),
            rule.min_interval_minutes,
        )
    except TimingError as error:
        log.warning("alert %s has a bad timing (%s): sent at once", rule.id, error)
        return Timing()


@dataclass
class AlertReport:
    held: int = 0
    sent: int = 0
    already_sent: int = 0
    busy: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


def deliver_matches(
    database: Database,
    settings: Settings,
    transport: MailTransport,
    document: SearchDocument,
    matched: Sequence[CompiledRule],
    links: AlertLinks,
) -> AlertReport:
    """Mail `document` to the owner of each matched rule that is still confirmed and active.

    The terms highlighted are the compiled query's (synonyms included)."""
    report = AlertReport()
    if not matched:
        return report
    queries = {rule.id: rule.query for rule in matched}
    rule_ids = list(queries)
    with database.session() as session:
        rules = session.scalars(
            select(AlertRule).where(
                AlertRule.id.in_(rule_ids),
                AlertRule.confirmed.is_(True),
                AlertRule.active.is_(True),
            )
        ).all()
        # The stored version's time: what "indexed -> alert handed to SMTP" measures from.
        stored_at = session.scalar(select(Article.updated_at).where(Article.id == document.doc_id))
    report.skipped = len(rule_ids) - len(rules)
    now = datetime.now(UTC)
    for rule in rules:
        if not rule.mail_enabled:
            continue  # this rule posts to its channels only
        if rule_timing(rule).holds(now, rule.last_message_at):
            keys = {"rule_id": rule.id, "story_id": document.story_id}
            report.held += hold(database, AlertDelivery, keys, document.doc_id, now=now)
            continue
        terms = [term.text for term in positive_terms(queries[rule.id])]
        state = claim(
            database,
            rule.id,
            document.story_id,
            document.doc_id,
            timeout=settings.alert_claim_timeout,
        )
        if state != "claimed":
            if state in ("sent", "held"):
                report.already_sent += 1
            elif state == "busy":
                report.busy += 1
            else:
                report.skipped += 1
            continue
        message = alert_message(
            sender=settings.mail_from,
            recipient=rule.email,
            rule_id=rule.id,
            rule_name=rule.name,
            query=rule.query,
            terms=terms,
            document=document,
            links=links,
        )
        try:
            transport.send(message)
        except (OSError, smtplib.SMTPException) as error:
            log.warning("alert %s for story %s failed: %s", rule.id, document.story_id, error)
            report.failed.append(rule.email)
            _finish(database, rule.id, document.story_id, "failed", str(error), "")
        else:
            report.sent += 1
            if stored_at is not None:
                ALERT_LATENCY.observe(max(0.0, (datetime.now(UTC) - stored_at).total_seconds()))
            _finish(database, rule.id, document.story_id, "sent", "", str(message["Message-ID"]))
            touch_rules(database, [rule.id], datetime.now(UTC))
    return report
