"""Digest speed and memory: build a draft of N stories, render every format (PDF too), and
mail an issue to M subscribers through a local SMTP server.

Runs on its own SQLite store in a temporary folder, filled with synthetic stories of a
realistic size (a title, an outlet, ~1,500 characters in 6 paragraphs).
"""

from __future__ import annotations

import multiprocessing
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from hitwatch.digest.build import Digest, select_items
from hitwatch.digest.delivery import deliver_issue, subscriber_links
from hitwatch.digest.document import render_docx
from hitwatch.digest.pdf import PdfUnavailableError, render_pdf
from hitwatch.digest.render import (
    check_invariants,
    render_email_html,
    render_html,
    render_markdown,
    render_text,
)
from hitwatch.digest.workflow import build_draft, issue_digest, publish_issue
from hitwatch.mail import open_transport
from hitwatch.settings import Settings, load_settings
from hitwatch.store import open_database
from hitwatch.store.models import Article, DigestIssue, DigestSubscriber, Story

__all__ = ["Step", "bench_command", "measure", "run_delivery_bench", "run_digest_bench"]

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


@dataclass(frozen=True)
class Step:
    """What one step cost: wall and CPU time, and the peak resident memory of the process
    that ran it (a child forked for the step, so each step's peak is its own)."""

    seconds: float
    cpu_ms: float
    peak_mib: float  # VmHWM of the child
    extra_mib: float  # VmHWM minus the child's VmRSS when the step began
    value: Any


def _vm_kib(field_name: str) -> int:
    """VmHWM / VmRSS of this process in KiB (Linux); 0 where /proc is missing."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    return 0


def _child(action: Callable[[], Any], conn: Connection) -> None:
    try:
        start_kib = _vm_kib("VmRSS")
        began, cpu = time.perf_counter(), time.process_time()
        value = action()
        seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
        conn.send(("ok", (seconds, cpu_seconds, start_kib, _vm_kib("VmHWM"), value)))
    except BaseException as error:  # reported to the parent, which raises it
        conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


def measure(action: Callable[[], Any]) -> Step:
    """Run `action` in a forked child and return its times, peak memory and result.

    The child shares the parent's memory (the loaded digest); its resident set starts
    with the pages it inherits, so the step's own cost is `extra_mib`, the peak above
    what was resident when it began."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(action, send), daemon=True)
    child.start()
    send.close()
    try:
        status, payload = receive.recv()
    except EOFError:
        status, payload = "error", "the child process died"
    child.join()
    receive.close()
    if status != "ok":
        raise RuntimeError(f"bench step failed: {payload}")
    seconds, cpu_seconds, start_kib, peak_kib, value = payload
    return Step(
        round(seconds, 4),
        round(cpu_seconds * 1000, 1),
        round(peak_kib / 1024, 1),
        round((peak_kib - start_kib) / 1024, 1),
        value,
    )


def rss_mib() -> float:
    return round(_vm_kib("VmRSS") / 1024, 1)


def _record(results: dict[str, Any], name: str, step: Step) -> Any:
    results[f"{name}_seconds"] = step.seconds
    results[f"{name}_cpu_ms"] = step.cpu_ms
    results[f"{name}_peak_mib"] = step.peak_mib
    results[f"{name}_extra_mib"] = step.extra_mib
    return step.value


def _in_session(database_url: str, work: Callable[[Session], Any], *, commit: bool) -> Any:
    """Run `work` on a fresh connection (a forked child must not reuse the parent's)."""
    database = open_database(database_url)
    try:
        with database.sessions() as session:
            value = work(session)
            if commit:
                session.commit()
            else:
                session.rollback()
            return value
    finally:
        database.dispose()


def _pdf(digest: Digest) -> int | str:
    try:
        return len(render_pdf(digest))
    except PdfUnavailableError as error:  # the other formats still get measured
        return f"unavailable ({error})"


