"""Channel posts through the real worker processes over Redis, the store on SQLite and on
PostgreSQL, against the local receiver: retried by the broker after a 5xx, and exactly
once (one delivery id) when the notify worker is killed in the middle of a post."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hitwatch.alerts.rules import add_rule, set_rule_channels
from hitwatch.broker import create_celery, send_message
from hitwatch.channels import HttpPoster, Vault, add_channel
from hitwatch.messages import ClassifiedDocument, TopicScore, stable_id
from hitwatch.settings import load_settings
from hitwatch.store import open_database
from hitwatch.store.models import Channel, ChannelAttempt, ChannelDelivery
from hitwatch.tasks import INDEX_DOCUMENT
from tests.factories import classified_document
from tests.integration.support import wait_for
from tests.migrations import check_channels_migration

pytestmark = pytest.mark.requires_redis

SECRET_KEY = "integration-secret-0123456789abcdef"
OWNER = "team@example.org"


def document(n: int, title: str) -> ClassifiedDocument:
    url = f"https://www.nhc.gov.cn/yzygj/s7659/2024{n:04d}.shtml"
    return classified_document(
        stable_id(url), url=url, canonical_url=url, source_id="nhc", source_name="国家卫健委",
        source_kind="government", title=title, published_at=datetime(2024, 7, 1, 2, tzinfo=UTC),
        body="各地要推进电子病历建设。", content_hash=stable_id(f"body-{n}"),
        story_id=stable_id(f"story-{n}"), fetched_at=datetime(2024, 7, 2, tzinfo=UTC),
        topics=[TopicScore(code="G", name="电子病历", score=1.0)], doc_type="政策文件",
    )  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def stack(request, isolated_redis_url, tmp_path, workers, inbox, receiver):
    database_url = (
        request.getfixturevalue("fresh_postgres_url") if request.param == "postgres" else ""
    )
    env = {
        "REDIS_URL": isolated_redis_url,
        "DATABASE_URL": database_url,
        "ELASTICSEARCH_URL": "",
        "HITWATCH_DATA_DIR": str(tmp_path / "data"),
        "SMTP_PORT": str(inbox[1]),
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_BASE_URL": "https://hitwatch.example.org",
        "ALERT_CLAIM_TIMEOUT": "3",
        "BROKER_VISIBILITY_TIMEOUT": "5",
        "TASK_MAX_RETRIES": "8",
        "TASK_RETRY_BACKOFF_MAX": "1",
        "CHANNEL_ALLOW_HTTP": "true",
        "CHANNEL_ALLOWED_HOSTS": "127.0.0.1",
    }
    settings = load_settings(
        redis_url=isolated_redis_url, database_url=database_url, data_dir=tmp_path / "data",
        secret_key=SECRET_KEY, channel_allow_http=True, channel_allowed_hosts="127.0.0.1",
    )  # fmt: skip
    database = open_database(settings.resolved_database_url)
    database.migrate()
    rule = add_rule(database, OWNER, "电子病历", name="病历动态")
    made = [
        add_channel(
            database,
            Vault(SECRET_KEY),
            HttpPoster.from_settings(settings),
            OWNER,
            kind,
            receiver.url(kind),
            secret=receiver.secret,
        )
        for kind in ("dingtalk", "webhook")
    ]
    set_rule_channels(database, OWNER, rule.id, [c.id for c in made], mail_enabled=False)
    group = workers(env)
    yield settings, database, group
    group.stop_all()
    database.dispose()


def _rows(database) -> list[ChannelDelivery]:
    with database.session() as session:
        return list(session.scalars(select(ChannelDelivery).order_by(ChannelDelivery.id)))


def test_a_failed_post_is_retried_by_the_broker_and_arrives_once(stack, receiver):
    settings, database, group = stack
    receiver.fail_with = [500, 500]
    group.start("index")
    group.start("notify")
    app = create_celery(settings, "test")
    matching = document(1, "关于推进电子病历系统应用水平分级评价的通知")
    send_message(app, INDEX_DOCUMENT, matching)
    send_message(app, INDEX_DOCUMENT, matching)  # redelivered: nothing twice
    wait_for(
        lambda: [r.status for r in _rows(database)] == ["sent", "sent"],
        180, "both channel posts", group.logs,
    )  # fmt: skip
    assert len(receiver.messages("dingtalk")) == 1 and len(receiver.messages("webhook")) == 1
    assert receiver.refused == []
    with database.session() as session:
        failed = session.scalars(select(ChannelAttempt).where(ChannelAttempt.ok.is_(False))).all()
    assert [a.http_status for a in failed] == [500, 500]


def test_a_post_cut_by_a_killed_worker_is_sent_again_with_the_same_delivery_id(stack, receiver):
    settings, database, group = stack
    receiver.delay = 8.0  # the post is in flight when the worker dies
    group.start("index")
    notify = group.start("notify")
    send_message(create_celery(settings, "test"), INDEX_DOCUMENT, document(2, "电子病历新规"))
    wait_for(lambda: receiver.requests >= 1, 180, "the first post", group.logs)
    group.kill(notify)
    receiver.delay = 0.0
    group.start("notify")  # the task comes back after BROKER_VISIBILITY_TIMEOUT
    wait_for(
        lambda: sorted(r.status for r in _rows(database)) == ["sent", "sent"],
        180, "the posts after the kill", group.logs,
    )  # fmt: skip
    with database.session() as session:
        by_kind = {
            kind: row
            for row, kind in session.execute(
                select(ChannelDelivery, Channel.kind).join(
                    Channel, Channel.id == ChannelDelivery.channel_id
                )
            )
        }
    # 钉钉 was being posted when the worker died: its claim went stale and was taken over.
    # The cut request may still have reached the platform, which has no way to drop a
    # copy; the generic webhook, posted after it, has one delivery id however often sent.
    assert by_kind["dingtalk"].attempts == 2 and 1 <= len(receiver.messages("dingtalk")) <= 2
    hooks = receiver.messages("webhook")
    assert {body["delivery_id"] for body in hooks} == {by_kind["webhook"].batch_id}


@pytest.mark.requires_postgres
def test_channel_tables_on_postgres(fresh_postgres_url):
    database = open_database(fresh_postgres_url)
    try:
        check_channels_migration(database)
    finally:
        database.dispose()
