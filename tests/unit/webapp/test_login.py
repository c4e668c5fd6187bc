"""Logging in and out, session limits, one's own account, API tokens, admin pages."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hitwatch.accounts import set_role
from hitwatch.search.memory import InMemoryIndex
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import AuditEvent
from tests.accounts import PASSWORD, form_token, make_user, sign_in
from tests.factories import Doc, FakeCelery
from webapp import create_app


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _login(client: FlaskClient, email: str, password: str, next_url: str = ""):  # type: ignore[no-untyped-def]
    data = {"csrf_token": form_token(client), "email": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/login", data=data)


def _actions(database: Database) -> list[str]:
    with database.session() as session:
        return [event.action for event in session.query(AuditEvent).order_by(AuditEvent.id)]


def test_login_goes_back_where_it_was_asked_and_never_off_site(client, database) -> None:
    make_user(database, "editor")
    page = client.get("/digests/build")  # GET is not even a route: the 405 page, no login
    assert page.status_code == 405
    response = client.get("/failures")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/failures"
    assert "请先登录" in text(client.get(response.headers["Location"]))
    bad = _login(client, "editor@example.org", "wrong password!")
    assert bad.status_code == 200 and "邮箱或密码不正确" in text(bad)
    for target, landing in (
        ("/digests", "/digests"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
    ):
        response = _login(client, "editor@example.org", PASSWORD, target)
        assert response.status_code == 302 and response.headers["Location"] == landing
    assert _actions(database)[:2] == ["login_failed", "login"]


def test_logout_ends_the_session(client, database) -> None:
    sign_in(client, database, "reader")
    assert client.get("/account").status_code == 200
    client.post("/logout", data={"csrf_token": form_token(client, "/account")})
    assert client.get("/account").status_code == 302
    assert _actions(database)[-1] == "logout"


@pytest.mark.parametrize(("key", "age"), [("seen_at", 121 * 60), ("auth_at", 13 * 3600)])
def test_sessions_end_when_idle_or_too_old(client, database, key, age) -> None:
    sign_in(client, database, "reader")
    with client.session_transaction() as session:
        session[key] = int(time.time()) - age
        session.setdefault("seen_at", int(time.time()))
    response = client.get("/account")
    assert response.status_code == 302
    assert "登录已过期" in text(client.get(response.headers["Location"]))


def test_password_change_ends_the_other_sessions(app: Flask, database) -> None:
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, database, "reader")
    _login(phone, "reader@example.org", PASSWORD)
    changed = laptop.post(
        "/account/password",
        data={
            "csrf_token": form_token(laptop, "/account"),
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )
    assert changed.status_code == 302
    assert laptop.get("/account").status_code == 200
    assert phone.get("/account").status_code == 302
    assert _login(phone, "reader@example.org", "a brand new passphrase").status_code == 302


def test_a_role_change_takes_effect_at_once(client, database) -> None:
    sign_in(client, database, "admin")
    make_user(database, "admin", "second@example.org")
    assert client.get("/failures").status_code == 200
    with database.session() as session:
        set_role(session, "admin@example.org", "reader")
    assert client.get("/failures").status_code == 302  # the old session is gone


def test_api_token_is_shown_once_and_opens_the_api_when_reading_needs_login(
    settings: Settings, database: Database, index: InMemoryIndex, seed
) -> None:
    seed([Doc("a1", "电子病历评级新规", "电子病历系统应用水平分级评价。")])
    app = create_app(
        settings.model_copy(update={"read_access": "login"}),
        database=database,
        search_index=index,
        celery=FakeCelery(),
        test_config={"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"},
    )
    browser, script = app.test_client(), app.test_client()
    sign_in(browser, database, "reader")
    page = text(
        browser.post(
            "/account/tokens",
            data={"csrf_token": form_token(browser, "/account"), "name": "周报脚本"},
        )
    )
    token = re.search(r'id="new-token">(hw_[^<]+)<', page).group(1)
    assert token not in text(browser.get("/account")) and "周报脚本" in text(
        browser.get("/account")
    )

    assert script.get("/api/v1/items").status_code == 401
    assert script.get("/api/v1/items").json["status"] == 401
    auth = {"Authorization": f"Bearer {token}"}
    assert script.get("/api/v1/items", headers=auth).json["items"][0]["doc_id"] == "a1"
    assert script.get("/api/v1/search?q=电子病历", headers=auth).status_code == 200
    assert script.get(f"/search.atom?q=电子病历&token={token}").status_code == 200
    assert script.get(f"/digests.atom?token={token}").status_code == 200
    # A token opens machine-readable routes only, and sets no login cookie.
    assert script.get(f"/?token={token}").status_code == 302
    assert script.get("/api/v1/items").status_code == 401

    token_id = re.search(r"/account/tokens/(\d+)/revoke", text(browser.get("/account"))).group(1)
    browser.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": form_token(browser, "/account")}
    )
    assert script.get("/api/v1/items", headers=auth).status_code == 401
    assert _actions(database)[-2:] == ["token_create", "token_revoke"][
        -2:
    ] or "token_revoke" in _actions(database)


def test_admin_opens_an_account_whose_link_sets_the_first_password(client, database) -> None:
    sign_in(client, database, "admin")
    page = text(
        client.post(
            "/admin/users",
            data={
                "csrf_token": form_token(client, "/admin/users"),
                "email": "new@example.org",
                "role": "editor",
                "name": "小王",
            },
        )
    )
    link = re.search(r"http://[^/]+(/password/[^<\s]+)", page).group(1)
    newcomer = client.application.test_client()
    form = text(newcomer.get(link))
    assert "new@example.org" in form
    data = {
        "csrf_token": form_token(newcomer, link),
        "new_password": "newcomer passphrase",
        "confirm_password": "newcomer passphrase",
    }
    assert newcomer.post(link, data=data).status_code == 302
    assert "只能用一次" in text(newcomer.get(link)) or "已用过" in text(newcomer.get(link))
    assert _login(newcomer, "new@example.org", "newcomer passphrase").status_code == 302
    assert newcomer.get("/failures").status_code == 403  # an editor, not an admin

    audit = text(client.get("/admin/audit?action=user_add"))
    assert "new@example.org" in audit and "新建账号" in audit
    assert audit.count('<td class="nowrap">') == 1  # the filter keeps only that action
    settings_page = text(client.get("/admin/settings"))
    assert "SECRET_KEY" in settings_page and "dev-only-change-me" not in settings_page


def test_failed_logins_are_limited_per_account(app: Flask, database) -> None:
    make_user(database, "reader")
    for attempt in range(5):
        client = app.test_client()  # a new client each time: limits follow the account
        response = client.post(
            "/login",
            data={
                "csrf_token": form_token(client),
                "email": "reader@example.org",
                "password": f"guess {attempt}",
            },
            environ_base={"REMOTE_ADDR": f"10.0.0.{attempt}"},
        )
        assert response.status_code == 200
    client = app.test_client()
    response = _login(client, "reader@example.org", PASSWORD)
    assert response.status_code == 429 and "操作过于频繁" in text(response)


def test_the_account_page_opens_its_address_alert_and_channel_management(client, database):
    from hitwatch.alerts.rules import add_rule

    sign_in(client, database, "reader")
    add_rule(database, "reader@example.org", "电子病历")
    page = client.get("/account").get_data(as_text=True)
    link = re.search(r'href="http://localhost(/alerts/manage/[^"]+)">管理提醒与发送渠道', page)
    assert link is not None
    manage = client.get(link.group(1)).get_data(as_text=True)
    assert "reader@example.org 的全部提醒" in manage and "添加渠道" in manage
