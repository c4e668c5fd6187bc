"""Digest speed and memory: build a draft of N stories, then render every format (PDF too).

Runs on its own SQLite store in a temporary folder, filled with synthetic stories of a
realistic size (a title, an outlet, ~1,500 characters in 6 paragraphs).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import click

from hitwatch.digest.build import Digest, select_items
from hitwatch.digest.delivery import deliver_issue, open_transport, subscriber_links
from hitwatch.digest.pdf import PdfUnavailableError, render_pdf
from hitwatch.digest.render import (
    check_invariants,
    render_email_html,
    render_html,
    render_markdown,
    render_text,
)
from hitwatch.digest.workflow import build_draft, issue_digest, publish_issue
from hitwatch.settings import Settings, load_settings
from hitwatch.store import Database, open_database
from hitwatch.store.models import Article, DigestSubscriber, Story

__all__ = ["bench_command", "run_delivery_bench", "run_digest_bench"]

START, END = date(2024, 7, 1), date(2024, 7, 31)
PDF_ITEMS = 200
PARAGRAPH = (
    "健康医疗大数据正在辅助基层医生更快读片，数据安全和个人信息保护是应用必须守住的底线。" * 3
)


def _fill(session: Any, stories: int) -> None:
    first = datetime(2024, 6, 30, 17, tzinfo=UTC)  # 2024-07-01 01:00 in Shanghai
    step = timedelta(days=30) / max(stories, 1)
    # No ORM relationship orders the inserts, so stories go first (articles reference them).
    for number in range(stories):
        story_id, doc_id = f"s{number}", f"d{number}"
        moment = first + step * number
        session.add(
            Story(
                id=story_id,
                canonical_doc_id=doc_id,
                title=f"第{number}条卫生信息化新闻",
                source_name="新京报",
                published_at=moment,
            )
        )
    session.flush()
    for number in range(stories):
        story_id, doc_id = f"s{number}", f"d{number}"
        moment = first + step * number
        session.add(
            Article(
                id=doc_id,
                story_id=story_id,
                url=f"https://www.bjnews.com.cn/detail/{number}.html",
                canonical_url=f"https://www.bjnews.com.cn/detail/{number}.html",
                source_id="bjnews",
                source_name="新京报",
                title=f"第{number}条卫生信息化新闻",
                published_at=moment,
                body="\n".join(f"{PARAGRAPH}（第{p}段）" for p in range(6)),
                content_hash=doc_id,
                topics=[{"code": "I", "name": "健康医疗大数据与数据要素", "score": 0.9}],
                doc_type="新闻报道",
                fetched_at=moment,
            )
        )


def _timed(results: dict[str, Any], name: str, action: Callable[[], Any]) -> Any:
    began = time.perf_counter()
    value = action()
    results[f"{name}_seconds"] = round(time.perf_counter() - began, 4)
    return value


def _render_pdf(digest: Digest, results: dict[str, Any]) -> None:
    # Layout time grows with pages (~40 ms an item); an issue people print is far smaller
    # than the 5,000-story month, so the PDF covers the first PDF_ITEMS items only.
    digest = replace(digest, items=digest.items[:PDF_ITEMS])
    results["pdf_items"] = len(digest.items)
    try:
        output = _timed(results, "render_pdf", partial(render_pdf, digest))
    except PdfUnavailableError as error:  # the other formats still get measured
        results["render_pdf_seconds"] = f"unavailable ({error})"
        return
    results["pdf_bytes"] = len(output)


def _pass(database: Database, settings: Settings, results: dict[str, Any]) -> None:
    """Select, build a draft, render every format, check and publish (rolled back)."""
    with database.sessions() as session:
        items = _timed(results, "select", lambda: select_items(session, START, END))
        issue = _timed(results, "build_draft", lambda: build_draft(session, settings, START, END))
        digest = _timed(results, "load_digest", lambda: issue_digest(session, issue, settings))
        renderers: tuple[tuple[str, Callable[[Digest], str]], ...] = (
            ("text", render_text),
            ("markdown", render_markdown),
            ("html", render_html),
            ("email_html", render_email_html),
        )
        for name, render in renderers:
            output = _timed(results, f"render_{name}", partial(render, digest))
            results[f"{name}_chars"] = len(output)
        _render_pdf(digest, results)
        text = render_text(digest)
        problems = _timed(results, "check_invariants", lambda: check_invariants(text))
        _timed(results, "publish", lambda: publish_issue(session, issue, settings))
        session.rollback()
    results["items"] = len(items)
    results["problems"] = len(problems)


def run_digest_bench(stories: int = 5000) -> dict[str, Any]:
    """Seconds for select, draft build, each format, the invariant check and publish;
    output sizes in characters; peak traced memory (MiB) of the whole pass.

    Times come from a pass without tracing (tracemalloc slows Python down a lot); a
    second, traced pass of the same work gives the memory figure.
    """
    results: dict[str, Any] = {"stories": stories}
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(data_dir=Path(folder))
        database = open_database(settings.resolved_database_url)
        try:
            database.migrate()
            with database.session() as session:
                _fill(session, stories)
            _pass(database, settings, results)
            tracemalloc.start()
            try:
                _pass(database, settings, {})
                results["peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
            finally:
                tracemalloc.stop()
        finally:
            database.dispose()
    return results


class _CountingInbox:
    """aiosmtpd handler that only counts what it receives."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received += 1
        return "250 OK"


def run_delivery_bench(subscribers: int = 10_000, stories: int = 20) -> dict[str, Any]:
    """Messages per second delivering one published issue of `stories` items to
    `subscribers` confirmed subscribers through a local SMTP server (aiosmtpd)."""
    import socket

    from aiosmtpd.controller import Controller

    inbox = _CountingInbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings(data_dir=Path(folder), smtp_host="127.0.0.1", smtp_port=port)
            database = open_database(settings.resolved_database_url)
            try:
                database.migrate()
                with database.session() as session:
                    _fill(session, stories)
                    issue = build_draft(session, settings, START, END)
                    publish_issue(session, issue, settings)
                    issue_id = issue.id
                    session.add_all(
                        DigestSubscriber(email=f"reader{n}@example.org", status="active")
                        for n in range(subscribers)
                    )
                began = time.perf_counter()
                report = deliver_issue(
                    database,
                    settings,
                    open_transport(settings),
                    issue_id,
                    links=subscriber_links("http://127.0.0.1:8000"),
                )
                seconds = time.perf_counter() - began
            finally:
                database.dispose()
    finally:
        controller.stop()
    return {
        "subscribers": subscribers,
        "sent": report.sent,
        "received_by_smtp": inbox.received,
        "failed": len(report.failed),
        "seconds": round(seconds, 2),
        "messages_per_second": round(report.sent / seconds, 1) if seconds else 0.0,
    }


@click.command("digest")
@click.option("--stories", default=5000, show_default=True, help="Synthetic stories in the month.")
@click.option(
    "--subscribers",
    default=10_000,
    show_default=True,
    help="Subscribers an issue is mailed to through a local SMTP server (0: skip).",
)
def bench_command(stories: int, subscribers: int) -> None:
    """Digest build, rendering and peak memory for a month of N stories; then delivery
    speed to M subscribers through a local SMTP server."""
    for key, value in run_digest_bench(stories).items():
        click.echo(f"{key:<28} {value}")
    if subscribers:
        click.echo(f"delivering one issue to {subscribers} subscribers ...")
        for key, value in run_delivery_bench(subscribers).items():
            click.echo(f"{key:<28} {value}")
