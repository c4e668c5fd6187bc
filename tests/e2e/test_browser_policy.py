"""Following a policy in a real browser, on a fresh `hitwatch run` over the demo mirror:
the 政策跟踪 page leads to the national opinion, whose page shows its 解读, the three
provinces' implementations and the two news reports, each with the reason of its link,
its targets, and its status; the upcoming deadlines are listed."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.launch import hitwatch_run
from tests.e2e.test_browser_search import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, _require_browser

POLICY = "国务院办公厅关于进一步推进全民健康信息平台建设的指导意见"


def test_a_policy_page_shows_its_interpretation_implementations_and_news(tmp_path: Path) -> None:
    sync_playwright = _require_browser()
    with hitwatch_run(tmp_path / "data") as run, sync_playwright() as playwright:
        run.wait_for("first crawl indexed", timeout=300)
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1200}, locale="zh-CN")
            errors: list[str] = []
            page.on("console", lambda message: errors.append(message.text))
            page.goto(f"{run.base}/")
            page.locator("nav a", has_text="政策跟踪").click()
            page.wait_for_load_state()
            deadlines = page.locator("#deadlines").inner_text()
            assert "二级以上公立医院接入省统筹区域全民健康信息平台的比例" in deadlines
            page.locator("a", has_text=POLICY).first.click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text() == POLICY
            assert "现行有效" in page.locator(".facts").inner_text()

            interpretations = page.locator("#interpretations").inner_text()
            assert "《关于进一步推进全民健康信息平台建设的指导意见》解读" in interpretations
            assert "关联依据：标题" in interpretations

            rows = page.locator("#implementations tbody tr")
            assert rows.count() == 3
            table = page.locator("#implementations").inner_text()
            for province, reason in (
                (
                    "广东",
                    "“贯彻落实”《国务院办公厅关于进一步推进全民健康信息平台建设的指导意见》（国办发〔2024〕31号）",
                ),
                ("浙江", "“根据”《关于进一步推进全民健康信息平台建设的指导意见》"),
                ("四川", "“按照”国办发〔2024〕31号"),
            ):
                assert province in table and reason in table, (province, table)
            assert "2024-07-1" in table  # dates of the implementations

            news = page.locator("#news").inner_text()
            assert "检查结果有望跨院互认" in news
            assert "多省明确医院接入全民健康信息平台时间表" in news
            targets = page.locator("#targets").inner_text()
            assert "2027" in targets and "95%以上" in targets
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-policy-page.png"), full_page=True)

            page.locator("#implementations a", has_text="广东省").click()
            page.wait_for_load_state()
            assert POLICY in page.locator("#follows").inner_text()
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            browser.close()
