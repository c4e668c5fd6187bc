"""Alerts end to end on real servers: the indexer and notifier worker processes over Redis,
the store on PostgreSQL and on SQLite, mail through a real SMTP server (aiosmtpd).

A matching document is mailed once per rule however often its event is delivered; a
claim left by a worker that died is taken over after ALERT_CLAIM_TIMEOUT.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from hitwatch.alerts.delivery import claim
from hitwatch.alerts.mail import UNSUBSCRIBE, AlertLinks
from hitwatch.alerts.rules import add_rule, confirm_rule, request_alert, rule_stats
from hitwatch.broker import create_celery, send_message
from hitwatch.mail import open_transport, read_token
from hitwatch.messages import ClassifiedDocument, TopicScore, stable_id
from hitwatch.settings import load_settings
from hitwatch.store import open_database
from hitwatch.store.models import AlertDelivery, StoryEvent
from hitwatch.tasks import INDEX_DOCUMENT
from tests.factories import classified_document
from tests.integration.support import wait_for
from tests.smtp import Inbox, free_port

pytestmark = pytest.mark.requires_redis

BASE = "https://hitwatch.example.org"


def document(n: int, title: str, body: str, **fields) -> ClassifiedDocument:
    url = f"https://www.nhc.gov.cn/yzygj/s7659/2024{n:04d}.shtml"
    return classified_document(
        stable_id(url),
        url=url,
        canonical_url=url,
        source_id="nhc",
        source_name="国家卫健委",
        source_kind="government",
        title=title,
        published_at=datetime(2024, 7, 1, 2, tzinfo=UTC),
        body=body,
        content_hash=stable_id(f"body-{n}-{body}"),
        story_id=stable_id(f"story-{n}"),
        fetched_at=datetime(2024, 7, 2, tzinfo=UTC),
        topics=[TopicScore(code="G", name="电子病历", score=1.0)],
        doc_type="政策文件",
        **fields,
    )


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def stack(request, isolated_redis_url, tmp_path, workers, smtp):
    database_url = (
        request.getfixturevalue("fresh_postgres_url") if request.param == "postgres" else ""
    )
    env = {
        "REDIS_URL": isolated_redis_url,
        "DATABASE_URL": database_url,
        "ELASTICSEARCH_URL": "",
        "HITWATCH_DATA_DIR": str(tmp_path / "data"),
        "SMTP_PORT": str(smtp[1]),
        "MAIL_FROM": "hitwatch <alerts@example.org>",
        "PUBLIC_BASE_URL": BASE,
        "SECRET_KEY": "integration-secret-0123456789abcdef",
        "ALERT_CLAIM_TIMEOUT": "3",
        "TASK_MAX_RETRIES": "8",
        "TASK_RETRY_BACKOFF_MAX": "1",
    }
    settings = load_settings(
        redis_url=isolated_redis_url,
        database_url=database_url,
        data_dir=tmp_path / "data",
        smtp_port=smtp[1],
        mail_from="hitwatch <alerts@example.org>",
        secret_key="integration-secret-0123456789abcdef",
    )
    database = open_database(settings.resolved_database_url)
    database.migrate()
    group = workers(env)
    yield settings, database, group, smtp[0]
    group.stop_all()
    database.dispose()


def test_a_new_matching_story_is_mailed_once_through_the_workers(stack):
    settings, database, group, inbox = stack
    links = AlertLinks(BASE, "integration-secret-0123456789abcdef")
    # Double opt-in through real SMTP: the confirmation mail carries the link.
    pending = request_alert(
        database, settings, open_transport(settings), "reader@example.org", "电子病历 -广告",
        name="病历动态", links=links,
    ).rule  # fmt: skip
    [confirmation] = inbox.messages
    confirm_url = re.search(r"https://\S+/alerts/confirm/\S+", confirmation.get_content()).group()
    assert confirm_url.startswith(BASE)
    confirm_rule(database, pending.id)
    other = add_rule(database, "policy@example.org", "type:政策文件 DRG")
    inbox.messages.clear()

    group.start("index")
    group.start("notify")
    app = create_celery(settings, "test")
    matching = document(1, "关于推进电子病历系统应用水平分级评价的通知", "各地要推进电子病历建设。")
    send_message(app, INDEX_DOCUMENT, matching)
    send_message(app, INDEX_DOCUMENT, matching)  # redelivered: no second mail
    send_message(app, INDEX_DOCUMENT, document(2, "互联网医院管理办法", "广告"))

    def delivered() -> bool:
        with database.session() as session:
            events = session.scalars(select(StoryEvent)).all()
            rows = session.scalars(select(AlertDelivery)).all()
        return len(events) == 2 and len(rows) == 1 and rows[0].status == "sent"

    wait_for(delivered, 180, "the alert delivery", group.logs)
    wait_for(lambda: len(inbox.messages) >= 1, 30, "the alert e-mail", group.logs)
    [message] = inbox.messages
    assert message["To"] == "reader@example.org"
    assert message["Subject"] == "【提醒：病历动态】关于推进电子病历系统应用水平分级评价的通知"
    one_click = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = urllib.parse.urlsplit(one_click).path.split("/")[3]
    assert read_token("integration-secret-0123456789abcdef", UNSUBSCRIBE, token, 60) == pending.id
    text = message.get_body(("plain",)).get_content()
    assert "来源：国家卫健委" in text and "2024-07-01" in text and "【电子病历】" in text
    assert f"{BASE}/items/{matching.doc_id}" in text and matching.url in text
    html = message.get_body(("html",)).get_content()
    assert "<mark>电子病历</mark>" in html
    with database.session() as session:
        row = session.scalars(select(AlertDelivery)).one()
        assert row.message_id == message["Message-ID"]
        assert row.rule_id == pending.id
    assert other.id != pending.id


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_timeout(stack):
    settings, database, group, inbox = stack
    rule = add_rule(database, "reader@example.org", "医保")
    doc = document(3, "医保信息化标准", "医保局发布通知。")
    # A worker claimed this (rule, story) and died before sending: its claim is fresh.
    assert claim(database, rule.id, doc.story_id, doc.doc_id, timeout=3) == "claimed"
    group.start("index")
    group.start("notify")
    send_message(create_celery(settings, "test"), INDEX_DOCUMENT, doc)

    def sent() -> bool:
        with database.session() as session:
            row = session.scalars(select(AlertDelivery)).one()
        return row.status == "sent"

    # Generous: two worker processes start on a machine shared with other test runs.
    wait_for(sent, 180, "the alert after the timeout", group.logs)
    wait_for(lambda: len(inbox.messages) >= 1, 30, "the alert e-mail", group.logs)
    assert len(inbox.messages) == 1
    with database.session() as session:
        row = session.scalars(select(AlertDelivery)).one()
    assert (row.status, row.attempts) == ("sent", 2)
    assert rule_stats(database, [rule.id])[rule.id].sent == 1


def test_concurrent_claims_of_one_pair_let_one_sender_through(stack):
    _settings, database, _group, _inbox = stack
    rule = add_rule(database, "reader@example.org", "医保")
    results: list[str] = []
    barrier = threading.Barrier(8)

    def take() -> None:
        barrier.wait()
        results.append(claim(database, rule.id, "story-x", "doc-x", timeout=600))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["busy"] * 7 + ["claimed"]
