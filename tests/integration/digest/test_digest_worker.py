"""Publishing hands the issue to a real notifier worker over Redis, which mails it through a
real SMTP server, once per subscriber even when the event is delivered twice."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from hitwatch.broker import create_celery, send_message
from hitwatch.digest.delivery import confirm_subscriber, request_subscription
from hitwatch.digest.workflow import build_draft, publish_issue
from hitwatch.mail import open_transport
from hitwatch.messages import DigestPublished
from hitwatch.store.models import DigestDelivery
from hitwatch.tasks import DELIVER_DIGEST
from tests.integration.support import wait_for
from tests.smtp import Inbox, free_port
from tests.unit.digest.samples import END, START, store_bulletin


def test_published_issue_is_mailed_by_the_notifier_worker_once(
    settings, database, isolated_redis_url, workers
):
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail = settings.model_copy(update={"smtp_port": port, "redis_url": isolated_redis_url})
        subscriber = request_subscription(
            database, mail, open_transport(mail), "reader@example.org", confirm_url=lambda t: t
        )
        confirm_subscriber(database, subscriber.id)
        with database.session() as session:
            store_bulletin(session)
            issue = build_draft(session, mail, START, END)
            publish_issue(session, issue, mail, now=datetime(2024, 8, 1, tzinfo=UTC))
            issue_id = issue.id
        inbox.messages.clear()  # the confirmation mail

        group = workers(
            {
                "REDIS_URL": isolated_redis_url,
                "HITWATCH_DATA_DIR": str(settings.data_dir),
                "DATABASE_URL": "",
                "SMTP_PORT": str(port),
                "PUBLIC_BASE_URL": "https://hitwatch.example.org",
            }
        )
        group.start("notify")
        app = create_celery(mail, "test-webapp")
        event = DigestPublished(issue_id=issue_id)
        send_message(app, DELIVER_DIGEST, event)
        send_message(app, DELIVER_DIGEST, event)  # a redelivery must not mail twice

        def sent() -> bool:
            with database.session() as session:
                rows = session.scalars(select(DigestDelivery)).all()
            return len(rows) == 1 and rows[0].status == "sent"

        wait_for(sent, 60, "the delivery record", group.logs)
        wait_for(lambda: len(inbox.messages) >= 1, 30, "the e-mail", group.logs)
        group.stop_all()
        [message] = inbox.messages
        assert message["To"] == "reader@example.org"
        assert "https://hitwatch.example.org/digests/unsubscribe/" in message["List-Unsubscribe"]
        text = message.get_body(("plain",)).get_content()
        assert "本期导语" in text and "二、具体内容" in text
    finally:
        controller.stop()
