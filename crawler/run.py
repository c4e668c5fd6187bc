"""One crawl run: a Scrapy crawler per source in this process, sharing a run in Redis.

Several processes (on several machines) join the same run by passing the same run id;
they then share one request queue and dupefilter, so no page is fetched twice.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.error import URLError
from urllib.request import urlopen

from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.reactor import install_reactor

from crawler.alarms import mail_health_changes
from crawler.config import fetch_guard_options, mirror_base, scrapy_settings
from crawler.health import SourceRun, record_runs, upsert_sources
from crawler.services import open_services
from crawler.spiders.source import SourceSpider
from hitwatch.errors import HitwatchError
from hitwatch.mail import open_transport
from hitwatch.settings import Settings
from hitwatch.sources import SourceDefinition

__all__ = ["CrawlError", "mirror_base", "run_crawl"]

REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

Progress = Callable[[list[SourceRun]], None]

# An idle process that waits for the shared queue looks at it once per engine heartbeat;
# Scrapy's 5 s would leave a helper process idle through most of a short run. Scrapy has
# no setting for it, hence the class attribute.
IDLE_POLL_SECONDS = 0.5


class CrawlError(HitwatchError):
    """A crawl could not start; the message says what to do."""


def _check_mirror(base: str, wait_seconds: float = 15.0) -> None:
    """Wait for the mirror: the launcher starts it together with the first crawl."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with urlopen(f"{base}/robots.txt", timeout=5):  # noqa: S310 - our own http URL
                return
        except (URLError, OSError) as exc:
            if time.monotonic() > deadline:
                raise CrawlError(
                    f"the mirror site is not answering at {base} ({exc}); start it with "
                    "`hitwatch mirror` (or set MIRROR_PORT), or crawl the real sites with --live"
                ) from exc
            time.sleep(0.3)


def _snapshot(crawler: Crawler, source: SourceDefinition) -> SourceRun:
    stats = crawler.stats.get_stats() if crawler.stats else {}

    def value(key: str) -> int:
        return int(stats.get(f"hitwatch/{key}", 0))

    spider = crawler.spider
    return SourceRun(
        source_id=source.id,
        list_pages=value("list_pages"),
        links_found=value("links_found"),
        articles_fetched=value("articles_fetched"),
        items_sent=value("items_sent"),
        items_updated=value("items_updated"),
        errors=value("errors"),
        problems=list(getattr(spider, "problems", [])),
        removed=value("removed"),
        stale_after_days=source.wechat.stale_after_days if source.wechat else 0,
        feed_problems=list(getattr(spider, "feed_problems", [])),
        newest_entry=getattr(spider, "newest_entry", None),
    )


def run_crawl(
    settings: Settings,
    sources: Sequence[SourceDefinition],
    *,
    demo: bool,
    run_id: str = "",
    recheck: bool = False,
    throttle: bool = True,
    progress: Progress | None = None,
    progress_every: float = 2.0,
    deliver: bool = True,
    record_health: bool = True,
    mirror_wait: float = 15.0,
    articles: Sequence[str] = (),
) -> list[SourceRun]:
    """Crawl `sources` once; write their health; return what each run did.

    `deliver=False` and `record_health=False` are for benchmarks: pages are fetched and
    parsed but nothing is queued or written. `articles` fetches just those article URLs
    (of the one source given) instead of reading the lists: a failed page, re-fetched.

    Must be called at most once per process: Twisted's reactor cannot be restarted.
    """
    if articles and len(sources) != 1:
        raise CrawlError("name the one source whose article URLs are to be fetched (--source)")
    base = mirror_base(settings) if demo else ""
    if demo:
        _check_mirror(base, mirror_wait)
    run_id = run_id or uuid.uuid4().hex
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    services = open_services(
        settings, run_id=run_id, worker_id=worker_id, mirror_base=base, recheck=recheck
    )
    try:
        database = services.failures.db
        if record_health:
            upsert_sources(database, sources)
        install_reactor(REACTOR)
        ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = IDLE_POLL_SECONDS
        process = CrawlerProcess(
            {
                "TWISTED_REACTOR": REACTOR,
                "LOG_LEVEL": settings.log_level,
                "LOG_INSTALL_ROOT_HANDLER": False,
                # One resolver per process: the address connected to is a checked one.
                "TWISTED_DNS_RESOLVER": "crawler.resolver.GuardedResolver",
                **fetch_guard_options(settings, demo=demo),
            }
        )
        crawlers: list[tuple[SourceDefinition, Crawler]] = []
        for source in sources:
            options = scrapy_settings(
                settings,
                source,
                run_key=services.run_key,
                demo=demo,
                throttle=throttle,
                deliver=deliver,
            )
            crawler = Crawler(SourceSpider, {"TWISTED_REACTOR": REACTOR, **options})
            process.crawl(crawler, source=source, services=services, articles=articles)
            crawlers.append((source, crawler))
        if progress is not None:
            from twisted.internet import task

            loop = task.LoopingCall(lambda: progress([_snapshot(c, s) for s, c in crawlers]))
            loop.start(progress_every, now=False)
        process.start(stop_after_crawl=True, install_signal_handlers=True)
        runs = [_snapshot(c, s) for s, c in crawlers]
        if record_health and not articles:
            now = datetime.now(UTC)
            record_runs(database, runs, now)
            mail_health_changes(database, settings, open_transport(settings), now)
        return runs
    finally:
        services.close()
