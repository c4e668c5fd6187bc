"""Digest mail through a real SMTP server (aiosmtpd, started by the test)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from hitwatch.digest.delivery import (
    SmtpTransport,
    confirm_subscriber,
    deliver_issue,
    open_transport,
    request_subscription,
    subscriber_links,
    unsubscribe,
)
from hitwatch.digest.mail import (
    CONFIRM,
    UNSUBSCRIBE,
    UNSUBSCRIBE_MAX_AGE,
    TokenError,
    read_token,
)
from hitwatch.digest.workflow import build_draft, publish_issue
from hitwatch.store.models import DigestDelivery
from tests.unit.digest.samples import END, START, store_bulletin

BASE = "https://hitwatch.example.org"


class Inbox:
    """aiosmtpd handler keeping every received message; `refuse` makes it answer 451."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        if self.refuse:
            return "451 try again later"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mail_settings(settings, smtp):
    return settings.model_copy(
        update={"smtp_port": smtp[1], "mail_from": "月报 <digest@example.org>"}
    )


links = subscriber_links(BASE)


def _published_issue(database, settings) -> int:
    with database.session() as session:
        store_bulletin(session)
        issue = build_draft(session, settings, START, END)
        publish_issue(session, issue, settings, now=datetime(2024, 8, 1, tzinfo=UTC))
        return issue.id


def _subscribe(database, settings, address: str, **filters) -> tuple[int, str]:
    urls: list[str] = []
    subscriber = request_subscription(
        database,
        settings,
        open_transport(settings),
        address,
        confirm_url=lambda token: urls.append(f"{BASE}/digests/confirm/{token}") or urls[-1],
        **filters,
    )
    return subscriber.id, urls[-1]


def test_double_opt_in_then_one_issue_per_subscriber_even_on_retry(database, mail_settings, smtp):
    inbox, _ = smtp
    issue_id = _published_issue(database, mail_settings)
    reader, confirm_url = _subscribe(database, mail_settings, "Reader@Example.org")
    _subscribe(database, mail_settings, "never-confirms@example.org")

    confirmation = inbox.messages[0]
    assert confirmation["To"] == "reader@example.org"
    assert confirm_url in confirmation.get_content()
    token = confirm_url.rsplit("/", 1)[1]
    secret = mail_settings.secret_key.get_secret_value()
    confirm_subscriber(database, read_token(secret, CONFIRM, token, 3600))

    transport = open_transport(mail_settings)
    first = deliver_issue(database, mail_settings, transport, issue_id, links=links)
    again = deliver_issue(database, mail_settings, transport, issue_id, links=links)
    assert (first.sent, again.sent, again.already_sent) == (1, 0, 1)

    digest_mails = inbox.messages[2:]
    assert len(digest_mails) == 1
    message = digest_mails[0]
    assert message["To"] == "reader@example.org"
    assert message["Subject"].startswith("卫生信息化监测月报 第1期")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = message["List-Unsubscribe"].strip("<>")
    assert one_click.startswith(f"{BASE}/digests/unsubscribe/")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "本期月报共收集 4篇卫生信息化相关信息" in text
    assert 'href="http://www.chinanews.com.cn/sh/2024/07-11/10249603.shtml"' in html
    assert f'href="{BASE}/digests/{issue_id}"' in html
    unsubscribe_token = one_click.split("/unsubscribe/")[1].removesuffix("/one-click")
    assert read_token(secret, UNSUBSCRIBE, unsubscribe_token, UNSUBSCRIBE_MAX_AGE) == reader
    with pytest.raises(TokenError):
        read_token(secret, CONFIRM, unsubscribe_token, 3600)  # purposes do not mix

    unsubscribe(database, reader)
    with database.session() as session:
        session.query(DigestDelivery).delete()
    assert deliver_issue(database, mail_settings, transport, issue_id, links=links).sent == 0


def test_filters_and_failed_sends_are_retried(database, mail_settings, smtp):
    inbox, _ = smtp
    issue_id = _published_issue(database, mail_settings)
    secret = mail_settings.secret_key.get_secret_value()
    for address, filters in (
        ("data@example.org", {"topics": ("数据安全、隐私与AI伦理治理",)}),
        ("policy@example.org", {"doc_types": ("政策文件",)}),
    ):
        _subscriber_id, url = _subscribe(database, mail_settings, address, **filters)
        confirm_subscriber(database, read_token(secret, CONFIRM, url.rsplit("/", 1)[1], 60))
    inbox.messages.clear()

    inbox.refuse = True
    transport = open_transport(mail_settings)
    failed = deliver_issue(database, mail_settings, transport, issue_id, links=links)
    assert failed.failed == ["data@example.org"] and failed.skipped_empty == 1
    with database.session() as session:
        row = session.query(DigestDelivery).one()
        assert row.status == "failed" and "451" in row.error

    inbox.refuse = False
    retried = deliver_issue(database, mail_settings, transport, issue_id, links=links)
    assert retried.sent == 1
    (message,) = inbox.messages
    text = message.get_body(("plain",)).get_content()
    assert "共收集 1篇" in text and "用大数据看病，可信吗？" in text


def test_unreachable_server_is_a_recorded_failure(database, mail_settings, smtp):
    issue_id = _published_issue(database, mail_settings)
    _subscriber_id, url = _subscribe(database, mail_settings, "x@example.org")
    secret = mail_settings.secret_key.get_secret_value()
    confirm_subscriber(database, read_token(secret, CONFIRM, url.rsplit("/", 1)[1], 60))
    closed = SmtpTransport("127.0.0.1", _free_port(), timeout=2)
    report = deliver_issue(database, mail_settings, closed, issue_id, links=links)
    assert report.failed == ["x@example.org"]
    with database.session() as session:
        assert session.query(DigestDelivery).one().status == "failed"


def test_deliver_command_sends_once(database, mail_settings, smtp, monkeypatch):
    from click.testing import CliRunner

    from hitwatch.cli import main

    inbox, port = smtp
    issue_id = _published_issue(database, mail_settings)
    _subscriber_id, url = _subscribe(database, mail_settings, "cli@example.org")
    secret = mail_settings.secret_key.get_secret_value()
    confirm_subscriber(database, read_token(secret, CONFIRM, url.rsplit("/", 1)[1], 60))
    monkeypatch.setenv("HITWATCH_DATA_DIR", str(mail_settings.data_dir))
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE)
    runner = CliRunner()
    first = runner.invoke(main, ["digest", "deliver", str(issue_id)])
    second = runner.invoke(main, ["digest", "deliver", str(issue_id)])
    assert "sent 1," in first.output and "already sent 1" in second.output
    assert f"{BASE}/digests/{issue_id}" in inbox.messages[-1].get_body(("html",)).get_content()
    assert len(inbox.messages) == 2  # the confirmation and one digest
