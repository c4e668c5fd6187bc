"""SMTP down in the middle of a digest delivery, through a real notify worker process over
a real Redis and a real SMTP server: the rest is retried, nobody gets the issue twice."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from hitwatch.bench.inbox import Inbox
from hitwatch.broker import create_celery, send_message
from hitwatch.digest.delivery import confirm_subscriber
from hitwatch.digest.workflow import build_draft, publish_issue
from hitwatch.messages import DigestPublished
from hitwatch.settings import load_settings
from hitwatch.store import open_database
from hitwatch.store.models import DigestDelivery, DigestSubscriber
from hitwatch.tasks import DELIVER_DIGEST
from tests.integration.support import wait_for
from tests.smtp import free_port
from tests.unit.digest.samples import END, START, store_bulletin

pytestmark = pytest.mark.requires_redis

SUBSCRIBERS = 40


def test_smtp_down_mid_digest_delivery_retries_the_rest_and_sends_nobody_two(
    isolated_redis_url, tmp_path, workers
) -> None:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {
        "REDIS_URL": isolated_redis_url,
        "DATABASE_URL": "",
        "HITWATCH_DATA_DIR": str(tmp_path / "data"),
        "SMTP_PORT": str(smtp.port),
        "MAIL_CATCHER": "false",
        "MAIL_FROM": "月报 <digest@example.org>",
        "PUBLIC_BASE_URL": "https://hitwatch.example.org",
        "TASK_MAX_RETRIES": "8",
        "TASK_RETRY_BACKOFF_MAX": "2",
    }
    settings = load_settings(redis_url=isolated_redis_url, data_dir=tmp_path / "data")
    database = open_database(settings.resolved_database_url)
    database.migrate()
    try:
        with database.session() as session:
            store_bulletin(session)
            issue = build_draft(session, settings, START, END)
            publish_issue(session, issue, settings, now=datetime(2024, 8, 1, tzinfo=UTC))
            issue_id = issue.id
            subscribers = [
                DigestSubscriber(email=f"reader{n}@example.org") for n in range(SUBSCRIBERS)
            ]
            session.add_all(subscribers)
        for subscriber in subscribers:
            confirm_subscriber(database, subscriber.id)

        inbox.refuse_after = 10  # the server goes down after ten mails of the issue
        group = workers(env)
        group.start("notify")
        send_message(
            create_celery(settings, "test"), DELIVER_DIGEST, DigestPublished(issue_id=issue_id)
        )
        wait_for(lambda: inbox.refused > 0, 120, "the SMTP server to refuse", group.logs)
        time.sleep(5)  # down for a while: the task's retries meet it too
        inbox.refuse_after = None

        def delivered() -> bool:
            with database.session() as session:
                rows = session.scalars(select(DigestDelivery)).all()
            return len(rows) == SUBSCRIBERS and all(row.status == "sent" for row in rows)

        wait_for(delivered, 180, "every subscriber's issue", group.logs)
    finally:
        smtp.stop()
        database.dispose()
    to = Counter(str(message["To"]) for message in inbox.messages)
    twice = {address: n for address, n in to.items() if n > 1}
    print(
        f"[smtp-down-digest] subscribers {SUBSCRIBERS} / sent {len(to)} / twice {len(twice)} "
        f"/ refused {inbox.refused}"
    )
    assert twice == {}
    assert len(to) == SUBSCRIBERS
    assert inbox.refused > 0
