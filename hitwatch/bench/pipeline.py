"""`hitwatch bench pipeline`: generated pages through the real queues and worker processes.

The classify, index and notify workers start first, on empty queues; once each waits on
its queue (their start-up is excluded) the pages are queued and the clock runs until every
document is stored (or recorded as failed). CPU time per document is the workers' own
(utime + stime of their process groups) and the Redis server's, over the same span. Peak
memory is the sum of the workers' peak resident sizes (VmHWM). Then, at light load, pages
matching an alert rule are sent one at a time and the time from "indexed" (the article's
`indexed_at`) to "alert mail handed to SMTP" (a local SMTP server's receipt) is measured.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select

from classifier.extraction.evaluation import bench_pages
from classifier.extraction.samples import BenchPage, real_page, synthetic_page
from hitwatch.alerts.rules import add_rule
from hitwatch.batches import BATCH_SIZES_KEY
from hitwatch.bench.inbox import Inbox
from hitwatch.broker import create_celery, send_message, send_messages
from hitwatch.messages import CrawledItem, stable_id
from hitwatch.search import SearchRequest, open_search_index
from hitwatch.settings import Settings, load_settings
from hitwatch.sources import find_source
from hitwatch.store import Article, Database, Failure, open_database
from hitwatch.tasks import CLASSIFY_ITEM

__all__ = ["PAGES", "PipelineResult", "bench_settings", "run_pipeline_bench"]

STAGES = ("classify", "index", "notify")
PAGES: dict[str, Callable[[int, random.Random], BenchPage]] = {
    "synthetic": synthetic_page,
    "real": real_page,
}
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_ALERT_WORD = "基准提醒"  # in the light-load pages' titles only, so one rule matches them


@dataclass(frozen=True)
class PipelineResult:
    backend: str
    pages: str
    documents: int
    seconds: float
    failures: int
    peak_rss_mb: float
    cpu_ms: dict[str, float]  # per document: each stage's workers, and "redis"
    batches: dict[str, tuple[int, float, int]]  # stage -> (batches, mean size, largest)
    extraction_ms: float  # CPU per page of extraction alone, in this process
    alert_latency: list[float] = field(default_factory=list)  # seconds, light load

    @property
    def per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0

    @property
    def extraction_share(self) -> float:
        classify = self.cpu_ms.get("classify", 0.0)
        return self.extraction_ms / classify if classify else 0.0

    def alert_p(self, quantile: float) -> float | None:
        if not self.alert_latency:
            return None
        ordered = sorted(self.alert_latency)
        return ordered[min(len(ordered) - 1, round(quantile * (len(ordered) - 1)))]


def _group_processes(group_ids: set[int]) -> list[Path]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) in group_ids:
                found.append(entry)
        except (OSError, ProcessLookupError):
            continue
    return found


def _peak_rss_kb(group_ids: set[int]) -> int:
    total = 0
    for entry in _group_processes(group_ids):
        try:
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total


def _cpu_seconds(process_ids: list[int]) -> float:
    """utime + stime of the processes, with their reaped children's."""
    total = 0
    for pid in process_ids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])
    return total / _CLOCK_TICKS


def _group_cpu(group_id: int) -> float:
    return _cpu_seconds([int(entry.name) for entry in _group_processes({group_id})])


def _count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _crawled(page: BenchPage, now: datetime) -> CrawledItem:
    url, source_id, content_type, raw = page
    return CrawledItem(
        item_id=stable_id(url),
        url=url,
        final_url=url,
        source_id=source_id or "bench",
        fetched_at=now,
        content_type=content_type,
        body_z64=CrawledItem.pack_body(raw),
    )


