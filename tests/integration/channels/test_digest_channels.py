"""A published digest issue posted to the channels its subscribers picked: 本期导语,
信息目录 and the link to the issue, the subscriber's filters applied, once per (issue,
channel) under redelivery, retried after a 5xx; mail through a real SMTP server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hitwatch.digest.channels import set_subscriber_channels, subscriber_channels
from hitwatch.digest.workflow import build_draft, publish_issue
from hitwatch.errors import TransientError
from hitwatch.messages import DigestPublished
from hitwatch.store.models import Channel, DigestChannelDelivery, DigestIssue, DigestSubscriber
from notifier.digests import DigestTasks
from tests.integration.channels.support import BASE, OWNER, channel
from tests.unit.digest.samples import END, START, store_bulletin


@pytest.fixture
def issue(stack):
    settings, database, _tasks, _inbox = stack
    with database.session() as session:
        store_bulletin(session)
        draft = build_draft(session, settings, START, END)
        publish_issue(session, draft, settings)
        session.add_all(
            [
                DigestSubscriber(email=OWNER, status="active", kind="monthly"),
                DigestSubscriber(
                    email="policy@example.org", status="active", kind="monthly",
                    doc_types=["没有这种类型"],
                ),
            ]
        )  # fmt: skip
        return draft.id


def _subscriber(database, email: str) -> int:
    with database.session() as session:
        return session.scalar(select(DigestSubscriber.id).where(DigestSubscriber.email == email))


def test_an_issue_is_posted_once_to_each_picked_channel(stack, receiver, issue):
    settings, database, _tasks, inbox = stack
    hook = channel(settings, database, receiver, "webhook")
    wecom = channel(settings, database, receiver, "wecom")
    empty = channel(settings, database, receiver, "dingtalk", owner="policy@example.org")
    owner = _subscriber(database, OWNER)
    set_subscriber_channels(database, owner, [hook.id, wecom.id, empty.id])  # not theirs: ignored
    assert subscriber_channels(database, owner)[1] == {hook.id, wecom.id}
    set_subscriber_channels(database, _subscriber(database, "policy@example.org"), [empty.id])

    tasks = DigestTasks(database, settings)
    tasks.deliver(DigestPublished(issue_id=issue).to_payload())
    tasks.deliver(DigestPublished(issue_id=issue).to_payload())  # redelivered

    [body] = receiver.messages("webhook")
    assert body["event"] == "digest" and body["link"] == f"{BASE}/digests/{issue}"
    assert "本期" in body["note"] and "共收集" in body["note"]
    with database.session() as session:
        published = session.get(DigestIssue, issue).items_snapshot
    assert [item["title"] for item in body["items"]] == [item["title"] for item in published]
    assert all(item["item_url"].startswith(f"{BASE}/items/") for item in body["items"])
    [wecom_post] = receiver.messages("wecom")
    content = wecom_post["markdown"]["content"]
    assert "**信息目录**" in content and f"[阅读本期全文]({BASE}/digests/{issue})" in content
    assert len(content.encode()) <= 4096
    assert receiver.messages("dingtalk") == []  # that subscriber's filter leaves nothing
    assert OWNER in {m["To"] for m in inbox.messages}  # the mail goes out as before
    with database.session() as session:
        rows = session.scalars(select(DigestChannelDelivery)).all()
    assert sorted(r.status for r in rows) == ["sent", "sent"]


def test_a_failed_issue_post_is_retried(stack, receiver, issue):
    settings, database, _tasks, _inbox = stack
    hook = channel(settings, database, receiver, "webhook")
    set_subscriber_channels(database, _subscriber(database, OWNER), [hook.id])
    receiver.fail_with = [502]
    tasks = DigestTasks(database, settings)
    with pytest.raises(TransientError, match="1 channel post"):
        tasks.deliver(DigestPublished(issue_id=issue).to_payload())
    assert receiver.messages("webhook") == []
    tasks.deliver(DigestPublished(issue_id=issue).to_payload())  # the broker's retry
    assert len(receiver.messages("webhook")) == 1
    with database.session() as session:
        row = session.scalars(select(DigestChannelDelivery)).one()
    assert (row.status, row.attempts) == ("sent", 2)


def test_an_issue_post_that_pauses_a_channel_mails_its_owner(stack, receiver, issue):
    settings, database, _tasks, inbox = stack
    hook = channel(settings, database, receiver, "webhook")
    set_subscriber_channels(database, _subscriber(database, OWNER), [hook.id])
    with database.session() as session:
        session.get(Channel, hook.id).failures = 2  # CHANNEL_PAUSE_AFTER is 3 here
    receiver.fail_with = [500]
    DigestTasks(database, settings).deliver(DigestPublished(issue_id=issue).to_payload())
    with database.session() as session:
        assert session.get(Channel, hook.id).state == "paused"
    [notice] = [m for m in inbox.messages if m["Subject"].startswith("提醒渠道已暂停")]
    assert notice["To"] == OWNER and f"{BASE}/alerts/manage/" in notice.get_content()
