"""A reader sets up a search alert in a real browser and gets it by real SMTP (aiosmtpd).

Search -> 为此搜索设置提醒 -> confirmation e-mail -> confirm -> a matching story is indexed
-> the alert e-mail arrives -> unsubscribe through its link. Indexing runs the indexer's
own task body, and the `story_indexed` event it sends runs the notifier's task body at
once (the production path minus the broker hop).

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
from aiosmtpd.controller import Controller
from sqlalchemy import select
from werkzeug.serving import make_server

from hitwatch.messages import ClassifiedDocument, TopicScore, stable_id
from hitwatch.search import open_search_index
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import AlertRule
from hitwatch.tasks import HANDLE_STORY_INDEXED
from indexer.worker import Indexer
from notifier.alerts import AlertTasks
from notifier.worker import Notifier
from tests.e2e.test_browser_digest import _link
from tests.e2e.test_browser_search import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, _require_browser
from tests.factories import BatchingSender, classified_document
from tests.smtp import Inbox, free_port
from webapp import create_app

READER = "reader@example.org"


def classified(n: int, title: str, body: str) -> ClassifiedDocument:
    url = f"https://www.nhc.gov.cn/yzygj/s3594q/2024{n:02d}/content.shtml"
    return classified_document(
        stable_id(url),
        url=url,
        canonical_url=url,
        source_id="nhc",
        source_name="国家卫健委",
        source_kind="government",
        title=title,
        published_at=datetime(2024, 7, n, 2, tzinfo=UTC),
        body=body,
        content_hash=stable_id(body),
        story_id=stable_id(f"story-{n}"),
        fetched_at=datetime(2024, 7, n, 3, tzinfo=UTC),
        topics=[TopicScore(code="G", name="电子病历", score=1.0)],
        doc_type="政策文件",
    )


@dataclass
class Relay(BatchingSender):
    """The indexer's task sender: hands `story_indexed` to the notifier's task at once."""

    notifier: Notifier

    def send_task(self, name: str, args: Any = None, **options: Any) -> None:
        assert name == HANDLE_STORY_INDEXED, name
        self.notifier.handle(*args)


@dataclass
class Site:
    url: str
    inbox: Inbox
    indexer: Indexer
    database: Database


@pytest.fixture
def site(settings: Settings, database: Database) -> Iterator[Site]:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "mail_from": "卫生信息化监测 <alerts@example.org>",
            "public_base_url": url,
        }
    )
    index = open_search_index(settings)
    index.ensure()
    notifier = Notifier(database, AlertTasks(database, settings))
    indexer = Indexer(database, index, Relay(notifier))  # type: ignore[arg-type]
    indexer.handle(
        classified(1, "电子病历系统应用水平分级评价标准解读", "解读电子病历评级标准。").to_payload()
    )
    app = create_app(settings, database=database, search_index=index)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(url, inbox, indexer, database)
    finally:
        server.shutdown()
        thread.join(10)
        index.close()
        smtp.stop()


def test_reader_sets_up_an_alert_confirms_receives_it_and_unsubscribes(site: Site) -> None:
    sync_playwright = _require_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(f"{site.url}/search")
            page.locator("input[name=q]").fill("电子病历 -广告")
            page.locator("button", has_text="搜索").first.click()
            page.wait_for_url("**/search?**")
            assert "电子病历系统应用水平分级评价标准解读" in page.locator("ol.results").inner_text()

            page.locator("a", has_text="为此搜索设置提醒").click()
            page.wait_for_url("**/alerts/new?**")
            form = page.locator("form.alert-form")
            assert form.locator("input[name=q]").input_value() == "电子病历 -广告"
            # A mistake first: the query is checked and the error shown in Chinese.
            form.locator("input[name=q]").fill("电子病历 (")
            form.locator("input[name=email]").fill(READER)
            page.locator("button", has_text="设置提醒").click()
            page.wait_for_load_state()
            assert "查询语句有误" in page.content()
            assert form.locator("input[name=email]").input_value() == READER  # kept
            form.locator("input[name=q]").fill("电子病历 -广告")
            form.locator("input[name=name]").fill("电子病历")
            form.locator("input[name=extra]").check()  # 只要政策文件
            page.locator("button", has_text="设置提醒").click()
            page.wait_for_url("**/search?**")
            assert "确认邮件已发出" in page.content()

            [confirmation] = site.inbox.messages
            assert confirmation["To"] == READER
            page.goto(_link(confirmation, rf"{re.escape(site.url)}/alerts/confirm/\S+"))
            assert page.locator("h1").inner_text() == "提醒已启用"

            # A new matching policy is indexed: the alert goes out once, a reprint adds nothing.
            news = classified(2, "国家卫健委关于推进电子病历建设的通知", "各地要推进电子病历应用。")
            site.indexer.handle(news.to_payload())
            site.indexer.handle(news.to_payload())  # redelivered
            site.indexer.handle(classified(3, "互联网医院广告", "电子病历广告").to_payload())
            assert len(site.inbox.messages) == 2
            alert = site.inbox.messages[1]
            assert alert["To"] == READER
            assert alert["Subject"] == "【提醒：电子病历】国家卫健委关于推进电子病历建设的通知"
            assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            html = alert.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
            assert "<mark>电子病历</mark>" in html

            page.goto(_link(alert, rf"{re.escape(site.url)}/items/\S+"))
            assert "国家卫健委关于推进电子病历建设的通知" in page.locator("h1").inner_text()

            page.goto(_link(alert, rf"{re.escape(site.url)}/alerts/manage/\S+"))
            assert "电子病历 -广告 type:政策文件" in page.content()
            assert "已发送 1 封" in page.locator("li.alert-rule").inner_text()
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-alerts-manage.png"), full_page=True)
            # 删除 asks first: a static script (the CSP runs no inline one); declining keeps it.
            questions: list[str] = []

            def decline(dialog: Any) -> None:
                questions.append(dialog.message)
                dialog.dismiss()

            page.once("dialog", decline)
            page.locator("li.alert-rule button", has_text="删除").click()
            assert questions == ["确定删除这个提醒吗？删除后不能恢复。"]
            assert page.locator("li.alert-rule").count() == 1

            page.goto(_link(alert, rf"{re.escape(site.url)}/alerts/unsubscribe/[^\s/]+(?=\s|$)"))
            assert page.locator("h1").inner_text() == "退订提醒"
            page.locator("button", has_text="确认退订").click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text() == "已退订"
        finally:
            browser.close()
    with site.database.session() as session:
        rule = session.scalars(select(AlertRule).where(AlertRule.email == READER)).one()
        assert rule.confirmed and not rule.active and rule.unsubscribed_at is not None
    site.indexer.handle(classified(4, "电子病历新规", "电子病历").to_payload())
    assert len(site.inbox.messages) == 2  # nothing after unsubscribing
