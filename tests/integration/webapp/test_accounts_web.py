"""Accounts against the real servers: rate limits counted in Redis and shared by every web
process, and a password reset mailed through a real SMTP server."""

from __future__ import annotations

import re

import pytest
import redis
from flask import Flask

from hitwatch.search.memory import InMemoryIndex
from hitwatch.settings import Settings
from hitwatch.store import Database
from tests.accounts import PASSWORD, form_token, make_user
from tests.factories import FakeCelery
from webapp import create_app

pytestmark = pytest.mark.requires_redis


@pytest.fixture
def web(settings: Settings, database: Database, redis_url: str, inbox, unique_name: str):
    """Two web processes' apps on one Redis, as behind a load balancer."""
    _handler, port = inbox
    settings = settings.model_copy(update={"redis_url": redis_url, "smtp_port": port})
    index = InMemoryIndex()
    index.ensure()

    def app() -> Flask:
        return create_app(
            settings,
            database=database,
            search_index=index,
            celery=FakeCelery(),
            test_config={"TESTING": True, "RATELIMIT_KEY_PREFIX": unique_name},
        )

    yield app(), app()
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"*{unique_name}*"):
        client.delete(key)


def _login(app: Flask, email: str, password: str, address: str) -> int:
    client = app.test_client()
    response = client.post(
        "/login",
        data={"csrf_token": form_token(client), "email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code


def test_failed_logins_are_counted_in_redis_across_web_processes(
    web, database, redis_url, unique_name
) -> None:
    first, second = web
    make_user(database, "editor")
    for attempt in range(3):
        assert _login(first, "editor@example.org", "wrong guess", f"10.1.0.{attempt}") == 200
    for attempt in range(2):
        assert _login(second, "editor@example.org", "wrong guess", f"10.2.0.{attempt}") == 200
    # Five failures in all: the account is closed to every process and address for now.
    assert _login(first, "editor@example.org", PASSWORD, "10.3.0.1") == 429
    assert _login(second, "editor@example.org", PASSWORD, "10.3.0.2") == 429
    assert list(redis.Redis.from_url(redis_url).scan_iter(f"*{unique_name}*email:editor@*"))
    # Another account is not affected; successful logins do not count against one.
    make_user(database, "reader")
    for attempt in range(6):
        assert _login(first, "reader@example.org", PASSWORD, f"10.4.0.{attempt}") == 302


def test_one_client_address_cannot_try_many_accounts(web) -> None:
    first, _second = web
    codes = [_login(first, f"user{n}@example.org", "guess", "10.9.9.9") for n in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_nobody_can_make_the_server_mail_one_address_again_and_again(web, inbox) -> None:
    handler, _port = inbox
    first, second = web
    statuses = []
    for n, app in enumerate([first, second, first, second]):
        client = app.test_client()
        response = client.post(
            "/digests/subscribe",
            data={
                "csrf_token": form_token(client, "/digests/subscribe"),
                "email": "victim@example.org",
            },
            environ_base={"REMOTE_ADDR": f"10.5.0.{n}"},
        )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 302, 429]
    assert len(handler.messages) == 3
    for endpoint, data in (
        ("/alerts/manage", {"email": "victim@example.org"}),
        ("/password/forgot", {"email": "victim@example.org"}),
    ):
        codes = []
        for n in range(4):
            client = first.test_client()
            codes.append(
                client.post(
                    endpoint,
                    data={"csrf_token": form_token(client, "/alerts"), **data},
                    environ_base={"REMOTE_ADDR": f"10.6.{n}.1"},
                ).status_code
            )
        assert codes[-1] == 429, (endpoint, codes)


def test_password_reset_by_mail_works_once(web, inbox, database) -> None:
    handler, _port = inbox
    first, _second = web
    make_user(database, "editor")
    client = first.test_client()
    page = client.post(
        "/password/forgot",
        data={"csrf_token": form_token(client, "/password/forgot"), "email": "editor@example.org"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "如果这个邮箱有账号" in page
    # An address without an account gets the same answer and no mail.
    other = first.test_client()
    other.post(
        "/password/forgot",
        data={"csrf_token": form_token(other, "/password/forgot"), "email": "nobody@example.org"},
    )
    (mail,) = handler.messages
    assert mail["To"] == "editor@example.org"
    link = re.search(r"http://\S+(/password/\S+)", mail.get_content()).group(1)
    new = "a fresh passphrase 2026"
    data = {"csrf_token": form_token(client, link), "new_password": new, "confirm_password": new}
    assert client.post(link, data=data).status_code == 302
    assert "已用过" in client.get(link).get_data(as_text=True)
    assert _login(first, "editor@example.org", PASSWORD, "10.7.0.1") == 200  # old one is gone
    assert _login(first, "editor@example.org", new, "10.7.0.2") == 302
