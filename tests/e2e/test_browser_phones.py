"""Every page at phone (390 px) and tablet (768 px) widths in headless Chromium: nothing
scrolls sideways and no heading breaks inside a date. Screenshots land in /tmp for a
person to look at (`hitwatch-<width>-<page>.png`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from hitwatch.digest.workflow import build_draft, publish_issue
from hitwatch.search import open_search_index
from hitwatch.settings import Settings
from hitwatch.store import Database
from tests.accounts import make_user
from tests.e2e.test_browser_accounts import log_in
from tests.e2e.test_browser_search import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, _require_browser
from tests.factories import SAMPLE, FakeCelery, add_documents
from tests.unit.digest.samples import END, START, store_bulletin
from webapp import create_app

WIDTHS = (390, 768)

# Ranges of each heading's date-like runs that are laid out on more than one line.
BROKEN_HEADINGS = """
() => {
  const broken = [];
  for (const heading of document.querySelectorAll("h1, h2")) {
    const walker = document.createTreeWalker(heading, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/\\d{4}-\\d{2}-\\d{2}|\\d{4}年\\d{1,2}月(\\d{1,2}日)?|第\\d+期/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0] + " in: " + heading.textContent.trim());
      }
    }
  }
  return broken;
}
"""


@pytest.fixture
def site(settings: Settings, database: Database) -> Iterator[tuple[str, int]]:
    settings = settings.model_copy(update={"mail_catcher": True})
    index = open_search_index(settings)
    index.ensure()
    with database.session() as session:
        store_bulletin(session)
        issue = build_draft(session, settings, START, END)
        publish_issue(session, issue, settings)
    add_documents(database, index, SAMPLE)
    with database.session() as session:
        draft = build_draft(session, settings, START, END, "custom")
        draft_id = draft.id
    make_user(database, "admin")
    app = create_app(settings, database=database, search_index=index, celery=FakeCelery())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", draft_id
    server.shutdown()
    thread.join(10)
    index.close()


def _pages(draft_id: int) -> dict[str, str]:
    return {
        "home": "/",
        "search": "/search?q=电子病历",
        "item": f"/items/{SAMPLE[0].doc_id}",
        "digests": "/digests",
        "draft": f"/digests/{draft_id}",
        "publish": f"/digests/{draft_id}/publish",
        "subscribe": "/digests/subscribe",
        "alerts": "/alerts",
        "alert-new": "/alerts/new?q=电子病历",
        "status": "/status",
        "account": "/account",
        "users": "/admin/users",
        "audit": "/admin/audit",
        "failures": "/failures",
        "sources": "/sources",
        "mail": "/mail",
    }


def _check(page: Any, name: str, width: int) -> list[str]:
    problems = []
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        wide = page.evaluate(
            """() => [...document.querySelectorAll("body *")]
                .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 3).map((e) => e.tagName + "." + e.className)"""
        )
        problems.append(f"{name} at {width}px scrolls sideways by {overflow}px: {wide}")
    problems += [f"{name} at {width}px: {b}" for b in page.evaluate(BROKEN_HEADINGS)]
    return problems


def test_every_page_fits_phones_and_tablets(site: tuple[str, int]) -> None:
    base, draft_id = site
    sync_playwright = _require_browser()
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 800}, locale="zh-CN")
                log_in(page, base, "admin@example.org")
                for name, path in _pages(draft_id).items():
                    page.goto(f"{base}{path}")
                    assert page.locator("h1").count() >= 1, f"{name}: {page.content()[:300]}"
                    problems += _check(page, name, width)
                    page.screenshot(
                        path=str(SCREENSHOTS / f"hitwatch-{width}-{name}.png"), full_page=True
                    )
                page.close()
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
