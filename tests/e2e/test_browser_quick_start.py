"""The README's quick start in a real browser, on a fresh `hitwatch run`: subscribe to the
digest and confirm through the demo's 邮件 page, set an alert and confirm it the same
way, publish a new article on the demo mirror, crawl, and read the alert mail."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.e2e.launch import HITWATCH, hitwatch_run
from tests.e2e.test_browser_accounts import log_in
from tests.e2e.test_browser_search import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, _require_browser

READER = "newcomer@example.org"
NEWS_TITLE = "国家卫健委部署电子病历系统应用水平分级评价新一轮工作"
NEWS_TEXT = (
    "国家卫生健康委近日部署新一轮电子病历系统应用水平分级评价，推动医院信息化建设。",
    "通知要求各地以电子病历为核心，加快医院信息平台和互联互通建设，提升数据质量。",
)


def _open_newest_mail(page: Any, base: str, subject_part: str, timeout: float = 90) -> str:
    """Wait on the 邮件 page for a message whose subject has `subject_part`; its text."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.goto(f"{base}/mail")
        link = page.locator("table a", has_text=subject_part)
        if link.count():
            link.first.click()
            page.wait_for_load_state()
            return str(page.locator("pre.mail-text").inner_text())
        time.sleep(2)
    raise AssertionError(f"no mail with {subject_part!r} within {timeout} s")


def _link_in(text: str, path: str) -> str:
    match = re.search(rf"http://\S+{path}\S+", text)
    assert match, f"no {path} link in:\n{text}"
    return match.group(0)


def test_the_quick_start_works_in_the_first_minutes(tmp_path: Path) -> None:
    sync_playwright = _require_browser()
    with hitwatch_run(tmp_path / "data") as run, sync_playwright() as playwright:
        login = re.search(r"log in as (\S+) with password (\S+)", run.wait_for("log in as"))
        assert login
        run.wait_for("first crawl indexed", timeout=240)
        base = run.base
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            reader = browser.new_page(locale="zh-CN")  # a newcomer, no account
            admin = browser.new_page(locale="zh-CN")  # reads the demo's mail
            log_in(admin, base, login[1], login[2])

            # Subscribe to the digest and confirm from the mail.
            reader.goto(f"{base}/digests")
            reader.locator("a", has_text="邮件订阅").first.click()
            reader.locator("input[name=email]").fill(READER)
            reader.locator("button", has_text="订阅").click()
            reader.wait_for_load_state()
            assert "确认邮件已发出" in reader.content()
            mail = _open_newest_mail(admin, base, "确认")
            reader.goto(_link_in(mail, "/digests/confirm/"))
            assert reader.locator("h1").inner_text() == "订阅成功"

            # Search, set an alert on the search, confirm it from the mail.
            reader.goto(f"{base}/search?q=电子病历")
            reader.locator("a", has_text="为此搜索设置提醒").click()
            reader.locator("input[name=email]").fill(READER)
            reader.locator("button", has_text="设置提醒").click()
            reader.wait_for_load_state()
            assert "确认邮件已发出" in reader.content()
            mail = _open_newest_mail(admin, base, "请确认搜索提醒")
            reader.goto(_link_in(mail, "/alerts/confirm/"))
            assert reader.locator("h1").inner_text() == "提醒已启用"

            # News appears on the demo mirror; the next crawl brings the alert.
            texts = [arg for text in NEWS_TEXT for arg in ("--text", text)]
            published = subprocess.run(
                [HITWATCH, "mirror", "publish", NEWS_TITLE, *texts],
                env=run.env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            assert "published https://www.bjnews.com.cn/detail/" in published.stdout
            redis_url = f"redis://127.0.0.1:{run.ports['EMBEDDED_REDIS_PORT']}/0"
            subprocess.run(
                [HITWATCH, "crawl", "--demo", "--once", "--source", "bjnews"],
                env=dict(run.env, REDIS_URL=redis_url),
                capture_output=True, text=True, check=True, timeout=180,
            )  # fmt: skip
            mail = _open_newest_mail(admin, base, NEWS_TITLE[:8], timeout=120)
            assert NEWS_TITLE in mail and "/items/" in mail
            admin.screenshot(
                path=str(SCREENSHOTS / "hitwatch-quick-start-alert.png"), full_page=True
            )
        finally:
            browser.close()
