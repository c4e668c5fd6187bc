"""Script payloads in crawled pages run nowhere: real crawler, real workers, real Chromium.

A local site serves two articles whose title, 来源 line, body, attachment name, attachment
text and links carry script payloads (as text, the way a hostile or hacked site would
print them). `hitwatch crawl --live --url` fetches them (FETCH_ALLOW_PRIVATE: the site is
on 127.0.0.1), real `classify` and `index` workers store and index them, and the July
issue is built and published through the digest workflow. Then Chromium opens the item
pages, the search results, the digest page and archive, the digest's HTML e-mail (as a
file: no CSP there) and both Atom feeds (as files), and finds that no payload ran, that
no payload became an element, and that the payloads read as plain text.
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.request import urlopen
from xml.etree import ElementTree

import docx
import pytest
from flask import Flask, Response
from sqlalchemy import select
from werkzeug.serving import make_server

from crawler.mirror.serve import serve_in_thread
from hitwatch.digest.delivery import subscriber_links
from hitwatch.digest.mail import digest_parts
from hitwatch.digest.workflow import (
    build_draft,
    edit_entry,
    issue_digest,
    issue_entries,
    publish_issue,
)
from hitwatch.search import SearchRequest, open_search_index
from hitwatch.settings import Settings
from hitwatch.store import Article, Database
from tests.e2e.test_browser_search import CHROMIUM, CHROMIUM_ARGS, _require_browser
from tests.integration.support import wait_for
from tests.smtp import free_port
from webapp import create_app

HITWATCH = str(Path(sys.executable).with_name("hitwatch"))

# What each payload is as text, once extracted; each sets a global of its own if it runs.
TITLE = "电子病历评级新规<img src=x onerror=top.__xt=1>"
TITLE_BREAKOUT = "互联网医院\"'><svg/onload=top.__xa=1>监管办法"
ORIGIN = "<svg/onload=top.__xo=1>"
BODY_SCRIPT = "<script>top.__xb=1</script>"
BODY_IMAGE = '<img src=x onerror="top.__xi=1;alert(1)">'
ATTACHMENT_NAME = "<img src=x onerror=top.__xn=1>评价标准.docx"
ATTACHMENT_TEXT = "<script>top.__xd=1</script>附件正文"
JAVASCRIPT_LINKS = ("JavaScript:top.__xl=1//rules.pdf", " java&#9;script:top.__xl2=1//x.pdf")
SHOWN = (TITLE, TITLE_BREAKOUT, ORIGIN, BODY_SCRIPT, BODY_IMAGE, ATTACHMENT_NAME)

# Two different texts, or dedupe would make the two pages one story.
BODIES = (
    (
        "国家卫生健康委发布电子病历系统应用水平分级评价标准，要求各地医疗机构推进电子病历建设和"
        "医院信息化，提升智慧医院水平。",
        "通知要求，三级医院电子病历应用水平要达到4级以上，与区域全民健康信息平台互联互通。",
    ),
    (
        "国家卫生健康委、国家中医药局印发互联网医院监管办法，要求省级卫生健康主管部门建立"
        "互联网医院监管平台，电子病历和处方数据实时上传。",
        "办法明确，互联网诊疗应当留痕可追溯，医保部门同步推进线上医保结算和远程医疗服务收费管理。",
    ),
)


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _article(title: str, body: tuple[str, str], extra: str) -> str:
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{_escape(title)}_新京报</title>
<meta name="publishdate" content="2024-07-10 09:00:00"></head>
<body><div class="bodyTitle"><h1>{_escape(title)}</h1>
<div class="info">来源：{_escape(ORIGIN)} 2024-07-10 09:00</div></div>
<div id="contentStr">
<p>{body[0]}{_escape(BODY_SCRIPT)}</p>
<p>{body[1]}{_escape(BODY_IMAGE)}</p>
{extra}
</div></body></html>"""


