"""An editor and a reader in a real browser, with a real SMTP server (aiosmtpd).

The editor builds the July 2024 draft with the form, drops an item, moves one up, edits a
title, publishes and downloads the PDF; a reader subscribes, confirms through the link in the e-mail, gets
the issue by mail, opens the settings link in it, switches to the weekly digest and
unsubscribes there.

Delivery: the publish button queues `notifier.deliver_digest`; here the task sender runs
the notifier's own task body (`notifier.digests.DigestTasks.deliver`) synchronously on the
payload the web app sent, so the path is the production one minus the broker hop.

Needs Debian's `chromium` at /usr/bin/chromium and the `playwright` package; without them
the test is skipped, except under CI=true.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from werkzeug.serving import make_server

from hitwatch.search import open_search_index
from hitwatch.settings import Settings
from hitwatch.store import Database
from hitwatch.store.models import DigestSubscriber
from hitwatch.tasks import DELIVER_DIGEST
from notifier.digests import DigestTasks
from tests.accounts import make_user
from tests.e2e.test_browser_accounts import log_in
from tests.e2e.test_browser_search import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, _require_browser
from tests.smtp import Inbox, free_port
from tests.unit.digest.samples import BULLETIN_ITEMS, store_bulletin
from webapp import create_app

READER = "reader@example.org"
EDITED_TITLE = "用大数据看病，专家怎么看？"


@dataclass
class RunNow:
    """The task sender: runs `notifier.deliver_digest` at once instead of queueing it."""

    tasks: DigestTasks
    sent: list[str] = field(default_factory=list)

    def send_task(self, name: str, args: Any = None, **options: Any) -> None:
        assert name == DELIVER_DIGEST, name
        self.sent.append(name)
        self.tasks.deliver(*args)


@dataclass
class Site:
    url: str
    inbox: Inbox
    sender: RunNow
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
            "mail_from": "卫生信息化月报 <digest@example.org>",
            "public_base_url": url,
        }
    )
    with database.session() as session:
        store_bulletin(session)
    index = open_search_index(settings)
    index.ensure()
    sender = RunNow(DigestTasks(database, settings))
    app = create_app(settings, database=database, search_index=index, celery=sender)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(url, inbox, sender, database)
    finally:
        server.shutdown()
        thread.join(10)
        index.close()
        smtp.stop()


def _link(message: email.message.EmailMessage, pattern: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(pattern, text)
    assert match, f"no link like {pattern} in:\n{text}"
    return match.group(0)


def test_editor_publishes_and_reader_subscribes_receives_and_unsubscribes(site: Site) -> None:
    sync_playwright = _require_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")

            # The reader subscribes first, so the issue reaches them when it is published.
            page.goto(f"{site.url}/digests/subscribe")
            page.locator("input[name=email]").fill(READER)
            page.locator("button", has_text="订阅").click()
            page.wait_for_url("**/digests")
            assert "确认邮件已发出" in page.content()
            assert len(site.inbox.messages) == 1
            confirmation = site.inbox.messages[0]
            assert confirmation["To"] == READER
            page.goto(_link(confirmation, rf"{re.escape(site.url)}/digests/confirm/\S+"))
            assert page.locator("h1").inner_text() == "订阅成功"

            # The editor logs in, builds July 2024 and edits the draft.
            log_in(page, site.url, make_user(site.database, "editor"))
            page.goto(f"{site.url}/digests")
            page.locator("input[name=month]").fill("2024-07")
            page.locator("button", has_text="生成该月草稿").click()
            page.wait_for_url(re.compile(r".*/digests/\d+$"))
            entries = page.locator("ol.digest-entries > li")
            assert entries.count() == len(BULLETIN_ITEMS)
            first, third = BULLETIN_ITEMS[0].title, BULLETIN_ITEMS[2].title

            entries.filter(has_text=BULLETIN_ITEMS[1].title).locator(
                "button", has_text="删去"
            ).click()
            page.wait_for_load_state()
            assert "已删去" in entries.filter(has_text=BULLETIN_ITEMS[1].title).inner_text()
            entries.filter(has_text=BULLETIN_ITEMS[3].title).locator(
                "button", has_text="上移"
            ).click()
            page.wait_for_load_state()
            order = [
                text.split("（")[0].strip()
                for text in page.locator("ol.digest-entries > li strong").all_inner_texts()
            ]
            assert order.index(BULLETIN_ITEMS[3].title) < order.index(third)
            third_entry = entries.filter(has_text=third)
            third_entry.locator("summary", has_text="修改").click()
            third_entry.locator("input[name=title]").fill(EDITED_TITLE)
            third_entry.locator("button", has_text="保存").click()
            page.wait_for_load_state()
            assert EDITED_TITLE in page.locator("ol.digest-entries").inner_text()
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-digest-draft.png"), full_page=True)

            page.locator("a", has_text="发布本期").click()
            page.wait_for_load_state()
            assert "发送给 1 位订阅者" in page.content()  # asked first, with the count
            page.locator("button", has_text="确认发布").click()
            page.wait_for_load_state()
            assert "已发布：第1期" in page.content()
            assert "已加入发送队列" in page.content()
            assert site.sender.sent == [DELIVER_DIGEST]
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-digest-published.png"), full_page=True)
            with page.expect_download() as download:
                page.locator("a", has_text=".pdf").click()
            pdf = download.value
            assert pdf.suggested_filename.endswith(".pdf")
            assert Path(pdf.path()).read_bytes().startswith(b"%PDF-")

            # The reader's copy: subject, both parts, the edited title, no dropped item.
            assert len(site.inbox.messages) == 2
            issue = site.inbox.messages[1]
            assert issue["To"] == READER
            assert "第1期" in issue["Subject"]
            plain = issue.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            html = issue.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
            for part in (plain, html):
                assert EDITED_TITLE in part and first in part
                assert BULLETIN_ITEMS[1].title not in part and third not in part
            assert plain.index(BULLETIN_ITEMS[3].title) < plain.index(EDITED_TITLE)

            # Every issue links to the reader's settings (its own signed token): switch to
            # the weekly digest, then unsubscribe from the same page.
            _link(issue, rf"{re.escape(site.url)}/digests/unsubscribe/[^\s/]+(?=\s|$)")
            settings_url = _link(issue, rf"{re.escape(site.url)}/digests/preferences/\S+")
            assert f'href="{settings_url}"' in html
            page.goto(settings_url)
            assert page.locator("h1").inner_text() == "订阅设置"
            assert page.locator("input[name=kind][value=monthly]").is_checked()
            page.locator("input[name=kind][value=weekly]").check()
            page.locator("button", has_text="保存设置").click()
            page.wait_for_load_state()
            assert "已保存" in page.content()
            assert page.locator("input[name=kind][value=weekly]").is_checked()
            with site.database.session() as session:
                reader = session.query(DigestSubscriber).filter_by(email=READER).one()
                assert (reader.kind, reader.status) == ("weekly", "active")
            page.screenshot(path=str(SCREENSHOTS / "hitwatch-digest-settings.png"), full_page=True)
            page.locator("button", has_text="退订").click()
            page.wait_for_load_state()
            assert page.locator("h1").inner_text() == "已退订"
        finally:
            browser.close()
    with site.database.session() as session:
        subscriber = session.query(DigestSubscriber).filter_by(email=READER).one()
        assert subscriber.status == "unsubscribed" and subscriber.unsubscribed_at is not None
        assert subscriber.kind == "weekly"
