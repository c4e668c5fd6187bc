"""The item pipeline: hand each fetched article to the `classify` queue, exactly once.

A page already handed over with the same bytes is dropped; one whose bytes changed is
sent again with the hint `update: "1"`. The URL is remembered only after the message is
queued, so a broker outage makes the next run fetch it again instead of losing it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celery import Celery
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.handover import FetchedPage, build_item, page_digest
from hitwatch.broker import create_celery, send_message
from hitwatch.settings import Settings
from hitwatch.tasks import CLASSIFY_ITEM

__all__ = ["HandoverPipeline"]


class HandoverPipeline:
    def __init__(self, crawler: Crawler, settings: Settings, stats: StatsCollector) -> None:
        self.crawler = crawler
        self.settings = settings
        self.stats = stats
        self.celery: Celery | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HandoverPipeline:
        assert crawler.stats is not None
        return cls(crawler, crawler.spider.services.settings, crawler.stats)  # type: ignore[union-attr]

    def open_spider(self) -> None:
        self.celery = create_celery(self.settings, "crawler")

    def close_spider(self) -> None:
        if self.celery is not None:
            self.celery.close()
            self.celery = None

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage) or self.celery is None:
            return item
        seen = self.crawler.spider.services.seen  # type: ignore[union-attr]
        digest = page_digest(item)
        change = seen.change(item.real_url, digest)
        if change == "same":
            self.stats.inc_value("hitwatch/unchanged")
            return item
        if change == "changed" and item.missing_documents:
            # This copy lacks files the one handed over before may have had: sending it
            # would replace a whole version with a lesser one. Its failure record's replay
            # fetches the page and its files again and compares the whole.
            self.stats.inc_value("hitwatch/incomplete_updates_deferred")
            return item
        message = build_item(item, datetime.now(UTC), updated=change == "changed")
        send_message(self.celery, CLASSIFY_ITEM, message)
        seen.remember(item.real_url, digest)
        self.stats.inc_value("hitwatch/items_sent")
        if change == "changed":
            self.stats.inc_value("hitwatch/items_updated")
        return item