def _wait_for_consumers(client: redis.Redis, count: int, processes: list[Any]) -> None:
    """Until `count` workers wait on their queues (BLMOVE): their start-up is over."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        clients = client.client_list()
        if sum(1 for c in clients if c.get("cmd") in ("blmove", "brpop")) >= count:
            return
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a worker exited during start-up")
        time.sleep(0.1)
    raise RuntimeError("the workers did not start within 120 s")


def run_pipeline_bench(  # type: ignore[no-untyped-def]
    settings: Settings,
    documents: int,
    *,
    pages: str = "synthetic",
    redis_pid: int | None = None,
    alerts: int = 20,
    echo=print,
) -> PipelineResult:
    """Push `documents` generated pages through a fresh store and index; needs Redis."""
    from aiosmtpd.controller import Controller

    backend = "elasticsearch" if settings.elasticsearch_url else "fts5"
    database = open_database(settings.resolved_database_url)
    database.migrate()
    index = open_search_index(settings)
    index.ensure()
    make_page = PAGES[pages]
    rng = random.Random(7)
    generated = [make_page(n, rng) for n in range(documents)]

    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = int(probe.getsockname()[1])
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    env = {
        **os.environ,
        "REDIS_URL": settings.resolved_redis_url,
        "DATABASE_URL": settings.resolved_database_url,
        "ELASTICSEARCH_URL": settings.elasticsearch_url,
        "ELASTICSEARCH_INDEX": settings.elasticsearch_index,
        "HITWATCH_DATA_DIR": str(settings.data_dir),
        "SECRET_KEY": secrets.token_hex(32),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_STARTTLS": "false",
        "MAIL_CATCHER": "false",
        "LOG_LEVEL": "WARNING",
    }
    hitwatch = str(Path(sys.executable).with_name("hitwatch"))
    processes = {
        stage: subprocess.Popen(
            [hitwatch, "worker", stage, "--concurrency", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for stage in STAGES
    }
    groups = {p.pid for p in processes.values()}
    client = redis.Redis.from_url(settings.resolved_redis_url)
    try:
        echo(f"[{backend}, {pages} pages] starting classify, index and notify workers")
        _wait_for_consumers(client, len(STAGES), list(processes.values()))
        cpu_before = {stage: _group_cpu(p.pid) for stage, p in processes.items()}
        redis_before = _cpu_seconds([redis_pid]) if redis_pid else 0.0
        app = create_celery(settings, "bench")
        now = datetime.now(UTC)
        crawled = [_crawled(page, now) for page in generated]  # the crawler's work
        started = time.monotonic()
        # Queued as a bulk producer (a backfill, a replay) does: a pipeline per hundred.
        for start in range(0, len(crawled), 100):
            if any(send_messages(app, CLASSIFY_ITEM, crawled[start : start + 100])):
                raise RuntimeError("pages not queued: is Redis up?")
        echo(f"  {documents} pages queued in {time.monotonic() - started:.1f} s")
        last_echo = time.monotonic()
        while True:
            done = _count(database, Article)
            failed = _count(database, Failure)
            if done + failed >= documents:
                break
            if time.monotonic() - last_echo > 5:
                echo(f"  {done}/{documents} indexed, {failed} failed")
                last_echo = time.monotonic()
            if any(p.poll() is not None for p in processes.values()):
                raise RuntimeError("a worker exited during the benchmark")
            time.sleep(0.1)
        seconds = time.monotonic() - started
        # The notify stage finishes after the last document is stored.
        drained = time.monotonic() + 30
        while client.llen("notify") and time.monotonic() < drained:
            time.sleep(0.1)
        cpu_ms = {
            stage: (_group_cpu(p.pid) - cpu_before[stage]) * 1000 / documents
            for stage, p in processes.items()
        }
        if redis_pid:
            cpu_ms["redis"] = (_cpu_seconds([redis_pid]) - redis_before) * 1000 / documents
        # A high-water mark: read once, it costs the workers no CPU while they run.
        peak = _peak_rss_kb(groups)
        batches = {}
        for stage in STAGES:
            sizes = {
                int(size): int(count)
                for size, count in client.hgetall(BATCH_SIZES_KEY.format(queue=stage)).items()
            }
            total = sum(sizes.values())
            items = sum(size * count for size, count in sizes.items())
            batches[stage] = (total, items / total if total else 0.0, max(sizes, default=0))
        latencies = _alert_latencies(settings, app, alerts, inbox, processes, echo)
    finally:
        for process in processes.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            process.wait(30)
        smtp.stop()
    index.refresh()
    searchable = index.count(SearchRequest())
    if settings.elasticsearch_url:
        index.drop()
    index.close()
    database.dispose()
    echo(f"  {searchable} documents searchable")
    sample = [(url, ctype, raw) for url, _, ctype, raw in generated[:200]]
    extraction = bench_pages(sample, find_source, rounds=1)
    return PipelineResult(
        backend=backend,
        pages=pages,
        documents=done,
        seconds=seconds,
        failures=failed,
        peak_rss_mb=peak / 1024,
        cpu_ms=cpu_ms,
        batches=batches,
        extraction_ms=float(extraction["ms_per_page"]),  # type: ignore[arg-type]
        alert_latency=latencies,
    )


def _alert_latencies(  # type: ignore[no-untyped-def]
    settings: Settings, app: Any, count: int, inbox: Inbox, processes: dict[str, Any], echo
) -> list[float]:
    """Seconds from "indexed" to "alert mail handed to SMTP", one page in flight at a time."""
    if count <= 0:
        return []
    database = open_database(settings.resolved_database_url)
    add_rule(database, "bench@example.org", _ALERT_WORD)
    rng = random.Random(11)
    latencies: list[float] = []
    try:
        for n in range(count):
            url, source_id, content_type, raw = synthetic_page(10_000_000 + n, rng)
            marker = f"{_ALERT_WORD}{n}号"
            raw = raw.decode("utf-8").replace("（", f"{marker}（", 2).encode("utf-8")
            inbox.arrived.clear()
            before = len(inbox.received_at)
            send_message(
                app, CLASSIFY_ITEM, _crawled((url, source_id, content_type, raw), datetime.now(UTC))
            )
            deadline = time.monotonic() + 30
            while len(inbox.received_at) == before and time.monotonic() < deadline:
                inbox.arrived.wait(0.5)
            if len(inbox.received_at) == before:
                echo(f"  alert {n}: no mail within 30 s")
                continue
            received_at = inbox.received_at[-1]
            with database.session() as session:
                indexed_at = session.scalar(
                    select(Article.indexed_at).where(Article.title.contains(marker))
                )
            if indexed_at is None:
                continue
            if indexed_at.tzinfo is None:
                indexed_at = indexed_at.replace(tzinfo=UTC)
            latencies.append(received_at - indexed_at.timestamp())
    finally:
        database.dispose()
    return latencies


def bench_settings(workdir: Path, redis_url: str, elasticsearch_url: str = "") -> Settings:
    """Settings for one benchmark run: its own data dir and Redis, a bench index alias."""
    return load_settings(
        data_dir=workdir,
        redis_url=redis_url,
        elasticsearch_url=elasticsearch_url,
        elasticsearch_index=f"bench-{os.getpid()}",
    )
