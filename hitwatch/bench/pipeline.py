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

from hitwatch.broker import create_celery, send_message
from hitwatch.messages import CrawledItem, stable_id
from hitwatch.search import SearchRequest, open_search_index
from hitwatch.settings import Settings, load_settings
from hitwatch.store import Article, Failure, open_database
from hitwatch.tasks import CLASSIFY_ITEM

__all__ = ["PipelineResult", "run_pipeline_bench", "synthetic_page"]

_VOCABULARY = [
    "国家卫生健康委",
    "医保信息化",
    "电子病历",
    "系统应用水平",
    "分级评价",
    "互联互通",
    "智慧医院",
    "医疗大模型",
    "人工智能",
    "DRG付费",
    "按病种分值付费",
    "全民健康信息平台",
    "居民健康档案",
    "互联网医院",
    "远程医疗",
    "数据安全",
    "隐私保护",
    "公立医院",
    "高质量发展",
    "信息化建设",
    "医疗机构",
    "基层医疗",
    "医联体",
    "数字医疗",
    "临床决策支持",
    "医学影像",
    "辅助诊断",
    "健康医疗大数据",
    "数据要素",
    "试点",
    "通知",
    "印发",
    "推进",
    "落实",
    "要求",
    "各地",
    "加快",
    "建设",
    "完善",
    "标准",
    "规范",
    "服务",
    "能力",
    "提升",
    "管理",
    "平台",
    "应用",
    "推广",
    "工作",
]


def synthetic_page(n: int, rng: random.Random) -> tuple[str, bytes]:
    """A news page in the markup of a generic Chinese portal, ~1,500 characters of body."""
    title = "".join(rng.sample(_VOCABULARY, 5)) + f"（{n}）"
    paragraphs = [
        "，".join(rng.choice(_VOCABULARY) for _ in range(rng.randint(12, 20))) + "。"
        for _ in range(8)
    ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<div class='nav'>首页 | 新闻 | 政策</div><h1>{title}</h1>"
        f"<div class='info'>2024-07-{1 + n % 28:02d} 10:00 来源：中新网</div>"
        f"<div class='content'>{body}</div><div class='footer'>版权所有</div></body></html>"
    )
    return f"https://www.chinanews.com.cn/bench/2024/07-01/{n}.shtml", html.encode("utf-8")


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
        url, raw = synthetic_page(n, rng)
        item = CrawledItem(
            item_id=stable_id(url),
            url=url,
            final_url=url,
            source_id="chinanews",
            fetched_at=now,
            content_type="text/html; charset=utf-8",
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
