"""Bundled and held alerts: matches wait (never dropped) and go out at the rule's time in
one message per target, policies first then newest first, a story of several rules named
once; quiet hours, muted weekdays and the minimum interval hold matches; the daily
今日无新匹配 heartbeat. Mail through a real SMTP server, posts to the local receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from hitwatch.alerts.bundles import send_due
from hitwatch.alerts.mail import AlertLinks
from hitwatch.alerts.rules import add_rule, set_rule_channels, set_rule_timing
from hitwatch.alerts.timing import SHANGHAI
from hitwatch.channels import HttpPoster
from hitwatch.mail import open_transport
from hitwatch.store.models import AlertDelivery, AlertRule, ChannelDelivery
from tests.integration.channels.support import BASE, OWNER, SECRET_KEY, channel, event, publish

LINKS = AlertLinks(BASE, SECRET_KEY)


def tick(settings, database, now: datetime):
    return send_due(
        database, settings, HttpPoster.from_settings(settings), open_transport(settings), LINKS,
        now=now,
    )  # fmt: skip


def _statuses(database, model) -> list[str]:
    with database.session() as session:
        return sorted(row.status for row in session.scalars(select(model)))


def _backdate(database, model, when: datetime) -> None:
    """The matches were found at `when` (the tests' clock)."""
    with database.session() as session:
        session.execute(update(model).values(claimed_at=when))


def test_an_hourly_rule_sends_one_message_per_target_policies_first_newest_first(stack, receiver):
    settings, database, tasks, inbox = stack
    rule = add_rule(database, OWNER, "电子病历", name="病历动态")
    other = add_rule(database, OWNER, "互联网医院", name="互联网医院")
    ding = channel(settings, database, receiver, "dingtalk")
    for each in (rule, other):
        set_rule_channels(database, OWNER, each.id, [ding.id], mail_enabled=True)
        set_rule_timing(database, OWNER, each.id, cadence="hourly")
    publish(
        database,
        "n1",
        "电子病历新闻一",
        doc_type="新闻报道",
        published_at=datetime(2024, 7, 3, tzinfo=UTC),
    )
    publish(
        database,
        "n2",
        "电子病历新闻二",
        doc_type="新闻报道",
        published_at=datetime(2024, 7, 5, tzinfo=UTC),
    )
    publish(
        database,
        "p1",
        "电子病历与互联网医院管理办法",
        published_at=datetime(2024, 7, 1, tzinfo=UTC),
    )
    for doc_id in ("n1", "n2", "p1"):
        tasks.handle(event(doc_id))
    assert receiver.received == [] and inbox.messages == []  # held, not sent
    assert _statuses(database, ChannelDelivery) == ["waiting"] * 4
    found = datetime(2026, 12, 7, 10, 20, tzinfo=SHANGHAI)
    _backdate(database, ChannelDelivery, found)
    _backdate(database, AlertDelivery, found)

    report = tick(settings, database, found + timedelta(minutes=5))  # 10:25: not the hour yet
    assert report.posts == 0 and receiver.received == []
    report = tick(settings, database, datetime(2026, 12, 7, 11, 0, 30, tzinfo=SHANGHAI))
    assert (report.posts, report.mails) == (1, 1)
    [post] = receiver.messages("dingtalk")
    text = post["markdown"]["text"]
    assert (
        "3 条新信息" in post["markdown"]["title"]
        and "病历动态、互联网医院" in post["markdown"]["title"]
    )
    order = [
        text.index(title)
        for title in ("电子病历与互联网医院管理办法", "电子病历新闻二", "电子病历新闻一")
    ]
    assert order == sorted(order)  # the policy first, then newest first
    assert "提醒：病历动态、互联网医院" in text  # the story both rules matched, named once
    assert text.count("电子病历与互联网医院管理办法") == 1
    [mail] = inbox.messages
    assert mail["To"] == OWNER and "3 条新信息" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert body.index("电子病历与互联网医院管理办法") < body.index("电子病历新闻二")
    assert _statuses(database, ChannelDelivery) == ["sent"] * 4
    assert _statuses(database, AlertDelivery) == ["sent"] * 4
    # The next tick in the same hour sends nothing again.
    assert tick(settings, database, datetime(2026, 12, 7, 11, 1, tzinfo=SHANGHAI)).posts == 0
    assert len(receiver.received) == 1 and len(inbox.messages) == 1


def test_quiet_hours_and_muted_weekdays_hold_matches_until_open(stack, receiver):
    settings, database, tasks, _inbox = stack
    rule = add_rule(database, OWNER, "电子病历")
    wecom = channel(settings, database, receiver, "wecom")
    set_rule_channels(database, OWNER, rule.id, [wecom.id], mail_enabled=False)
    # Quiet from 00:00 to 23:59 every day but muted on no day: closed now, whenever the test runs.
    set_rule_timing(database, OWNER, rule.id, quiet_start="00:00", quiet_end="23:59")
    publish(database, "q1", "电子病历新规")
    tasks.handle(event("q1"))
    assert receiver.received == [] and _statuses(database, ChannelDelivery) == ["waiting"]
    set_rule_timing(database, OWNER, rule.id, muted_weekdays=[5, 6])
    saturday = datetime(2026, 12, 12, 12, tzinfo=SHANGHAI)
    assert tick(settings, database, saturday).posts == 0
    assert tick(settings, database, saturday + timedelta(days=2)).posts == 1  # Monday
    [message] = receiver.messages("wecom")
    assert "电子病历新规" in message["markdown"]["content"]


def test_a_minimum_interval_spaces_immediate_messages(stack, receiver):
    settings, database, tasks, _inbox = stack
    rule = add_rule(database, OWNER, "电子病历")
    hook = channel(settings, database, receiver, "webhook")
    set_rule_channels(database, OWNER, rule.id, [hook.id], mail_enabled=False)
    set_rule_timing(database, OWNER, rule.id, min_interval_minutes=60)
    publish(database, "m1", "电子病历新规一")
    publish(database, "m2", "电子病历新规二")
    tasks.handle(event("m1"))  # sent at once: nothing was sent before
    tasks.handle(event("m2"))  # within the hour: held
    assert len(receiver.messages("webhook")) == 1
    with database.session() as session:
        sent_at = session.get(AlertRule, rule.id).last_message_at
    assert tick(settings, database, sent_at + timedelta(minutes=30)).posts == 0
    assert tick(settings, database, sent_at + timedelta(minutes=61)).posts == 1
    second = receiver.messages("webhook")[1]
    assert [item["title"] for item in second["items"]] == ["电子病历新规二"]


def test_a_failed_bundle_waits_for_the_next_tick(stack, receiver):
    settings, database, tasks, _inbox = stack
    rule = add_rule(database, OWNER, "电子病历")
    feishu = channel(settings, database, receiver, "feishu")
    set_rule_channels(database, OWNER, rule.id, [feishu.id], mail_enabled=False)
    set_rule_timing(database, OWNER, rule.id, cadence="daily", daily_at="08:00")
    publish(database, "f1", "电子病历新规")
    tasks.handle(event("f1"))
    _backdate(database, ChannelDelivery, datetime(2026, 12, 7, 7, tzinfo=SHANGHAI))
    receiver.fail_with = [503]
    eight = datetime(2026, 12, 7, 8, 0, 20, tzinfo=SHANGHAI)
    report = tick(settings, database, eight)
    assert report.failed and _statuses(database, ChannelDelivery) == ["waiting"]
    assert tick(settings, database, eight + timedelta(minutes=1)).posts == 1
    [card] = receiver.messages("feishu")
    assert "电子病历新规" in card["card"]["elements"][0]["content"]


def test_a_heartbeat_says_nothing_new_once_a_day(stack, receiver):
    settings, database, _tasks, inbox = stack
    rule = add_rule(database, OWNER, "电子病历", name="病历动态")
    ding = channel(settings, database, receiver, "dingtalk")
    set_rule_channels(database, OWNER, rule.id, [ding.id], mail_enabled=True)
    set_rule_timing(database, OWNER, rule.id, daily_at="09:00", heartbeat=True)
    with database.session() as session:
        session.get(AlertRule, rule.id).created_at = datetime(2026, 12, 1, tzinfo=UTC)
    nine = datetime(2026, 12, 7, 9, 0, 30, tzinfo=SHANGHAI)
    assert tick(settings, database, nine - timedelta(minutes=5)).heartbeats == 2  # the 6th's
    assert tick(settings, database, nine - timedelta(minutes=4)).heartbeats == 0
    assert tick(settings, database, nine).heartbeats == 2  # today's: mail and 钉钉
    assert tick(settings, database, nine + timedelta(hours=3)).heartbeats == 0
    titles = [m["markdown"]["title"] for m in receiver.messages("dingtalk")]
    assert titles == ["【提醒：病历动态】今日无新匹配"] * 2
    assert [m["Subject"] for m in inbox.messages] == ["【提醒：病历动态】今日无新匹配"] * 2
    # A rule that did send something in the past day has no heartbeat.
    with database.session() as session:
        session.get(AlertRule, rule.id).last_message_at = nine + timedelta(hours=5)
    assert tick(settings, database, nine + timedelta(days=1)).heartbeats == 0
