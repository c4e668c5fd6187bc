"""Scrapy settings of one source's crawler, derived from hitwatch settings and the definition."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from hitwatch.settings import Settings
from hitwatch.sources import SourceDefinition

__all__ = ["DEMO_MAX_DELAY", "fetch_guard_options", "mirror_base", "scrapy_settings", "user_agent"]

# The mirror is ours: demo crawls keep the adaptive throttle but need not wait seconds.
DEMO_MAX_DELAY = 0.1


def mirror_base(settings: Settings) -> str:
    """Where the bundled mirror answers: the one local address the product itself names."""
    return f"http://127.0.0.1:{settings.mirror_port}"


def fetch_guard_options(settings: Settings, *, demo: bool) -> dict[str, Any]:
    """What the fetch guard's middleware and resolver read (crawler.middlewares, .resolver)."""
    return {
        "HITWATCH_FETCH_ALLOW_PRIVATE": settings.fetch_allow_private,
        "HITWATCH_FETCH_ALLOWED_HOSTS": sorted(settings.fetch_allowed_host_set),
        # Demo crawls fetch every page from the mirror on 127.0.0.1, which the product
        # itself configures (MIRROR_PORT); nothing a person or a page names is exempt.
        "HITWATCH_FETCH_EXEMPT_ORIGIN": mirror_base(settings) if demo else "",
    }


def user_agent(settings: Settings) -> str:
    try:
        release = version("hitwatch")
    except PackageNotFoundError:  # running from a checkout that is not installed
        release = "dev"
    return f"hitwatch/{release} (+contact: {settings.crawler_contact})"


def scrapy_settings(
    settings: Settings,
    source: SourceDefinition,
    *,
    run_key: str,
    demo: bool = False,
    throttle: bool = True,
    deliver: bool = True,
) -> dict[str, Any]:
    polite = source.politeness
    delay = min(polite.delay_seconds, DEMO_MAX_DELAY) if demo else polite.delay_seconds
    return {
        "BOT_NAME": "hitwatch",
        "USER_AGENT": user_agent(settings),
        # robots.txt is obeyed unless a definition opts out (per request, see SourceSpider).
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": throttle,
        "AUTOTHROTTLE_START_DELAY": delay,
        "AUTOTHROTTLE_MAX_DELAY": max(delay * 10, 1.0) if throttle else 0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(polite.concurrency),
        "DOWNLOAD_DELAY": delay if throttle else 0,
        "CONCURRENT_REQUESTS": 16 if throttle else 64,
        "CONCURRENT_REQUESTS_PER_DOMAIN": polite.concurrency if throttle else 64,
        "DOWNLOAD_MAXSIZE": settings.max_page_bytes,
        "DOWNLOAD_WARNSIZE": settings.max_page_bytes // 2,
        "DOWNLOAD_TIMEOUT": 30,
        "RETRY_TIMES": 2,
        "COOKIES_ENABLED": True,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": settings.log_level if settings.log_level != "INFO" else "WARNING",
        "DOWNLOADER_MIDDLEWARES": {
            # Before robots.txt (100): a refused page must not even have its robots fetched.
            "crawler.middlewares.FetchGuardMiddleware": 50,
            "crawler.middlewares.CookieChallengeMiddleware": 650,
        },
        **fetch_guard_options(settings, demo=demo),
        "ITEM_PIPELINES": {"crawler.pipelines.HandoverPipeline": 300} if deliver else {},
        # Shared queue and dupefilter in Redis, scoped to the run (see crawler.scheduler).
        "SCHEDULER": "crawler.scheduler.RunScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.FifoQueue",
        "SCHEDULER_QUEUE_KEY": f"{run_key}:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{run_key}:%(spider)s:dupefilter",
        "SCHEDULER_PERSIST": True,
        # JSON, not scrapy-redis's default pickle: whoever can write the Redis must not be
        # able to run code in the crawler (see crawler.codec).
        "SCHEDULER_SERIALIZER": "crawler.codec",
        "REDIS_URL": settings.resolved_redis_url,
    }
