"""Channels on the alert management page, against the local receiver: add one (URL and
secret never shown again), send a test message, pick it for a rule, see its posts,
resume a paused one, delete; internal addresses refused with the reason."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hitwatch.alerts.mail import AlertLinks
from hitwatch.alerts.posting import post_matches
from hitwatch.alerts.rules import add_rule, rule_channel_ids
from hitwatch.channels import HttpPoster
from hitwatch.search import article_document
from hitwatch.search.memory import InMemoryIndex
from hitwatch.store.models import AlertRule, Article, Channel
from tests.factories import Doc, FakeCelery, Outbox, add_documents
from tests.receivers import Receiver
from webapp import create_app

OWNER = "team@example.org"


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def web(settings, database):
    def make(**overrides):
        configured = settings.model_copy(update=overrides)
        index = InMemoryIndex()
        index.ensure()
        app = create_app(
            configured,
            database=database,
            search_index=index,
            celery=FakeCelery(),
            test_config={"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"},
        )
        return app, configured

    return make


def _page(client, path: str) -> tuple[str, str]:
    page = client.get(path).get_data(as_text=True)
    return page, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_channel_is_added_tested_picked_and_shows_its_posts(web, database, receiver):
    app, settings = web(channel_allow_http=True, channel_allowed_hosts="127.0.0.1")
    rule = add_rule(database, OWNER, "电子病历", name="病历动态")
    manage = AlertLinks("http://localhost", settings.secret_key.get_secret_value()).manage(OWNER)
    path = manage.removeprefix("http://localhost")
    client = app.test_client()
    page, csrf = _page(client, path)
    assert "提醒渠道" in page and "钉钉自定义机器人" in page

    url = receiver.url("dingtalk")
    response = client.post(
        f"{path}/channels",
        data={
            "csrf_token": csrf,
            "kind": "dingtalk",
            "name": "信息科群",
            "url": url,
            "secret": receiver.secret,
        },
    )
    assert response.status_code == 302
    page, csrf = _page(client, path)
    assert "信息科群" in page and "已添加渠道" in page
    assert "ding-token-5678" not in page and receiver.secret not in page  # never shown again
    with database.session() as session:
        channel = session.scalars(select(Channel)).one()

    client.post(f"{path}/channels/{channel.id}/test", data={"csrf_token": csrf})
    page, csrf = _page(client, path)
    assert "测试消息已发出" in page
    [test] = receiver.messages("dingtalk")
    assert test["markdown"]["title"] == "hitwatch 测试消息"

    client.post(f"{path}/{rule.id}/channels", data={"csrf_token": csrf, "channel": str(channel.id)})
    assert rule_channel_ids(database, [rule.id]) == {rule.id: {channel.id}}
    with database.session() as session:
        assert session.get(AlertRule, rule.id).mail_enabled is False

    add_documents(database, InMemoryIndex(), [Doc("d1", "电子病历评级通知", "正文", story_id="s1")])
    with database.session() as session:
        document = article_document(session.get(Article, "d1"))
    post_matches(
        database, settings, HttpPoster.from_settings(settings), Outbox(), document,
        {rule.id: ["电子病历"]}, AlertLinks("http://localhost", "x"),
    )  # fmt: skip
    page, csrf = _page(client, path)
    assert "渠道发送记录" in page and "电子病历评级通知" in page and "已发送" in page

    with database.session() as session:
        session.get(Channel, channel.id).state = "paused"
    page, csrf = _page(client, path)
    assert "已暂停" in page
    client.post(f"{path}/channels/{channel.id}/resume", data={"csrf_token": csrf})
    with database.session() as session:
        assert session.get(Channel, channel.id).state == "active"
    _page_text, csrf = _page(client, path)
    client.post(f"{path}/channels/{channel.id}/delete", data={"csrf_token": csrf})
    with database.session() as session:
        assert session.scalars(select(Channel)).all() == []


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1/robot/send", "https://10.0.0.5/hook", "https://169.254.169.254/x"]
)
def test_internal_addresses_are_refused_on_the_page(web, database, url):
    app, settings = web()
    path = AlertLinks("http://localhost", settings.secret_key.get_secret_value()).manage(OWNER)
    path = path.removeprefix("http://localhost")
    client = app.test_client()
    _page_text, csrf = _page(client, path)
    response = client.post(
        f"{path}/channels", data={"csrf_token": csrf, "kind": "webhook", "name": "内网", "url": url}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "不能指向本机、内网或链路本地地址" in page
    assert "CHANNEL_ALLOWED_HOSTS" in page and 'value="内网"' in page
    with database.session() as session:
        assert session.scalars(select(Channel)).all() == []


def test_someone_elses_channel_is_not_reachable(web, database, receiver):
    app, settings = web(channel_allow_http=True, channel_allowed_hosts="127.0.0.1")
    secret = settings.secret_key.get_secret_value()
    links = AlertLinks("http://localhost", secret)
    theirs = links.manage("other@example.org").removeprefix("http://localhost")
    mine = links.manage(OWNER).removeprefix("http://localhost")
    client = app.test_client()
    _text, csrf = _page(client, theirs)
    client.post(
        f"{theirs}/channels",
        data={"csrf_token": csrf, "kind": "wecom", "url": receiver.url("wecom")},
    )
    with database.session() as session:
        channel = session.scalars(select(Channel)).one()
    _text, csrf = _page(client, mine)
    assert (
        client.post(f"{mine}/channels/{channel.id}/test", data={"csrf_token": csrf}).status_code
        == 404
    )
    assert (
        client.post(f"{mine}/channels/{channel.id}/delete", data={"csrf_token": csrf}).status_code
        == 404
    )
    assert receiver.requests == 0


def test_a_rules_timing_is_set_on_the_page_and_checked(web, database):
    app, settings = web()
    rule = add_rule(database, OWNER, "电子病历")
    path = AlertLinks("http://localhost", settings.secret_key.get_secret_value()).manage(OWNER)
    path = path.removeprefix("http://localhost")
    client = app.test_client()
    page, csrf = _page(client, path)
    assert "有新信息即发" in page and "今日无新匹配" in page
    response = client.post(
        f"{path}/{rule.id}/timing",
        data={
            "csrf_token": csrf, "cadence": "daily", "daily_at": "08:30", "quiet_start": "22:00",
            "quiet_end": "07:00", "muted": ["5", "6"], "min_interval": "30", "heartbeat": "1",
        },
    )  # fmt: skip
    assert response.status_code == 302
    with database.session() as session:
        stored = session.get(AlertRule, rule.id)
        assert (stored.cadence, stored.daily_at, stored.quiet_start, stored.quiet_end) == (
            "daily", "08:30", "22:00", "07:00",
        )  # fmt: skip
        assert stored.muted_weekdays == [5, 6] and stored.min_interval_minutes == 30
        assert stored.heartbeat is True
    page, csrf = _page(client, path)
    assert "每天汇总一次（08:30）" in page and "22:00–07:00 免打扰" in page
    bad = client.post(
        f"{path}/{rule.id}/timing",
        data={"csrf_token": csrf, "cadence": "daily", "quiet_start": "22:00", "min_interval": "x"},
    )
    assert bad.status_code == 400 and "发送时间设置有误" in bad.get_data(as_text=True)
    with database.session() as session:
        assert session.get(AlertRule, rule.id).quiet_end == "07:00"  # nothing half-saved


def test_a_digest_subscriber_picks_channels_of_their_address(web, database, receiver):
    from hitwatch.digest.channels import subscriber_channels
    from hitwatch.digest.mail import PREFERENCES, make_token
    from hitwatch.store.models import DigestSubscriber

    app, settings = web(channel_allow_http=True, channel_allowed_hosts="127.0.0.1")
    with database.session() as session:
        subscriber = DigestSubscriber(email=OWNER, status="active", kind="monthly")
        session.add(subscriber)
        session.flush()
        subscriber_id = subscriber.id
    secret = settings.secret_key.get_secret_value()
    path = f"/digests/preferences/{make_token(secret, PREFERENCES, subscriber_id)}"
    client = app.test_client()
    page, csrf = _page(client, path)
    assert "这个邮箱还没有渠道" in page and "/alerts/manage/" in page
    manage = AlertLinks("http://localhost", secret).manage(OWNER).removeprefix("http://localhost")
    _text, manage_csrf = _page(client, manage)
    client.post(
        f"{manage}/channels",
        data={
            "csrf_token": manage_csrf,
            "kind": "feishu",
            "name": "运营群",
            "url": receiver.url("feishu"),
        },
    )
    page, csrf = _page(client, path)
    assert "运营群" in page
    with database.session() as session:
        channel_id = session.scalars(select(Channel.id)).one()
    response = client.post(
        path,
        data={"csrf_token": csrf, "action": "save", "kind": "monthly", "channel": str(channel_id)},
    )
    assert response.status_code == 302
    assert subscriber_channels(database, subscriber_id)[1] == {channel_id}
