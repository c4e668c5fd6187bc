"""An alert's owner adds a 钉钉 channel in a real browser and the group gets the alert.

Management page -> 添加渠道 (钉钉, URL, 加签 secret) -> 发送测试消息 -> tick it under the
rule's 发送到 -> a matching story is indexed -> the local 钉钉 receiver gets a signed
markdown post -> 渠道发送记录 shows it. Indexing runs the indexer's own task body and the
`story_indexed` event runs the notifier's at once (the production path minus the broker).

Needs Debian's `chromium` and the `playwright` package; skipped without them, except
under CI=true.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from hitwatch.alerts.mail import AlertLinks
from hitwatch.alerts.rules import add_rule
from hitwatch.search import open_search_index
from hitwatch.settings import Settings
from hitwatch.store import Database
from indexer.worker import Indexer
from notifier.alerts import AlertTasks
from notifier.worker import Notifier
from tests.e2e.test_browser_alerts import Relay, classified
from tests.e2e.test_browser_search import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, _require_browser
from tests.receivers import Receiver
from tests.smtp import free_port
from webapp import create_app

OWNER = "xinxike@example.org"


@pytest.fixture
def site(settings: Settings, database: Database) -> Iterator[tuple[str, Indexer, Receiver]]:
    receiver = Receiver().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(
        update={
            "public_base_url": url,
            "channel_allow_http": True,
            "channel_allowed_hosts": "127.0.0.1",
        }
    )
    index = open_search_index(settings)
    index.ensure()
    indexer = Indexer(database, index, Relay(Notifier(database, AlertTasks(database, settings))))  # type: ignore[arg-type]
    add_rule(database, OWNER, "电子病历", name="病历动态")
    app = create_app(settings, database=database, search_index=index)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    manage = AlertLinks(url, settings.secret_key.get_secret_value()).manage(OWNER)
    try:
        yield manage, indexer, receiver
    finally:
        server.shutdown()
        thread.join(10)
        index.close()
        receiver.stop()


def test_an_owner_adds_a_dingtalk_channel_and_the_group_gets_the_alert(site) -> None:
    manage, indexer, receiver = site
    sync_playwright = _require_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            blocked: list[str] = []
            page.on(
                "console",
                lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
            )
            page.goto(manage)
            form = page.locator("form.channel-form")
            form.locator("select[name=kind]").select_option("dingtalk")
            form.locator("input[name=name]").fill("信息科群")
            form.locator("input[name=url]").fill(receiver.url("dingtalk"))
            form.locator("input[name=secret]").fill(receiver.secret)
            form.locator("button", has_text="添加渠道").click()
            page.wait_for_load_state()
            assert "已添加渠道" in page.content()
            channel = page.locator("li.channel")
            assert "信息科群" in channel.inner_text() and "钉钉自定义机器人" in channel.inner_text()
            assert "ding-token-5678" not in page.content()  # the robot's key is not shown

            channel.locator("button", has_text="发送测试消息").click()
            page.wait_for_load_state()
            assert "测试消息已发出" in page.content()
            [test] = receiver.messages("dingtalk")
            assert test["markdown"]["title"] == "hitwatch 测试消息"

            rule = page.locator("li.alert-rule")
            rule.locator("form.rule-channels label", has_text="信息科群").locator("input").check()
            rule.locator("form.rule-channels input[name=mail]").uncheck()
            rule.locator("button", has_text="保存发送方式").click()
            page.wait_for_load_state()
            assert "已保存发送方式" in page.content()

            news = classified(5, "国家卫健委关于推进电子病历建设的通知", "各地要推进电子病历应用。")
            indexer.handle(news.to_payload())
            indexer.handle(news.to_payload())  # redelivered: posted once
            alerts = receiver.messages("dingtalk")[1:]
            assert len(alerts) == 1 and receiver.refused == []
            assert (
                alerts[0]["markdown"]["title"]
                == "【提醒：病历动态】国家卫健委关于推进电子病历建设的通知"
            )
            text = alerts[0]["markdown"]["text"]
            assert (
                "来源：国家卫健委" in text and "类型：政策文件" in text and "命中：电子病历" in text
            )

            page.reload()
            page.locator("details.channel-posts summary").click()
            record = page.locator("details.channel-posts").inner_text()
            assert "国家卫健委关于推进电子病历建设的通知" in record and "已发送" in record
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-alert-channels.png"), full_page=True)
            assert blocked == []
        finally:
            browser.close()