def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph(ATTACHMENT_TEXT)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture
def hostile_site() -> Iterator[str]:
    app = Flask("hostile-site")
    links = "".join(f'<a href="{href}">解读全文.pdf</a>' for href in JAVASCRIPT_LINKS)
    pages = {
        "/news/1.html": _article(
            TITLE,
            BODIES[0],
            f'<p>附件：<a href="/files/rules.docx">{_escape(ATTACHMENT_NAME)}</a></p><p>详见{links}。</p>',
        ),
        "/news/2.html": _article(TITLE_BREAKOUT, BODIES[1], ""),
    }

    @app.get("/news/<int:number>.html")
    def page(number: int) -> Response:
        return Response(pages[f"/news/{number}.html"], mimetype="text/html")

    @app.get("/files/rules.docx")
    def attachment() -> Response:
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        return Response(_docx(), mimetype=mimetype)

    with serve_in_thread(app) as base:
        yield base


@pytest.fixture
def crawled(
    settings: Settings, database: Database, isolated_redis_url: str, workers: Any, hostile_site: str
) -> list[Article]:
    env = {
        "HITWATCH_DATA_DIR": str(settings.data_dir),
        "REDIS_URL": isolated_redis_url,
        "DATABASE_URL": "",
        "ELASTICSEARCH_URL": "",
        "LOG_LEVEL": "WARNING",
        "TASK_MAX_RETRIES": "1",
        "TASK_RETRY_BACKOFF_MAX": "1",
    }
    group = workers(env)
    for queue in ("classify", "index"):
        group.start(queue)
    done = subprocess.run(
        [HITWATCH, "crawl", "--live", "--source", "bjnews"]
        + [f"--url={hostile_site}/news/{n}.html" for n in (1, 2)],
        env={**env, "PATH": str(Path(sys.executable).parent), "FETCH_ALLOW_PRIVATE": "true"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 items sent to classify" in done.stdout, done.stdout

    def articles() -> list[Article]:
        with database.session() as session:
            return list(session.scalars(select(Article).order_by(Article.url)))

    wait_for(lambda: len(articles()) == 2, 120, "2 stored articles", group.logs)
    index = open_search_index(settings)

    def searchable() -> bool:
        index.refresh()
        return index.count(SearchRequest(text="电子病历")) == 2

    wait_for(searchable, 60, "2 searchable documents", group.logs)
    index.close()
    return articles()


def test_payloads_in_crawled_pages_run_nowhere(
    settings: Settings, database: Database, crawled: list[Article], tmp_path: Path
) -> None:
    first, second = crawled
    # The pipeline kept every payload as text: nothing was lost, nothing was "cleaned".
    assert first.title == TITLE and second.title == TITLE_BREAKOUT
    assert first.origin_name == ORIGIN
    assert BODY_SCRIPT in first.body and BODY_IMAGE in first.body
    [attachment] = first.attachments
    assert attachment["title"] == ATTACHMENT_NAME and ATTACHMENT_TEXT in attachment["text"]
    assert all(first.relevant for first in crawled)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"public_base_url": base})
    with database.session() as session:
        # The July draft keeps every payload: the editor's page shows them as they came.
        draft_id = build_draft(session, settings, date(2024, 7, 1), date(2024, 7, 31)).id
        # Publishing refuses bodies that look like HTML (the bulletin's invariants), so
        # the editor cleans the bodies of the week's issue; titles keep their payloads.
        issue = build_draft(session, settings, date(2024, 7, 8), date(2024, 7, 14), "weekly")
        for entry, article in issue_entries(session, issue):
            assert article is not None
            body = article.body
            for payload in (BODY_SCRIPT, BODY_IMAGE, ATTACHMENT_NAME):
                body = body.replace(payload, "")
            edit_entry(session, issue, entry.id, body=body)
        publish_issue(session, issue, settings)
        issue_id = issue.id
        links = subscriber_links(base)(issue, "unsubscribe-token", "preferences-token")
        email_html = digest_parts(issue_digest(session, issue, settings), links).html

    index = open_search_index(settings)
    app = create_app(settings, database=database, search_index=index)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        files = {
            "digest e-mail": tmp_path / "digest-email.html",
            "search feed": tmp_path / "search.xml",
            "digest feed": tmp_path / "digests.xml",
        }
        files["digest e-mail"].write_text(email_html, "utf-8")
        for name, path in (
            ("search feed", "/search.atom?q=电子病历"),
            ("digest feed", "/digests.atom"),
        ):
            with urlopen(
                base + path.replace("电子病历", "%E7%94%B5%E5%AD%90%E7%97%85%E5%8E%86")
            ) as r:
                feed = r.read()
            # Well-formed (nothing broke out of the XML), and the payload is text: as is in
            # an entry's title, HTML-escaped inside an entry's HTML content.
            text = "".join(ElementTree.fromstring(feed).itertext())
            assert (TITLE if name == "search feed" else _escape(TITLE)) in text, name
            files[name].write_bytes(feed)
        pages = {
            "item 1": f"{base}/items/{first.id}",
            "item 2": f"{base}/items/{second.id}",
            "latest": f"{base}/",
            "search": f"{base}/search?q=电子病历",
            "digest draft": f"{base}/digests/{draft_id}",
            "digest": f"{base}/digests/{issue_id}",
            "digest archive": f"{base}/digests",
            **{name: path.as_uri() for name, path in files.items()},
        }
        seen = _open_all(pages)
    finally:
        server.shutdown()
        thread.join(5)
        index.close()

    blocked = {name: len(found["csp"]) for name, found in seen.items() if found["csp"]}
    assert blocked == {}, f"the Content-Security-Policy blocked something on {blocked}"
    for name, found in seen.items():
        assert found["ran"] == [], f"{name}: payloads ran: {found['ran']}"
        assert found["dialogs"] == [], f"{name}: {found['dialogs']}"
        assert found["title"] != "XSS", name
        assert found["elements"] == 0, f"{name}: a payload became an element"
    for name in ("item 1", "digest draft"):
        text = seen[name]["text"]
        assert TITLE in text and BODY_SCRIPT in text and BODY_IMAGE in text, name
    for name in ("digest", "digest e-mail"):
        assert TITLE in seen[name]["text"] and TITLE_BREAKOUT in seen[name]["text"], name
    assert _escape(TITLE) in seen["digest feed"]["text"]
    assert ORIGIN in seen["item 1"]["text"] and ATTACHMENT_NAME in seen["item 1"]["text"]
    assert TITLE_BREAKOUT in seen["item 2"]["text"] and TITLE_BREAKOUT in seen["search"]["text"]
    assert TITLE in seen["search"]["text"] and TITLE in seen["search feed"]["text"]
    assert seen["item 1"]["hrefs"] and not any(
        "script:" in href.lower() for found in seen.values() for href in found["hrefs"]
    )


