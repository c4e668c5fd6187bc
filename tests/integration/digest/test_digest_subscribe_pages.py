"""Subscribing on the web: double opt-in mail via real SMTP, confirm, unsubscribe links."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from hitwatch.store.models import DigestSubscriber
from tests.smtp import Inbox, free_port
from tests.unit.digest.webapp_stub import digest_app


@pytest.fixture
def inbox_and_client(settings, database) -> Iterator[tuple[Inbox, object]]:
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app = digest_app(settings.model_copy(update={"smtp_port": port}), database)
    yield inbox, app.test_client()
    controller.stop()


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _status(database, address: str) -> str:
    with database.session() as session:
        return session.query(DigestSubscriber).filter_by(email=address).one().status


def test_subscribe_confirm_and_unsubscribe(inbox_and_client, database, settings):
    inbox, client = inbox_and_client
    form = client.get("/digests/subscribe").get_data(as_text=True)
    page = client.post(
        "/digests/subscribe",
        data={"csrf_token": _token(form), "email": "reader@example.org", "kind": "monthly"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "确认邮件已发出" in page
    assert _status(database, "reader@example.org") == "pending"

    (confirmation,) = inbox.messages
    confirm_url = re.search(r"http://\S+/digests/confirm/\S+", confirmation.get_content()).group(0)
    path = confirm_url.split("localhost", 1)[1]
    assert "订阅成功" in client.get(path).get_data(as_text=True)
    assert _status(database, "reader@example.org") == "active"

    assert client.get(path[:-3] + "xyz").status_code == 400  # altered token

    with database.session() as session:
        subscriber_id = session.query(DigestSubscriber).one().id
    from hitwatch.digest.mail import UNSUBSCRIBE, make_token

    token = make_token(settings.secret_key.get_secret_value(), UNSUBSCRIBE, subscriber_id)
    ask = client.get(f"/digests/unsubscribe/{token}").get_data(as_text=True)
    assert "确认退订" in ask and _status(database, "reader@example.org") == "active"
    done = client.post(f"/digests/unsubscribe/{token}", data={"csrf_token": _token(ask)})
    assert "已退订" in done.get_data(as_text=True)
    assert _status(database, "reader@example.org") == "unsubscribed"


def test_bad_address_is_refused(inbox_and_client):
    inbox, client = inbox_and_client
    form = client.get("/digests/subscribe").get_data(as_text=True)
    page = client.post(
        "/digests/subscribe",
        data={"csrf_token": _token(form), "email": "not-an-address"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "请填写正确的邮箱地址" in page and not inbox.messages


def test_one_click_unsubscribe_needs_no_form_token(inbox_and_client, database, settings):
    """RFC 8058: the mail client POSTs List-Unsubscribe=One-Click without cookies."""
    _, client = inbox_and_client
    with database.session() as session:
        subscriber = DigestSubscriber(email="a@example.org", status="active")
        session.add(subscriber)
        session.flush()
        subscriber_id = subscriber.id
    from hitwatch.digest.mail import UNSUBSCRIBE, make_token

    token = make_token(settings.secret_key.get_secret_value(), UNSUBSCRIBE, subscriber_id)
    response = client.post(
        f"/digests/unsubscribe/{token}/one-click", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert _status(database, "a@example.org") == "unsubscribed"
