"""The shared request queue: scrapy-redis's scheduler, scoped to one crawl run.

scrapy-redis 0.9.1 works on Scrapy 2.19 (it serialises requests with `Request.to_dict`)
except that it passes `spider` to `StatsCollector.inc_value`, deprecated in Scrapy 2.13;
this subclass counts the same stats itself. What scrapy-redis lacks is a notion of a run
shared by several processes. With
`SCHEDULER_PERSIST` off the first process to finish would flush the queue and dupefilter
under the others; with it on, the keys would outlive the run and stop the next run from
reading the lists again. This subclass keeps the keys for the run (`HITWATCH_RUN_KEY`)
while any process works on it, deletes them when the last one leaves, and tells the
registry when this process is busy.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from scrapy_redis.scheduler import Scheduler

from crawler.spiders.source import SourceSpider
from crawler.state import RunRegistry

__all__ = ["RunScheduler"]


class RunScheduler(Scheduler):  # type: ignore[misc]
    registry: RunRegistry
    run_stats: StatsCollector | None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunScheduler:
        instance: RunScheduler = super().from_crawler(crawler)
        # The spider carries the crawl's live services (see crawler.spiders.source).
        spider = crawler.spider
        if not isinstance(spider, SourceSpider):
            raise TypeError("RunScheduler schedules SourceSpider crawls only")
        instance.registry = spider.services.registry(spider.name)
        instance.run_stats = crawler.stats
        instance.stats = None  # see the module docstring
        return instance

    def open(self, spider: Spider) -> Any:
        self.registry.join()
        return super().open(spider)

    def enqueue_request(self, request: Request) -> bool:
        added: bool = super().enqueue_request(request)
        if added:
            if self.run_stats is not None:
                self.run_stats.inc_value("scheduler/enqueued/redis")
            # Keys of a run whose processes all died must not stay in Redis for ever.
            self.server.expire(self.queue.key, self.registry.ttl)
            self.server.expire(self.df.key, self.registry.ttl)
        return added

    def next_request(self) -> Request | None:
        request: Request | None = super().next_request()
        if request is not None:
            self.registry.busy()
            if self.run_stats is not None:
                self.run_stats.inc_value("scheduler/dequeued/redis")
        return request

    def close(self, reason: str) -> None:
        if self.registry.leave():
            self.flush()
