"""Admins get one e-mail when a source turns broken and one when it recovers, through a
real SMTP server (aiosmtpd): not one per failed fetch, and none is lost to a refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler.alarms import mail_health_changes
from crawler.health import SourceRun, record_runs, upsert_sources
from hitwatch.mail import open_transport
from hitwatch.settings import Settings, load_settings
from hitwatch.sources import ListEndpoint, SourceDefinition, WechatAccount
from tests.accounts import make_user

NOW = datetime(2024, 7, 31, 12, tzinfo=UTC)
SOURCE = SourceDefinition(
    id="mp_demo",
    name="医信观察",
    kind="media",
    homepage="https://mp.weixin.qq.com/",
    domains=[],
    lists=[ListEndpoint(url="http://bridge.example/feeds/all.atom", type="feed")],
    wechat=WechatAccount(account="医信观察", stale_after_days=3),
)


def broken() -> SourceRun:
    return SourceRun("mp_demo", stale_after_days=3, feed_problems=["the bridge answered HTTP 502"])


def fine() -> SourceRun:
    return SourceRun("mp_demo", stale_after_days=3, links_found=2, newest_entry=NOW)


def test_one_mail_per_change_to_each_admin(database, settings, inbox) -> None:
    handler, port = inbox
    mail_settings: Settings = load_settings(
        data_dir=settings.data_dir, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
    )
    make_user(database, "admin", "admin@example.org")
    make_user(database, "admin", "second-admin@example.org")
    make_user(database, "editor", "editor@example.org")
    upsert_sources(database, [SOURCE])

    def crawl(result: SourceRun, when: datetime) -> list[str]:
        record_runs(database, [result], when)
        changes = mail_health_changes(database, mail_settings, open_transport(mail_settings), when)
        return [change.kind for change in changes]

    assert crawl(fine(), NOW) == []  # a source that works is no news
    assert crawl(broken(), NOW + timedelta(hours=1)) == ["broken"]
    assert crawl(broken(), NOW + timedelta(hours=2)) == []  # still broken: no second mail
    assert crawl(broken(), NOW + timedelta(hours=3)) == []
    assert sorted(str(m["To"]) for m in handler.messages) == [
        "admin@example.org",
        "second-admin@example.org",
    ]
    subject = str(handler.messages[0]["Subject"])
    assert subject == "信息源异常：医信观察"
    body = handler.messages[0].get_body(("plain",)).get_content()
    assert "HTTP 502" in body
    assert "/sources" in body

    assert crawl(fine(), NOW + timedelta(hours=4)) == ["recovered"]
    assert crawl(fine(), NOW + timedelta(hours=5)) == []
    assert [str(m["Subject"]) for m in handler.messages[2:]] == ["信息源已恢复：医信观察"] * 2


def test_a_refused_mail_is_sent_by_the_next_run(database, settings, inbox) -> None:
    handler, port = inbox
    mail_settings = load_settings(
        data_dir=settings.data_dir, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
    )
    make_user(database, "admin", "admin@example.org")
    upsert_sources(database, [SOURCE])
    record_runs(database, [broken()], NOW)
    handler.refuse = True
    assert mail_health_changes(database, mail_settings, open_transport(mail_settings), NOW) == []
    handler.refuse = False
    record_runs(database, [broken()], NOW)
    sent = mail_health_changes(database, mail_settings, open_transport(mail_settings), NOW)
    assert [change.kind for change in sent] == ["broken"]
    assert len(handler.messages) == 1
