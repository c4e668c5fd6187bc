"""Alert pages with a fake mail transport: create from a search, confirm, manage, unsubscribe."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from werkzeug.routing import RequestRedirect

from hitwatch.alerts.mail import AlertLinks
from hitwatch.alerts.rules import rules_of
from tests.factories import Doc, Outbox


@pytest.fixture
def outbox(monkeypatch) -> Outbox:
    box = Outbox()
    monkeypatch.setattr("webapp.alerts.open_transport", lambda _settings: box)
    return box


def _csrf(client) -> str:
    page = client.get("/alerts/new?q=x").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _link(message: EmailMessage, kind: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"http://localhost(/alerts/{kind}/\S+)", text).group(1)


def test_search_page_offers_an_alert_for_its_query(client, seed):
    seed([Doc("a1", "电子病历评级", "正文")])
    page = client.get("/search?q=电子病历").get_data(as_text=True)
    assert "为此搜索设置提醒" in page and "/alerts/new?q=" in page
    empty = client.get("/search?q=无此词语").get_data(as_text=True)
    assert "为此搜索设置提醒" in empty
    form = client.get("/alerts/new?q=电子病历").get_data(as_text=True)
    assert 'value="电子病历"' in form
    assert 'name="include_offtopic" value="1">' in form  # off-topic items: not by default
    # The source filter goes into the alert's query; "all" includes off-topic items.
    page = client.get("/search?q=电子病历&source=bjnews&all=1").get_data(as_text=True)
    link = re.search(r'href="(/alerts/new\?[^"]+)"', page).group(1).replace("&amp;", "&")
    form = client.get(link).get_data(as_text=True)
    assert 'value="电子病历 source:bjnews"' in form
    assert 'name="include_offtopic" value="1" checked>' in form


def test_bad_input_is_explained_in_chinese_and_kept(client, outbox, database):
    token = _csrf(client)
    response = client.post(
        "/alerts", data={"csrf_token": token, "q": "(医保", "email": "a@example.org"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "查询语句有误" in page and "^" in page
    assert 'value="(医保"' in page and 'value="a@example.org"' in page
    response = client.post("/alerts", data={"csrf_token": token, "q": "医保", "email": "nobody"})
    assert response.status_code == 400 and "请填写正确的邮箱地址" in response.get_data(as_text=True)
    response = client.post(
        "/alerts", data={"csrf_token": token, "q": " ", "email": "a@example.org"}
    )
    assert "提醒至少需要一个关键词" in response.get_data(as_text=True)
    assert outbox.sent == [] and rules_of(database, "a@example.org") == []


def test_create_confirm_manage_and_unsubscribe(client, outbox, database):
    token = _csrf(client)
    response = client.post(
        "/alerts",
        data={
            "csrf_token": token,
            "q": "电子病历",
            "email": "Reader@Example.org",
            "name": "病历",
            "extra": "type:政策文件",
        },
    )
    assert response.status_code == 302
    [rule] = rules_of(database, "reader@example.org")
    assert (rule.query, rule.confirmed) == ("电子病历 type:政策文件", False)
    [mail] = outbox.sent
    confirmed = client.get(_link(mail, "confirm")).get_data(as_text=True)
    assert "提醒已启用" in confirmed
    [rule] = rules_of(database, "reader@example.org")
    assert rule.confirmed and rule.active
    manage = re.search(r'href="http://localhost(/alerts/manage/[^"]+)"', confirmed).group(1)
    page = client.get(manage).get_data(as_text=True)
    assert "电子病历 type:政策文件" in page and "已启用" in page and "尚未发送" in page

    client.post(f"{manage}/{rule.id}/pause", data={"csrf_token": token})
    assert "已暂停" in client.get(manage).get_data(as_text=True)
    bad = client.post(f"{manage}/{rule.id}/edit", data={"csrf_token": token, "q": "医保 ("})
    assert bad.status_code == 400 and "查询语句有误" in bad.get_data(as_text=True)
    client.post(f"{manage}/{rule.id}/edit", data={"csrf_token": token, "q": "医保 DRG", "name": ""})
    [rule] = rules_of(database, "reader@example.org")
    assert rule.query == "医保 DRG" and not rule.active
    client.post(f"{manage}/{rule.id}/resume", data={"csrf_token": token})
    assert rules_of(database, "reader@example.org")[0].active

    links = AlertLinks("http://localhost", client.application.config["SECRET_KEY"])
    one_click = links.one_click(rule.id).removeprefix("http://localhost")
    # The mail client posts without our form token or cookie.
    fresh = client.application.test_client()
    assert fresh.post(one_click).status_code == 200
    assert not rules_of(database, "reader@example.org")[0].active

    client.post(f"{manage}/{rule.id}/delete", data={"csrf_token": token})
    assert rules_of(database, "reader@example.org") == []
    assert client.post(f"{manage}/{rule.id}/delete", data={"csrf_token": token}).status_code == 404


def test_someone_elses_rules_and_forged_links_are_refused(client, outbox, database):
    from hitwatch.alerts.rules import add_rule

    mine = add_rule(database, "a@example.org", "医保")
    other = AlertLinks("http://localhost", client.application.config["SECRET_KEY"]).manage(
        "b@example.org"
    )
    path = other.removeprefix("http://localhost")
    token = _csrf(client)
    assert client.post(f"{path}/{mine.id}/delete", data={"csrf_token": token}).status_code == 404
    assert client.get("/alerts/manage/forged").status_code == 400
    assert "链接无效" in client.get("/alerts/confirm/forged").get_data(as_text=True)
    assert rules_of(database, "a@example.org")


def test_manage_link_is_mailed_on_request(client, outbox):
    token = _csrf(client)
    assert "发送管理链接" in client.get("/alerts").get_data(as_text=True)
    response = client.post("/alerts/manage", data={"csrf_token": token, "email": "A@example.org"})
    assert response.status_code == 302
    [mail] = outbox.sent
    assert mail["To"] == "a@example.org" and "/alerts/manage/" in mail.get_content()
    client.post("/alerts/manage", data={"csrf_token": token, "email": "nobody"})
    assert len(outbox.sent) == 1


def test_alert_links_resolve_to_web_app_routes(app):
    links = AlertLinks("https://hitwatch.example.org", "s")
    adapter = app.url_map.bind("hitwatch.example.org", url_scheme="https")
    for url, method in (
        (links.confirm(1), "GET"),
        (links.manage("a@example.org"), "GET"),
        (links.unsubscribe(1), "GET"),
        (links.one_click(1), "POST"),
        (links.item("d1"), "GET"),
    ):
        path = url.removeprefix("https://hitwatch.example.org")
        try:
            endpoint, _ = adapter.match(path, method=method)
        except RequestRedirect:  # pragma: no cover
            pytest.fail(f"{path} redirects")
        assert endpoint.startswith(("alerts.", "browse.")), (path, endpoint)
