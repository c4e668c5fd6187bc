"""The live resources one crawler process uses, built once and handed to every spider."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis

from crawler.state import ListValidators, RunRegistry, SeenArticles
from hitwatch.settings import Settings
from hitwatch.store.db import open_database
from hitwatch.store.failures import FailureLog, open_failure_log

__all__ = ["KEY_PREFIX", "CrawlServices", "open_services"]

KEY_PREFIX = "hitwatch:crawl"


@dataclass
class CrawlServices:
    settings: Settings
    redis: redis.Redis
    seen: SeenArticles
    validators: ListValidators
    failures: FailureLog
    run_key: str
    worker_id: str = ""
    mirror_base: str = ""  # demo mode: every real URL is fetched from this mirror
    recheck: bool = False  # fetch known articles again to detect changed content
    registries: dict[str, RunRegistry] = field(default_factory=dict)

    def registry(self, spider_name: str) -> RunRegistry:
        """This process's entry among the processes crawling `spider_name` in the run."""
        if spider_name not in self.registries:
            key = f"{self.run_key}:{spider_name}"
            self.registries[spider_name] = RunRegistry(self.redis, key, self.worker_id)
        return self.registries[spider_name]

    def close(self) -> None:
        self.failures.db.dispose()
        self.redis.close()


def open_services(
    settings: Settings, *, run_id: str, worker_id: str, mirror_base: str = "", recheck: bool = False
) -> CrawlServices:
    client = redis.Redis.from_url(settings.resolved_redis_url, socket_connect_timeout=5)
    run_key = f"{KEY_PREFIX}:run:{run_id}"
    seen = SeenArticles(client, KEY_PREFIX, ttl=settings.crawler_seen_ttl_days * 86_400)
    seen.adopt_legacy(f"{KEY_PREFIX}:seen")  # the hash without expiry kept before
    return CrawlServices(
        settings=settings,
        redis=client,
        seen=seen,
        validators=ListValidators(client, KEY_PREFIX),
        failures=open_failure_log(settings, open_database(settings.resolved_database_url)),
        run_key=run_key,
        worker_id=worker_id,
        mirror_base=mirror_base,
        recheck=recheck,
    )
