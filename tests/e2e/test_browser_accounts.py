"""Roles in a real browser: who may edit, publish and replay, and what logging out ends.

An anonymous visitor tries the digest editor and is sent to log in; an editor logs in,
builds, edits and publishes the July issue (the page says who published it); a reader
cannot publish or open a draft; an admin replays a failure; logging out ends the session.

Needs Debian's `chromium` and the `playwright` package; skipped without them, except
under CI=true.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from werkzeug.serving import make_server

from hitwatch.search import open_search_index
from hitwatch.settings import Settings
from hitwatch.store import Database, Failure
from tests.accounts import PASSWORD, make_user
from tests.e2e.test_browser_search import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, _require_browser
from tests.factories import FakeCelery
from tests.smtp import free_port
from tests.unit.digest.samples import BULLETIN_ITEMS, store_bulletin
from webapp import create_app

EDITED_TITLE = "用大数据看病，专家怎么看？"


@dataclass
class Site:
    url: str
    celery: FakeCelery
    failure_id: int


@pytest.fixture
def site(settings: Settings, database: Database) -> Iterator[Site]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"public_base_url": url, "smtp_port": free_port()})
    with database.session() as session:
        store_bulletin(session)
        failure = Failure(
            task_name="classifier.classify_item",
            item_key="https://example.org/broken.html",
            payload={"schema": "crawled_item/1", "url": "https://example.org/broken.html"},
            error_type="ExtractionError",
            error_message="正文为空",
            created_at=datetime(2024, 7, 5, tzinfo=UTC),
        )
        session.add(failure)
        session.flush()
        failure_id = failure.id
    for role in ("reader", "editor", "admin"):
        make_user(database, role)
    index = open_search_index(settings)
    index.ensure()
    celery = FakeCelery()
    app = create_app(settings, database=database, search_index=index, celery=celery)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(url, celery, failure_id)
    finally:
        server.shutdown()
        thread.join(10)
        index.close()


def log_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the login page as a person does, from wherever the page is."""
    if "/login" not in page.url:
        page.goto(f"{base}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form button", has_text="登录").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def log_out(page: Any) -> None:
    page.locator(".account-links button", has_text="退出").click()
    page.wait_for_load_state()
    assert "已退出登录" in page.content()


def test_roles_decide_who_edits_publishes_and_replays(site: Site) -> None:
    sync_playwright = _require_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")

            # Anonymous: no editor controls, and the failures page asks for a login.
            page.goto(f"{site.url}/digests")
            assert page.locator("button", has_text="生成该月草稿").count() == 0
            assert "失败记录" not in page.locator("nav.nav").inner_text()
            page.goto(f"{site.url}/failures")
            assert re.search(r"/login\?next=/failures$", page.url)
            assert "请先登录" in page.content()

            # The editor logs in from there and builds, edits and publishes July.
            log_in(page, site.url, "editor@example.org")
            assert page.locator("h1").first.inner_text() != "失败记录"  # 403: not theirs
            assert "没有权限" in page.content()
            page.goto(f"{site.url}/digests")
            page.locator("input[name=month]").fill("2024-07")
            page.locator("button", has_text="生成该月草稿").click()
            page.wait_for_url(re.compile(r".*/digests/\d+$"))
            draft_url = page.url
            entries = page.locator("ol.digest-entries > li")
            assert entries.count() == len(BULLETIN_ITEMS)
            third = entries.filter(has_text=BULLETIN_ITEMS[2].title)
            third.locator("summary", has_text="修改").click()
            third.locator("input[name=title]").fill(EDITED_TITLE)
            third.locator("button", has_text="保存").click()
            page.wait_for_load_state()
            assert EDITED_TITLE in page.locator("ol.digest-entries").inner_text()
            page.locator("a", has_text="发布本期").click()
            page.wait_for_load_state()
            assert "目前没有会收到本期的订阅者" in page.content()
            page.locator("button", has_text="确认发布").click()
            page.wait_for_load_state()
            assert "已发布：第1期" in page.content()
            assert "由 editor 发布" in page.content()
            assert [name for name, _args, _options in site.celery.sent] == [
                "notifier.deliver_digest"
            ]
            published_url = page.url
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-roles-published.png"), full_page=True)
            log_out(page)

            # A reader sees the published issue but cannot correct it or open a draft.
            log_in(page, site.url, "reader@example.org")
            page.goto(published_url)
            assert EDITED_TITLE in page.content()
            assert page.locator("summary", has_text="更正本期").count() == 0
            response = page.request.post(
                f"{published_url}/correct",
                form={"csrf_token": _form_token(page), "note": "读者想改"},
                max_redirects=0,
            )
            assert response.status == 403
            page.goto(f"{site.url}/digests")
            assert page.locator("button", has_text="生成该月草稿").count() == 0
            log_out(page)

            # An admin replays the failure; the table says who did it.
            log_in(page, site.url, "admin@example.org")
            page.goto(f"{site.url}/failures")
            page.locator("button", has_text="重放").first.click()
            page.wait_for_load_state()
            assert f"已把 #{site.failure_id} 送回队列 classify" in page.content()
            page.goto(f"{site.url}/failures?all=1")
            assert "由 admin@example.org" in page.content()
            page.goto(f"{site.url}/admin/audit")
            audit = page.locator("table").inner_text()
            for label in ("发布月报", "重放失败记录", "登录"):
                assert label in audit, audit
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-roles-audit.png"), full_page=True)

            # Logging out ends the session: the admin pages ask for a login again.
            log_out(page)
            page.goto(f"{site.url}/admin/users")
            assert "/login" in page.url
            page.goto(draft_url)  # the draft is published now; the issue is readable
            assert EDITED_TITLE in page.content()
        finally:
            browser.close()


def _form_token(page: Any) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.content())
    assert match, "every page with a form carries the token"
    return match.group(1)
