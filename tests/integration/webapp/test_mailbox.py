"""The demo's mail catcher: a real SMTP server (aiosmtpd) keeping mail for the 邮件 page."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from hitwatch.mail import SmtpTransport
from hitwatch.mailbox import MailboxHandler, caught_mail, list_mailbox, mailbox_dir
from hitwatch.search.memory import InMemoryIndex
from tests.accounts import sign_in
from tests.smtp import free_port
from webapp import create_app


@pytest.fixture
def catcher(settings) -> Iterator[tuple[Path, int]]:
    folder = mailbox_dir(settings.data_dir)
    controller = Controller(MailboxHandler(folder), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield folder, controller.port
    controller.stop()


def _mail(subject: str, link: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "hitwatch <digest@localhost>"
    message["To"] = "reader@example.org"
    message["Subject"] = subject
    message.set_content(f"打开链接确认订阅：\n{link}\n")
    message.add_alternative(
        f'<p><a href="{link}">确认</a><script>alert(1)</script></p>', subtype="html"
    )
    return message


def test_caught_mail_is_listed_newest_first_and_readable(catcher) -> None:
    folder, port = catcher
    transport = SmtpTransport("127.0.0.1", port, "", "", False)
    transport.send(_mail("请确认订阅", "http://127.0.0.1:8000/digests/confirm/abc"))
    transport.send(_mail("第二封", "http://127.0.0.1:8000/x?a=1&b=<2>"))
    total, messages = list_mailbox(folder)
    assert total == 2 and [m.subject for m in messages] == ["第二封", "请确认订阅"]
    assert messages[1].recipient == "reader@example.org"
    assert "digests/confirm/abc" in messages[1].text and "<script>" in messages[1].html
    assert caught_mail(folder, messages[0].id) == messages[0]
    for bad in ("../../etc/passwd", messages[0].id + "x", ""):
        assert caught_mail(folder, bad) is None
    assert not list(folder.glob(".*.tmp")), "no half-written files are left"


def test_mail_page_is_for_admins_in_the_demo_only(catcher, settings, database) -> None:
    folder, port = catcher
    SmtpTransport("127.0.0.1", port, "", "", False).send(
        _mail("请确认订阅", "http://127.0.0.1:8000/digests/confirm/abc")
    )
    (mail,) = list_mailbox(folder)[1]

    def app(mail_catcher: bool):  # type: ignore[no-untyped-def]
        return create_app(
            settings.model_copy(update={"mail_catcher": mail_catcher}),
            database=database,
            search_index=InMemoryIndex(),
            test_config={"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"},
        )

    production = app(False).test_client()
    sign_in(production, database, "admin")
    assert production.get("/mail").status_code == 404
    assert "邮件" not in production.get("/").get_data(as_text=True).split("</nav>")[0]

    demo = app(True).test_client()
    assert demo.get("/mail").status_code == 302  # anonymous: log in first
    sign_in(demo, database, "reader")
    assert demo.get("/mail").status_code == 403  # subscribers' links are in it
    demo = app(True).test_client()
    sign_in(demo, database, "admin", "demo-admin@example.org")
    listing = demo.get("/mail").get_data(as_text=True)
    assert "请确认订阅" in listing and "reader@example.org" in listing
    page = demo.get(f"/mail/{mail.id}").get_data(as_text=True)
    assert '<a href="http://127.0.0.1:8000/digests/confirm/abc"' in page
    assert "<script>alert(1)</script>" not in page  # the HTML part is only framed
    part = demo.get(f"/mail/{mail.id}/html")
    assert part.headers["Content-Security-Policy"].startswith("sandbox")
    assert demo.get("/mail/..%2F..%2Fetc%2Fpasswd").status_code == 404
