"""`run_crawl_bench`: crawling speed against an in-process mirror, throttling off."""

from __future__ import annotations

import time
import uuid
from typing import Any

from crawler.mirror.app import MirrorConfig, create_app
from crawler.mirror.content import MirrorArticle, load_articles
from crawler.mirror.serve import serve_in_thread
from crawler.run import run_crawl
from hitwatch.settings import Settings
from hitwatch.sources import SourceDefinition

__all__ = ["bench_articles", "run_crawl_bench"]


def bench_articles(pages: int, tag: str) -> tuple[MirrorArticle, ...]:
    """`pages` article pages on one list, with bodies borrowed from the demo articles."""
    bodies = [a.paragraphs for a in load_articles()]
    return tuple(
        MirrorArticle(
            source="bench",
            list="all",
            url=f"https://bench.example/{tag}/article_{n}.html",
            title=f"基准测试文章 {n}",
            date="2024-07-01",
            paragraphs=bodies[n % len(bodies)],
        )
        for n in range(pages)
    )


def run_crawl_bench(settings: Settings, pages: int) -> dict[str, Any]:
    """Crawl `pages` article pages (plus their list) from a local mirror; print and return
    pages/second. Needs Redis (shared queue); queues nothing and writes no health."""
    tag = uuid.uuid4().hex[:8]
    articles = bench_articles(pages, tag)
    source = SourceDefinition.model_validate(
        {
            "id": "bench",
            "name": "基准",
            "kind": "media",
            "homepage": "https://bench.example/",
            "domains": ["bench.example"],
            "politeness": {"concurrency": 16, "delay_seconds": 0, "obey_robots": False},
            "lists": [{"url": "https://bench.example/list.html", "items": "ul.list li"}],
        }
    )
    with serve_in_thread(create_app(MirrorConfig(articles=articles))) as base:
        local = settings.model_copy(update={"mirror_port": int(base.rsplit(":", 1)[1])})
        started = time.perf_counter()
        cpu_started = time.process_time()
        [run] = run_crawl(
            local, [source], demo=True, throttle=False, deliver=False, record_health=False
        )
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    fetched = run.list_pages + run.articles_fetched
    result = {
        "pages": fetched,
        "articles": run.articles_fetched,
        "errors": run.errors,
        "seconds": round(elapsed, 2),
        "pages_per_second": round(fetched / elapsed, 1) if elapsed else 0.0,
        # Crawler and mirror share this process: CPU time is what both cost, free of the
        # machine's other load.
        "cpu_seconds": round(cpu, 2),
        "pages_per_cpu_second": round(fetched / cpu, 1) if cpu else 0.0,
    }
    print(
        f"crawl bench: {fetched} pages ({run.articles_fetched} articles) in {elapsed:.2f}s "
        f"= {result['pages_per_second']} pages/s wall; {cpu:.2f} CPU s (crawler + mirror) "
        f"= {result['pages_per_cpu_second']} pages per CPU second; {run.errors} errors"
    )
    return result