def _pass(database_url: str, settings: Settings, results: dict[str, Any]) -> None:
    """Select, build a draft, render every format, check and publish (rolled back); each
    step in its own forked child so it gets its own time and peak memory."""

    def build(session: Session) -> int:
        return build_draft(session, settings, START, END).id

    def load(session: Session) -> Digest:
        issue = session.get(DigestIssue, issue_id)
        assert issue is not None
        return issue_digest(session, issue, settings)

    items = _record(
        results,
        "select",
        measure(
            lambda: len(
                _in_session(database_url, lambda s: select_items(s, START, END), commit=False)
            )
        ),
    )
    issue_id = _record(
        results, "build_draft", measure(lambda: _in_session(database_url, build, commit=True))
    )
    _record(
        results,
        "load_digest",
        measure(lambda: len(_in_session(database_url, load, commit=False).items)),
    )
    digest = _in_session(database_url, load, commit=False)
    results["rss_with_digest_mib"] = rss_mib()
    renderers: tuple[tuple[str, Callable[[Digest], str | bytes]], ...] = (
        ("text", render_text),
        ("markdown", render_markdown),
        ("html", render_html),
        ("email_html", render_email_html),
        ("docx", render_docx),
    )
    for name, render in renderers:
        size = _record(results, f"render_{name}", measure(lambda r=render: len(r(digest))))  # type: ignore[misc]
        results[f"{name}_size"] = size
    # Layout time grows with pages (~40 ms an item); an issue people print is far smaller
    # than the 5,000-story month, so the PDF covers the first PDF_ITEMS items only.
    capped = replace(digest, items=digest.items[:PDF_ITEMS])
    results["pdf_items"] = len(capped.items)
    results["pdf_size"] = _record(results, "render_pdf", measure(lambda: _pdf(capped)))
    text = render_text(digest)
    problems = _record(results, "check_invariants", measure(lambda: len(check_invariants(text))))

    def publish(session: Session) -> int:
        issue = session.get(DigestIssue, issue_id)
        assert issue is not None
        return publish_issue(session, issue, settings).number or 0

    _record(results, "publish", measure(lambda: _in_session(database_url, publish, commit=False)))
    results["items"] = items
    results["problems"] = problems


def run_digest_bench(stories: int = 5000) -> dict[str, Any]:
    """For select, draft build, loading, each format (PDF on the first PDF_ITEMS items),
    the invariant check and publish: wall seconds, CPU ms, the peak resident memory
    (MiB, VmHWM) of the child process that ran the step and how far it rose during the
    step; output sizes (characters for text formats, bytes for DOCX and PDF)."""
    results: dict[str, Any] = {"stories": stories}
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(data_dir=Path(folder))
        url = settings.resolved_database_url
        database = open_database(url)
        try:
            database.migrate()
            with database.session() as session:
                _fill(session, stories)
        finally:
            database.dispose()
        results["rss_before_mib"] = rss_mib()
        _pass(url, settings, results)
    return results


def _serve_smtp(
    port: int, received: Synchronized[int], cpu: Synchronized[float], ready: Event, stop: Event
) -> None:
    """A local SMTP server (aiosmtpd) in its own process, counting what it accepts."""
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    began = time.process_time()
    ready.set()
    stop.wait()
    cpu.value = time.process_time() - began
    controller.stop()


def _send(settings: Settings, issue_id: int) -> dict[str, Any]:
    database = open_database(settings.resolved_database_url)
    transport = open_transport(settings)
    try:
        report = deliver_issue(
            database,
            settings,
            transport,
            issue_id,
            links=subscriber_links("http://127.0.0.1:8000"),
        )
    finally:
        database.dispose()
    return {
        "sent": report.sent,
        "failed": len(report.failed),
        "renders": getattr(report, "renders", "n/a"),
        "smtp_connections": getattr(transport, "connections", "n/a"),
    }


def run_delivery_bench(subscribers: int = 10_000, stories: int = 20) -> dict[str, Any]:
    """Delivering one published issue of `stories` items to `subscribers` confirmed
    subscribers through a local SMTP server (aiosmtpd, in its own process): messages per
    second (wall), CPU ms per message and peak resident memory of the sending process."""
    context = multiprocessing.get_context("fork")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    received, server_cpu = context.Value("i", 0), context.Value("d", 0.0)
    ready, stop = context.Event(), context.Event()
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
        finally:
            database.dispose()
        server = context.Process(
            target=_serve_smtp, args=(port, received, server_cpu, ready, stop), daemon=True
        )
        server.start()
        try:
            if not ready.wait(30):
                raise RuntimeError("the local SMTP server did not start")
            step = measure(lambda: _send(settings, issue_id))
        finally:
            stop.set()
            server.join(10)
    sent = step.value["sent"]
    return {
        "subscribers": subscribers,
        **step.value,
        "received_by_smtp": received.value,
        "seconds": step.seconds,
        "messages_per_second": round(sent / step.seconds, 1) if step.seconds else 0.0,
        "cpu_ms_per_message": round(step.cpu_ms / sent, 2) if sent else 0.0,
        "sender_peak_mib": step.peak_mib,
        "sender_extra_mib": step.extra_mib,
        # The local server is Python too: when it needs more CPU per message than the
        # sender, it is what limits messages per second here.
        "smtp_server_cpu_ms_per_message": round(server_cpu.value * 1000 / sent, 2) if sent else 0.0,
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
        click.echo(f"{key:<32} {value}")
    if subscribers:
        click.echo(f"delivering one issue to {subscribers} subscribers ...")
        for key, value in run_delivery_bench(subscribers).items():
            click.echo(f"{key:<32} {value}")
