"""Digest mail through a real SMTP server (aiosmtpd, started by the test)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from hitwatch.digest.delivery import (
    confirm_subscriber,
    deliver_issue,
    request_subscription,
    subscriber_links,
    unsubscribe,
)
from hitwatch.digest.mail import (
    CONFIRM,
    UNSUBSCRIBE,
    UNSUBSCRIBE_MAX_AGE,
    SubscriberLinks,
    TokenError,
    digest_message,
    read_token,
)
from hitwatch.digest.workflow import build_draft, publish_issue
from hitwatch.mail import SmtpTransport, open_transport
from hitwatch.store.models import DigestDelivery
from tests.smtp import Inbox, free_port
from tests.unit.digest.samples import END, START, bulletin_digest, store_bulletin

BASE = "https://hitwatch.example.org"
LINKS = SubscriberLinks(web=f"{BASE}/d/1", unsubscribe=f"{BASE}/u/T", one_click=f"{BASE}/u/T/1")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
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
    closed = SmtpTransport("127.0.0.1", free_port(), timeout=2)
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


def _confirmed(database, settings, count: int) -> list[int]:
    secret = settings.secret_key.get_secret_value()
    ids = []
    for number in range(count):
        subscriber_id, url = _subscribe(database, settings, f"r{number}@example.org")
        confirm_subscriber(database, read_token(secret, CONFIRM, url.rsplit("/", 1)[1], 60))
        ids.append(subscriber_id)
    return ids


class WorkerDies(BaseException):
    """Stands for a worker killed mid-send: nothing in deliver_issue may catch it."""


@dataclass
class DiesAfterSending:
    """Sends through the real server, then 'dies' on the message numbered `fatal`."""

    transport: SmtpTransport
    fatal: int
    sent: int = 0

    def batch(self):  # type: ignore[no-untyped-def]
        return self.transport.batch()

    def send(self, message) -> None:  # type: ignore[no-untyped-def]
        self.transport.send(message)
        self.sent += 1
        if self.sent == self.fatal:
            raise WorkerDies


def test_a_stale_claim_is_sent_again_after_the_timeout_with_the_same_message_id(
    database, mail_settings, smtp
):
    inbox, _ = smtp
    issue_id = _published_issue(database, mail_settings)
    _confirmed(database, mail_settings, 3)
    inbox.messages.clear()

    dying = DiesAfterSending(open_transport(mail_settings), fatal=2)
    with pytest.raises(WorkerDies):
        deliver_issue(database, mail_settings, dying, issue_id, links=links)
    assert len(inbox.messages) == 2  # the second was handed to the server, then the worker died
    with database.session() as session:
        rows = {r.subscriber_id: r for r in session.query(DigestDelivery)}
        statuses = sorted(r.status for r in rows.values())
        lost = next(r for r in rows.values() if r.status == "sending" and r.attempts == 1)
        lost_id, lost_message_id = lost.subscriber_id, lost.message_id
    # The 2nd was sent but not recorded; the 3rd was claimed (in the same batch), not sent.
    assert statuses == ["sending", "sending", "sent"]

    # Within the timeout the claims belong to the dead worker: nobody sends them.
    transport = open_transport(mail_settings)
    early = deliver_issue(database, mail_settings, transport, issue_id, links=links)
    assert (early.sent, early.already_sent, len(inbox.messages)) == (0, 3, 2)

    # After it, they are claimed again and sent with the Message-ID fixed at the first claim.
    late_settings = mail_settings.model_copy(update={"digest_send_claim_timeout": 0})
    late = deliver_issue(database, late_settings, transport, issue_id, links=links)
    assert (late.sent, late.already_sent) == (2, 1)
    by_id: dict[str, list[str]] = {}
    for message in inbox.messages:
        by_id.setdefault(message["Message-ID"], []).append(message["To"])
    assert len(inbox.messages) == 4 and len(by_id) == 3
    assert by_id[lost_message_id] == [f"r{lost_id - min(rows)}@example.org"] * 2
    with database.session() as session:
        rows_after = {r.subscriber_id: r for r in session.query(DigestDelivery)}
        assert {r.status for r in rows_after.values()} == {"sent"}
        assert rows_after[lost_id].attempts == 2
        assert rows_after[lost_id].message_id == lost_message_id
    assert deliver_issue(database, late_settings, transport, issue_id, links=links).sent == 0


class FlakyInbox(Inbox):
    """Answers 421 (closing) to the DATA of the message numbered `refuse_at`, once."""

    def __init__(self, refuse_at: int) -> None:
        super().__init__()
        self.refuse_at, self.seen = refuse_at, 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.seen += 1
        if self.seen == self.refuse_at:
            return "421 service shutting down, try again"
        return await super().handle_DATA(server, session, envelope)


def test_one_connection_per_run_reopened_after_421(database, settings):
    inbox = FlakyInbox(refuse_at=3 + 2)  # 3 confirmations, then the 2nd issue
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail = settings.model_copy(update={"smtp_port": port})
        issue_id = _published_issue(database, mail)
        _confirmed(database, mail, 3)
        inbox.messages.clear()
        transport = open_transport(mail)
        report = deliver_issue(database, mail, transport, issue_id, links=links)
    finally:
        controller.stop()
    assert (report.sent, report.failed, report.renders) == (3, [], 1)
    assert sorted(m["To"] for m in inbox.messages) == [f"r{n}@example.org" for n in range(3)]
    # One connection for the whole run, reopened once after the 421.
    assert transport.connections == 2


def test_a_connection_dropped_by_the_server_is_reopened(mail_settings, smtp):
    inbox, _ = smtp
    transport = open_transport(mail_settings)
    first, second = (
        digest_message(
            bulletin_digest(), sender="d@example.org", recipient=f"x{n}@example.org", links=LINKS
        )
        for n in range(2)
    )
    with transport.batch():
        transport.send(first)
        # The server closes every idle connection (a restart, an idle timeout).
        assert transport._client is not None
        transport._client.sock.shutdown(socket.SHUT_RDWR)
        transport.send(second)
    assert [m["To"] for m in inbox.messages] == ["x0@example.org", "x1@example.org"]
    assert transport.connections == 2
