"""Security headers on every response of every GET route; no inline script in templates."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from flask import Flask

from hitwatch.accounts import add_user, make_password_link
from hitwatch.alerts.mail import alert_links
from hitwatch.alerts.rules import add_rule
from hitwatch.digest.mail import CONFIRM, PREFERENCES, UNSUBSCRIBE, make_token
from hitwatch.digest.workflow import build_draft, publish_issue
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import Article, DigestSubscriber
from indexer.store import save_document
from tests.factories import classified_document
from tests.unit.digest.samples import BULLETIN_ITEMS, store_bulletin
from webapp import create_app
from webapp.access import TOKEN_ENDPOINTS
from webapp.headers import CONTENT_SECURITY_POLICY, EMAIL_HTML_PAGES, EMAIL_HTML_POLICY

WEBAPP = Path(__file__).resolve().parents[3] / "webapp"
EXPECTED = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def assert_secure(response, what: str, endpoint: str = "") -> None:  # type: ignore[no-untyped-def]
    expected = dict(EXPECTED)
    if endpoint in EMAIL_HTML_PAGES:
        expected["Content-Security-Policy"] = EMAIL_HTML_POLICY
    for name, value in expected.items():
        assert response.headers.get(name) == value, f"{what}: {name}"


def test_the_policy_allows_nothing_inline_and_no_framing() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    # The digest page (e-mail HTML) may carry style attributes, and nothing else more.
    assert EMAIL_HTML_POLICY == CONTENT_SECURITY_POLICY + "; style-src-attr 'unsafe-inline'"
    assert {"digests.issue"} == EMAIL_HTML_PAGES


def _policy(database: Database) -> str:
    """A stored policy (its page and feed), made once."""
    with database.session() as session:
        if session.get(Article, "policy-1") is None:
            save_document(
                session,
                classified_document(
                    "policy-1",
                    title="国家卫生健康委关于推进医院信息互联互通的意见",
                    doc_type="政策文件",
                    policy={"issuer": "国家卫生健康委员会"},
                ),
            )
    return "policy-1"


@pytest.fixture
def filled(app: Flask, settings: Settings, database: Database) -> dict[str, str]:
    """A value for every URL argument of every GET route, taken from real rows."""
    secret = app.config["SECRET_KEY"]
    with database.session() as session:
        store_bulletin(session)
        issue = build_draft(session, settings, date(2024, 7, 1), date(2024, 7, 31))
        publish_issue(session, issue, settings)
        subscriber = DigestSubscriber(email="reader@example.org", status="confirmed")
        session.add(subscriber)
        session.flush()
        issue_id, subscriber_id = issue.id, subscriber.id
    rule = add_rule(database, "reader@example.org", "电子病历")
    links = alert_links("http://localhost", secret)
    with database.session() as session:
        newcomer = add_user(session, "new@example.org", "editor")
        password_link = make_password_link(secret, newcomer, reset=False)
    return {
        "digests.publish:issue_id": str(issue_id),
        "account.set_password:token": password_link,
        "mailbox.message:message_id": "1765000000000-" + "0" * 32,  # admins only: 302
        "mailbox.html_part:message_id": "1765000000000-" + "0" * 32,
        "static:filename": "forms.js",
        "browse.item:doc_id": BULLETIN_ITEMS[0].doc_id,
        "policies.policy:doc_id": _policy(database),
        "policies.feed:doc_id": _policy(database),
        "api.item:doc_id": BULLETIN_ITEMS[0].doc_id,
        "digests.issue:issue_id": str(issue_id),
        "digests.download:issue_id": str(issue_id),
        "digests.download:ext": "html",
        "subscriptions.confirm:token": make_token(secret, CONFIRM, subscriber_id),
        "subscriptions.unsubscribe_page:token": make_token(secret, UNSUBSCRIBE, subscriber_id),
        "subscriptions.preferences:token": make_token(secret, PREFERENCES, subscriber_id),
        "alerts.confirm:token": links.confirm(rule.id).rsplit("/", 1)[1],
        "alerts.manage:token": links.manage("reader@example.org").rsplit("/", 1)[1],
        "alerts.unsubscribe:token": links.unsubscribe(rule.id).rsplit("/", 1)[1],
    }


def test_every_get_route_sends_the_security_headers(app: Flask, filled: dict[str, str]) -> None:
    client = app.test_client()
    checked = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        missing = [a for a in rule.arguments if f"{rule.endpoint}:{a}" not in filled]
        assert not missing, f"add test data for {rule.endpoint} {rule.rule} {missing}"
        url = rule.rule
        for argument in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{argument}>", filled[f"{rule.endpoint}:{argument}"], url)
        with client.get(url) as response:
            # A machine endpoint answers a caller without a token 401 instead of a redirect.
            answers = (200, 302, 401) if rule.endpoint in TOKEN_ENDPOINTS else (200, 302)
            assert response.status_code in answers, f"{url}: {response.status_code}"
            assert_secure(response, url, rule.endpoint)
        checked.append(rule.endpoint)
    assert len(checked) >= 20 and {"browse.item", "digests.issue", "alerts.manage"} <= set(checked)


def test_errors_and_posts_carry_them_too(app: Flask) -> None:
    client = app.test_client()
    assert_secure(client.get("/no-such-page"), "404")
    refused = client.post("/alerts", data={"q": "医保"})  # no form token
    assert refused.status_code == 400
    assert_secure(refused, "refused post")


def test_the_session_cookie_is_http_only_lax_and_secure_behind_https(
    settings: Settings, database: Database, index
) -> None:  # type: ignore[no-untyped-def]
    def cookie(public_base_url: str) -> str:
        changed = settings.model_copy(update={"public_base_url": public_base_url})
        app = create_app(changed, database=database, search_index=index)
        response = app.test_client().get("/alerts")  # the form puts a token in the session
        return response.headers["Set-Cookie"]

    plain = cookie("http://127.0.0.1:8000")
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    assert "; Secure" in cookie("https://hitwatch.example.org")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)
STYLE = re.compile(r"\sstyle\s*=|<style", re.IGNORECASE)


def test_no_template_holds_inline_script_handlers_or_styles() -> None:
    templates = sorted(WEBAPP.rglob("templates/**/*.html"))
    assert len(templates) >= 15
    for path in templates:
        text = path.read_text("utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER, JAVASCRIPT_URL, STYLE):
            found = pattern.search(text)
            assert found is None, f"{path.relative_to(WEBAPP)}: {found.group(0) if found else ''}"


def test_the_scan_would_see_them() -> None:
    for bad in (
        "<script>alert(1)</script>",
        '<form onsubmit="return confirm(1)">',
        '<a href="javascript:go()">',
        '<p style="color:red">',
    ):
        assert any(p.search(bad) for p in (INLINE_SCRIPT, HANDLER, JAVASCRIPT_URL, STYLE)), bad
    assert not INLINE_SCRIPT.search('<script src="/static/forms.js" defer></script>')
