"""`hitwatch bench pipeline`: synthetic pages through the real queues and worker processes.

Pages are enqueued first, then the classify, index and notify workers start; the clock runs
from their start until every document is stored and searchable. Peak memory is the sum of
the workers' peak resident sizes (VmHWM of every process in their process groups).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from classifier.extraction.samples import synthetic_page
from hitwatch.broker import create_celery, send_message
from hitwatch.messages import CrawledItem, stable_id
from hitwatch.search import SearchRequest, open_search_index
from hitwatch.settings import Settings, load_settings
from hitwatch.store import Article, Failure, open_database
from hitwatch.tasks import CLASSIFY_ITEM

__all__ = ["PipelineResult", "run_pipeline_bench"]


@dataclass(frozen=True)
class PipelineResult:
    backend: str
    documents: int
    seconds: float
    failures: int
    peak_rss_mb: float

    @property
    def per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0


def _peak_rss_kb(group_ids: set[int]) -> int:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) not in group_ids:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except (OSError, ProcessLookupError, ValueError):
            continue
    return total


def _count(database_url: str, model: type) -> int:
    database = open_database(database_url)
    try:
        with database.session() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        database.dispose()


def run_pipeline_bench(settings: Settings, documents: int, *, echo=print) -> PipelineResult:  # type: ignore[no-untyped-def]
    """Push `documents` synthetic pages through a fresh store and index; needs Redis."""
    backend = "elasticsearch" if settings.elasticsearch_url else "fts5"
    open_database(settings.resolved_database_url).migrate()
    index = open_search_index(settings)
    index.ensure()

    app = create_celery(settings, "bench")
    rng = random.Random(7)
    now = datetime.now(UTC)
    for n in range(documents):
        url, source_id, content_type, raw = synthetic_page(n, rng)
        item = CrawledItem(
            item_id=stable_id(url),
            url=url,
            final_url=url,
            source_id=source_id,
            fetched_at=now,
            content_type=content_type,
            body_z64=CrawledItem.pack_body(raw),
        )
        send_message(app, CLASSIFY_ITEM, item)
    echo(f"[{backend}] {documents} pages queued; starting classify, index and notify workers")

    env = {
        **os.environ,
        "REDIS_URL": settings.resolved_redis_url,
        "DATABASE_URL": settings.resolved_database_url,
        "ELASTICSEARCH_URL": settings.elasticsearch_url,
        "ELASTICSEARCH_INDEX": settings.elasticsearch_index,
        "HITWATCH_DATA_DIR": str(settings.data_dir),
        "LOG_LEVEL": "WARNING",
    }
    hitwatch = str(Path(sys.executable).with_name("hitwatch"))
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [hitwatch, "worker", queue, "--concurrency", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for queue in ("classify", "index", "notify")
    ]
    groups = {p.pid for p in processes}
    peak = 0
    try:
        done = 0
        last_echo = 0.0
        while True:
            done = _count(settings.resolved_database_url, Article)
            failed = _count(settings.resolved_database_url, Failure)
            peak = max(peak, _peak_rss_kb(groups))
            if done + failed >= documents:
                break
            if time.monotonic() - last_echo > 5:
                echo(f"  {done}/{documents} indexed, {failed} failed")
                last_echo = time.monotonic()
            if any(p.poll() is not None for p in processes):
                raise RuntimeError("a worker exited during the benchmark")
            time.sleep(0.25)
        seconds = time.monotonic() - started
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(30)
    index.refresh()
    searchable = index.count(SearchRequest())
    if settings.elasticsearch_url:
        index.drop()
    index.close()
    echo(f"  {searchable} documents searchable")
    return PipelineResult(backend, done, seconds, failed, peak / 1024)


def bench_settings(workdir: Path, redis_url: str, elasticsearch_url: str = "") -> Settings:
    """Settings for one benchmark run: its own data dir and Redis, a bench index alias."""
    return load_settings(
        data_dir=workdir,
        redis_url=redis_url,
        elasticsearch_url=elasticsearch_url,
        elasticsearch_index=f"bench-{os.getpid()}",
    )
