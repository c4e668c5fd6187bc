"""Alert matching and delivery in the notifier over a SQLite store and a fake transport:
exactly once per (rule, story) under redelivery, failures and dead workers."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hitwatch.alerts.delivery import claim
from hitwatch.alerts.mail import AlertLinks
from hitwatch.alerts.rules import (
    AlertError,
    RuleChange,
    add_rule,
    change_rule,
    confirm_rule,
    delete_rule,
    request_alert,
    rule_stats,
    rules_of,
    unsubscribe_rule,
)
from hitwatch.errors import QueryError, TransientError
from hitwatch.mail import AddressError
from hitwatch.messages import StoryIndexed
from hitwatch.search.memory import InMemoryIndex
from hitwatch.store.models import AlertDelivery, AlertRule
from notifier.alerts import AlertTasks
from notifier.worker import Notifier
from tests.factories import Doc, Outbox, add_documents

LINKS = AlertLinks("https://hw.example.org", "secret")


def event(doc_id: str, *, new_story: bool = True, updated: bool = False, version: int = 1):
    return StoryIndexed(
        doc_id=doc_id,
        story_id=f"s-{doc_id}",
        version=version,
        new_story=new_story,
        updated=updated,
        title="t",
        source_name="新京报",
    )


@pytest.fixture
def transport() -> Outbox:
    return Outbox()


@pytest.fixture
def tasks(database, settings, transport) -> AlertTasks:
    return AlertTasks(database, settings, transport=lambda _settings: transport)


def store(database, *docs: Doc) -> None:
    add_documents(database, InMemoryIndex(), list(docs))


def test_a_matching_story_is_mailed_once_per_rule(database, tasks, transport):
    wanted = add_rule(database, "a@example.org", "电子病历")
    add_rule(database, "b@example.org", "医保 -广告")
    store(database, Doc("d1", "推进电子病历建设", "医保局发布通知"))
    tasks.handle(event("d1"))
    tasks.handle(event("d1"))  # redelivered
    notifier = Notifier(database, tasks)
    notifier.handle(event("d1").to_payload())  # through the task shell too
    assert sorted(m["To"] for m in transport.sent) == ["a@example.org", "b@example.org"]
    with database.session() as session:
        rows = session.scalars(select(AlertDelivery).order_by(AlertDelivery.rule_id)).all()
        assert [r.status for r in rows] == ["sent", "sent"] and rows[0].rule_id == wanted.id
        assert all(r.message_id.startswith("<") for r in rows)


def test_copies_and_off_topic_items_do_not_alert(database, tasks, transport):
    add_rule(database, "a@example.org", "电子病历")
    add_rule(database, "c@example.org", "病历", include_offtopic=True)
    store(database, Doc("d2", "电子病历广告", "", relevant=False))
    tasks.handle(event("d2"))
    assert [m["To"] for m in transport.sent] == ["c@example.org"]
    store(database, Doc("d3", "电子病历", ""))
    tasks.handle(event("d3", new_story=False))  # a reprint joining a known story
    assert len(transport.sent) == 1
    tasks.handle(event("d3", new_story=False, updated=True, version=2))  # changed text
    assert len(transport.sent) == 3


def test_a_reclassified_item_alerts_nobody(database, tasks, transport):
    add_rule(database, "a@example.org", "电子病历")
    store(database, Doc("d4", "电子病历", ""))
    reclassified = event("d4", new_story=False, updated=True, version=2).model_copy(
        update={"reclassified": True}
    )
    tasks.handle(reclassified)
    assert transport.sent == []
    tasks.handle(event("d4"))  # the story as news: mailed, once
    tasks.handle(reclassified)
    assert len(transport.sent) == 1


def test_pending_paused_and_deleted_rules_get_nothing(database, settings, tasks, transport):
    pending = request_alert(
        database, settings, transport, "p@example.org", "电子病历", links=LINKS
    ).rule
    paused = add_rule(database, "q@example.org", "电子病历")
    change_rule(database, "q@example.org", paused.id, RuleChange(active=False))
    gone = add_rule(database, "r@example.org", "电子病历")
    delete_rule(database, "r@example.org", gone.id)
    transport.sent.clear()  # the confirmation mail
    store(database, Doc("d4", "电子病历", ""))
    tasks.handle(event("d4"))
    assert transport.sent == []
    confirm_rule(database, pending.id)  # rules are reloaded when they change
    store(database, Doc("d5", "电子病历系统", ""))
    tasks.handle(event("d5"))
    assert [m["To"] for m in transport.sent] == ["p@example.org"]
    unsubscribe_rule(database, pending.id)
    store(database, Doc("d6", "电子病历系统", ""))
    tasks.handle(event("d6"))
    assert len(transport.sent) == 1


def test_a_failed_send_is_recorded_and_retried(database, tasks, transport):
    add_rule(database, "a@example.org", "电子病历")
    store(database, Doc("d7", "电子病历", ""))
    transport.error = smtplib.SMTPServerDisconnected("down")
    with pytest.raises(TransientError):
        tasks.handle(event("d7"))
    with database.session() as session:
        row = session.scalars(select(AlertDelivery)).one()
        assert (row.status, row.error) == ("failed", "down")
    transport.error = None
    tasks.handle(event("d7"))
    assert len(transport.sent) == 1
    with database.session() as session:
        row = session.scalars(select(AlertDelivery)).one()
        assert (row.status, row.attempts) == ("sent", 2)
    [stats] = rule_stats(database, [row.rule_id]).values()
    assert (stats.sent, stats.failed) == (1, 0) and stats.last_sent_at is not None


def test_a_claim_of_a_dead_worker_is_taken_over_after_the_timeout(database, settings, transport):
    rule = add_rule(database, "a@example.org", "电子病历")
    store(database, Doc("d8", "电子病历", ""))
    long_ago = datetime.now(UTC) - timedelta(seconds=settings.alert_claim_timeout + 5)
    # A worker claimed the row, then died before sending.
    assert claim(database, rule.id, "s-d8", "d8", timeout=60, now=long_ago) == "claimed"
    fresh = AlertTasks(database, settings, transport=lambda _s: transport)
    fresh.handle(event("d8"))
    assert len(transport.sent) == 1
    # A claim that is still fresh belongs to a live worker: busy, try again later.
    store(database, Doc("d9", "电子病历", ""))
    assert claim(database, rule.id, "s-d9", "d9", timeout=60) == "claimed"
    with pytest.raises(TransientError, match="being sent elsewhere"):
        fresh.handle(event("d9"))
    assert len(transport.sent) == 1
    assert claim(database, rule.id, "s-d8", "d8", timeout=60) == "sent"
    assert claim(database, 999, "s-d8", "d8", timeout=60) == "gone"


def test_requests_are_checked_and_owned(database, settings, transport):
    with pytest.raises(AddressError):
        request_alert(database, settings, transport, "nobody", "医保", links=LINKS)
    with pytest.raises(QueryError):
        request_alert(database, settings, transport, "a@example.org", "(医保", links=LINKS)
    first = request_alert(database, settings, transport, "A@example.org", "医保", links=LINKS)
    again = request_alert(database, settings, transport, "a@example.org", "医保", links=LINKS)
    assert first.rule.id == again.rule.id and len(transport.sent) == 1  # not twice in a row
    assert first.mailed and not again.mailed  # and the page says so, rather than "sent"
    with database.session() as session:
        session.get(AlertRule, first.rule.id).mailed_at = datetime.now(UTC) - timedelta(hours=1)
    assert request_alert(database, settings, transport, "a@example.org", "医保", links=LINKS).mailed
    assert len(transport.sent) == 2  # later, the confirmation is sent again
    confirm_rule(database, first.rule.id)
    request_alert(database, settings, transport, "a@example.org", "医保", links=LINKS)
    assert len(transport.sent) == 2  # asked again too soon: no mail
    with database.session() as session:
        session.get(AlertRule, first.rule.id).mailed_at = datetime.now(UTC) - timedelta(hours=1)
    request_alert(database, settings, transport, "a@example.org", "医保", links=LINKS)
    assert "/alerts/manage/" in transport.sent[-1].get_content()  # confirmed: where to manage
    with pytest.raises(AlertError):
        change_rule(database, "other@example.org", first.rule.id, RuleChange(active=False))
    with pytest.raises(QueryError):
        change_rule(database, "a@example.org", first.rule.id, RuleChange(query="医保 (DRG"))
    changed = change_rule(database, "a@example.org", first.rule.id, RuleChange(query="医保 DRG"))
    assert changed.query == "医保 DRG"
    assert [r.query for r in rules_of(database, "a@example.org")] == ["医保 DRG"]