PROBE = """() => ({
  ran: Object.keys(window).filter((key) => key.startsWith("__x")),
  title: document.title,
  elements: document.querySelectorAll(
    'img[src="x"], svg, script:not([src]), [onerror], [onload], iframe, object, embed'
  ).length,
  hrefs: Array.from(document.querySelectorAll("a[href]"), (a) => a.getAttribute("href")),
  text: (document.body || document.documentElement).innerText
    || document.documentElement.textContent,
})"""


def _open_all(pages: dict[str, str]) -> dict[str, dict[str, Any]]:
    sync_playwright = _require_browser()
    seen: dict[str, dict[str, Any]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for name, url in pages.items():
                page = browser.new_page()
                dialogs: list[str] = []
                csp: list[str] = []
                page.on(
                    "dialog", lambda d, dialogs=dialogs: (dialogs.append(d.message), d.dismiss())
                )
                page.on(
                    "console",
                    lambda m, csp=csp: (
                        csp.append(m.text) if "Content Security Policy" in m.text else None
                    ),
                )
                page.goto(url, wait_until="load")
                page.wait_for_timeout(300)  # let an image's onerror fire, if any
                found = page.evaluate(PROBE)
                found.update(dialogs=dialogs, csp=csp)
                seen[name] = found
                page.close()
        finally:
            browser.close()
    return seen
