"""A reader in a real browser: home page, a Chinese query, a facet, highlighted results, an item.

Needs Debian's `chromium` at /usr/bin/chromium and the `playwright` package (whose own
browser download is not used). Without them the test is skipped, except under CI=true.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from hitwatch.search import open_search_index
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.topics import topic_names
from tests.conftest import IN_CI
from tests.factories import LLM, SAMPLE, add_documents, filler
from webapp import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path("/tmp")  # looked at by a person after the run


def _require_browser() -> Any:
    reason = ""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: install the Debian package `chromium`"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = reason or "the playwright package is missing: uv sync --extra dev"
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture
def base_url(settings: Settings, database: Database) -> Iterator[str]:
    """The app on the production wiring (SQLite store, default search index), on a free port."""
    index = open_search_index(settings)
    index.ensure()
    add_documents(database, index, [*SAMPLE, *filler(25)])
    app = create_app(settings, database=database, search_index=index)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    index.close()


def test_search_and_open_a_result(base_url: str) -> None:
    sync_playwright = _require_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(f"{base_url}/")
            assert page.locator("h1").first.inner_text() == "最新信息"
            assert page.locator("nav.pager").inner_text().count("第 1 页，共 2 页") == 1
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-home.png"), full_page=True)

            page.locator(".big-search input[name=q]").fill("大模型")
            page.locator(".big-search button").click()
            page.wait_for_url("**/search?q=*")
            assert page.locator("ol.results > li").count() >= 2
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-search.png"), full_page=True)

            # Narrow by a facet: the topic, shown by its taxonomy name, adds topic:A.
            topic = topic_names()[LLM.topics[0]["code"]]
            facets = page.locator("nav.facets")
            facets.get_by_role("link", name=topic, exact=True).click()
            page.wait_for_url("**/search?q=*topic*")
            assert page.locator("input[name=q]").input_value() == "大模型 topic:A"
            assert facets.locator(".facet-active").inner_text().startswith(topic)
            assert page.locator("ol.results > li").count() == 1
            marks = page.locator("ol.results mark")
            assert marks.count() >= 2
            assert set(marks.all_inner_texts()) == {"大模型"}
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-search-facet.png"), full_page=True)

            page.locator("ol.results h2 a", has_text="腾讯健康").click()
            page.wait_for_url(f"**/items/{LLM.doc_id}")
            assert page.locator("h1").inner_text() == LLM.title
            facts = page.locator("dl.facts").first.inner_text()
            assert "新京报" in facts and "2024-07-03 10:30" in facts
            assert page.locator("section.body p").count() == 3
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-item.png"), full_page=True)
        finally:
            browser.close()
