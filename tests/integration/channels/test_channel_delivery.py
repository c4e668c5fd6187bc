"""Alerts posted to channels, in the notifier's code, against a local receiver that speaks
every platform's request format and checks its signature, with mail through a real SMTP
server (aiosmtpd): once per (rule, story, channel), one post for several rules, retries
with the same delivery id, pause after repeated failures with one e-mail to the owner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hitwatch.alerts.mail import AlertLinks
from hitwatch.alerts.posting import send_test
from hitwatch.alerts.rules import add_rule, recent_posts, set_rule_channels
from hitwatch.channels import HttpPoster
from hitwatch.errors import TransientError
from hitwatch.mail import open_transport
from hitwatch.store.models import Channel, ChannelAttempt, ChannelDelivery
from tests.integration.channels.support import BASE, OWNER, SECRET_KEY, channel, event, publish


def test_a_match_is_posted_once_to_each_platform_in_its_format(stack, receiver):
    settings, database, tasks, inbox = stack
    rule = add_rule(database, OWNER, "电子病历", name="病历动态")
    made = [
        channel(settings, database, receiver, kind)
        for kind in ("wecom", "dingtalk", "feishu", "webhook")
    ]
    set_rule_channels(database, OWNER, rule.id, [c.id for c in made], mail_enabled=False)
    publish(database, "d1", "关于推进电子病历系统应用水平分级评价的通知")
    tasks.handle(event("d1"))
    tasks.handle(event("d1"))  # redelivered: nothing twice

    assert receiver.refused == []
    assert [kind for kind, _data, _headers in receiver.received].count("wecom") == 1
    [wecom] = receiver.messages("wecom")
    content = wecom["markdown"]["content"]
    assert (
        "[关于推进电子病历系统应用水平分级评价的通知](https://hitwatch.example.org/items/d1)"
        in content
    )
    assert (
        "来源：国家卫健委" in content
        and "类型：政策文件" in content
        and "命中：电子病历" in content
    )
    [ding] = receiver.messages("dingtalk")
    assert (
        ding["markdown"]["title"] == "【提醒：病历动态】关于推进电子病历系统应用水平分级评价的通知"
    )
    [feishu] = receiver.messages("feishu")
    assert feishu["card"]["header"]["title"]["content"].startswith("【提醒：病历动态】")
    [hook] = receiver.messages("webhook")
    assert hook["items"][0]["item_url"] == f"{BASE}/items/d1"
    assert hook["rules"] == [{"id": rule.id, "name": "病历动态"}]
    assert inbox.messages == []  # this rule posts to its channels only
    with database.session() as session:
        rows = session.scalars(select(ChannelDelivery)).all()
        assert sorted(r.status for r in rows) == ["sent"] * 4
        assert session.query(ChannelAttempt).count() == 4
    [post] = [
        p for p in recent_posts(database, [rule.id])[rule.id] if p.channel_name == "webhook群"
    ]
    assert post.status == "sent" and len(post.tries) == 1 and post.tries[0][1] is True


def test_a_story_of_two_rules_of_one_owner_is_one_post_naming_both(stack, receiver):
    settings, database, tasks, inbox = stack
    first = add_rule(database, OWNER, "电子病历", name="病历动态")
    second = add_rule(database, OWNER, "分级评价", name="评级")
    ding = channel(settings, database, receiver, "dingtalk")
    for rule in (first, second):
        set_rule_channels(database, OWNER, rule.id, [ding.id], mail_enabled=True)
    publish(database, "d2", "电子病历系统应用水平分级评价结果公布")
    tasks.handle(event("d2"))
    [message] = receiver.messages("dingtalk")
    assert "病历动态、评级" in message["markdown"]["title"]
    assert "命中：电子病历、分级评价" in message["markdown"]["text"]
    assert sorted(m["To"] for m in inbox.messages) == [OWNER, OWNER]  # mail stays on


def test_someone_elses_channel_cannot_be_picked(stack, receiver):
    settings, database, _tasks, _inbox = stack
    rule = add_rule(database, OWNER, "电子病历")
    foreign = channel(settings, database, receiver, "wecom", owner="other@example.org")
    from hitwatch.alerts.rules import AlertError

    with pytest.raises(AlertError):
        set_rule_channels(database, OWNER, rule.id, [foreign.id], mail_enabled=True)


def test_a_server_error_is_retried_with_the_same_delivery_id(stack, receiver):
    settings, database, tasks, _inbox = stack
    rule = add_rule(database, OWNER, "电子病历")
    hook = channel(settings, database, receiver, "webhook")
    set_rule_channels(database, OWNER, rule.id, [hook.id], mail_enabled=False)
    publish(database, "d3", "电子病历新规")
    receiver.fail_with = [503]
    with pytest.raises(TransientError, match="1 channel post"):
        tasks.handle(event("d3"))
    assert receiver.received == []
    tasks.handle(event("d3"))  # the broker's retry
    [(_, body, headers)] = receiver.received
    with database.session() as session:
        row = session.scalars(select(ChannelDelivery)).one()
        attempts = session.scalars(select(ChannelAttempt).order_by(ChannelAttempt.id)).all()
    assert (row.status, row.attempts) == ("sent", 2)
    assert [a.http_status for a in attempts] == [503, 200]
    assert {a.batch_id for a in attempts} == {row.batch_id} == {headers["X-Hitwatch-Delivery"]}
    assert body["delivery_id"] == row.batch_id
    [post] = recent_posts(database, [rule.id])[rule.id]
    assert [t[1] for t in post.tries] == [False, True]


def test_a_timeout_is_retried(stack, receiver):
    settings, database, tasks, _inbox = stack
    rule = add_rule(database, OWNER, "电子病历")
    set_rule_channels(
        database,
        OWNER,
        rule.id,
        [channel(settings, database, receiver, "wecom").id],
        mail_enabled=False,
    )
    publish(database, "d4", "电子病历新规")
    receiver.delay = 2.0  # CHANNEL_TIMEOUT is 1 s here
    with pytest.raises(TransientError):
        tasks.handle(event("d4"))
    receiver.delay = 0
    tasks.handle(event("d4"))
    with database.session() as session:
        errors = [
            a.error for a in session.scalars(select(ChannelAttempt).order_by(ChannelAttempt.id))
        ]
    assert "no answer within 1 s" in errors[0] and errors[1] == ""


def test_a_wrong_secret_is_refused_by_the_platform_and_not_retried(stack, receiver):
    settings, database, tasks, _inbox = stack
    rule = add_rule(database, OWNER, "电子病历")
    wrong = channel(settings, database, receiver, "dingtalk", secret="SECwrong")
    set_rule_channels(database, OWNER, rule.id, [wrong.id], mail_enabled=False)
    publish(database, "d5", "电子病历新规")
    tasks.handle(event("d5"))  # no TransientError: retrying cannot fix a wrong secret
    assert receiver.refused == [("dingtalk", "sign")]
    with database.session() as session:
        row = session.scalars(select(ChannelDelivery)).one()
        stored = session.get(Channel, wrong.id)
    assert row.status == "failed" and "310000" in row.error
    assert stored.failures == 1 and stored.state == "active"


def test_a_channel_failing_again_and_again_is_paused_and_its_owner_mailed_once(stack, receiver):
    settings, database, tasks, inbox = stack
    rule = add_rule(database, OWNER, "电子病历")
    feishu = channel(settings, database, receiver, "feishu")
    set_rule_channels(database, OWNER, rule.id, [feishu.id], mail_enabled=False)
    receiver.fail_with = [500] * 10
    for n in range(3):
        publish(database, f"p{n}", f"电子病历新规 {n}")
    for n in range(2):
        with pytest.raises(TransientError):
            tasks.handle(event(f"p{n}"))
    tasks.handle(event("p2"))  # the third failure in a row pauses: nothing left to retry
    with database.session() as session:
        stored = session.get(Channel, feishu.id)
    assert (stored.state, stored.failures) == ("paused", 3)
    [mail] = inbox.messages
    assert mail["To"] == OWNER and mail["Subject"] == "提醒渠道已暂停：feishu群"
    text = mail.get_content()
    assert "连续 3 次发送失败" in text and f"{BASE}/alerts/manage/" in text
    requests_before = receiver.requests
    tasks.handle(event("p0"))  # a retry after the pause posts nothing and mails nobody
    assert receiver.requests == requests_before and len(inbox.messages) == 1


def test_a_test_message_reaches_the_channel(stack, receiver):
    settings, database, _tasks, _inbox = stack
    ding = channel(settings, database, receiver, "dingtalk")
    result = send_test(database, settings, HttpPoster.from_settings(settings), ding.id)
    assert result.ok, result.error
    [message] = receiver.messages("dingtalk")
    assert message["markdown"]["title"] == "hitwatch 测试消息"
    assert "dingtalk群" in message["markdown"]["text"]
    with database.session() as session:
        [attempt] = session.scalars(select(ChannelAttempt)).all()
    assert attempt.purpose == "test" and attempt.ok


def test_a_redirect_is_not_followed(stack, receiver):
    settings, database, _tasks, _inbox = stack
    hook = channel(settings, database, receiver, "webhook")
    receiver.fail_with = [302]
    result = send_test(database, settings, HttpPoster.from_settings(settings), hook.id)
    assert not result.ok and not result.retryable
    assert "redirects are not followed" in result.error


def test_mail_of_a_pause_goes_through_real_smtp(stack):
    settings, _database, _tasks, inbox = stack
    from hitwatch.channels import paused_message

    open_transport(settings).send(
        paused_message(
            sender=settings.mail_from, recipient=OWNER, channel_name="", kind="dingtalk",
            failures=3, error="HTTP 500", manage_url=AlertLinks(BASE, SECRET_KEY).manage(OWNER),
        )
    )  # fmt: skip
    [mail] = inbox.messages
    assert mail["Subject"] == "提醒渠道已暂停：钉钉自定义机器人"
    assert "连续 3 次发送失败" in mail.get_content() and "HTTP 500" in mail.get_content()
