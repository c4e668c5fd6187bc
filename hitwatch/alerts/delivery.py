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
from hitwatch.mail import MailTransport
from hitwatch.policies import document_links, document_status
from hitwatch.search import CompiledRule, SearchDocument, article_document, positive_terms
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import AlertDelivery, AlertRule, Article

__all__ = ["AlertReport", "Claim", "claim", "deliver_matches", "load_document"]

log = logging.getLogger(__name__)

Claim = Literal["claimed", "sent", "busy", "gone"]


def load_document(database: Database, doc_id: str) -> SearchDocument | None:
    with database.session() as session:
        article = session.get(Article, doc_id)
        if article is None:
            return None
        return article_document(
            article, document_status(session, doc_id), document_links(session, doc_id)
        )


def claim(
    database: Database,
    rule_id: int,
    story_id: str,
    doc_id: str,
    *,
    timeout: float,
    now: datetime | None = None,
) -> Claim:
    """Take the (rule, story) row for sending, or say why not."""
    now = now or datetime.now(UTC)
    try:
        with database.session() as session:
            session.add(
                AlertDelivery(rule_id=rule_id, story_id=story_id, doc_id=doc_id, claimed_at=now)
            )
        return "claimed"
    except IntegrityError:
        pass  # the row exists (or the rule was deleted: see below)
    stale = now - timedelta(seconds=timeout)
    with database.session() as session:
        taken = session.execute(
            update(AlertDelivery)
            .where(
                AlertDelivery.rule_id == rule_id,
                AlertDelivery.story_id == story_id,
                or_(
                    AlertDelivery.status == "failed",
                    (AlertDelivery.status == "sending") & (AlertDelivery.claimed_at < stale),
                ),
            )
            .values(
                status="sending",
                claimed_at=now,
                doc_id=doc_id,
                attempts=AlertDelivery.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return "claimed"
        status = session.scalar(
            select(AlertDelivery.status).where(
                AlertDelivery.rule_id == rule_id, AlertDelivery.story_id == story_id
            )
        )
    if status is None:
        return "gone"  # no row and no insert: the rule no longer exists
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


@dataclass
class AlertReport:
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
    report.skipped = len(rule_ids) - len(rules)
    for rule in rules:
        terms = [term.text for term in positive_terms(queries[rule.id])]
        state = claim(
            database,
            rule.id,
            document.story_id,
            document.doc_id,
            timeout=settings.alert_claim_timeout,
        )
        if state != "claimed":
            if state == "sent":
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
            _finish(database, rule.id, document.story_id, "sent", "", str(message["Message-ID"]))
    return report
