"""Politeness: User-Agent, robots.txt, throttling and limits per source definition."""

from __future__ import annotations

from importlib.metadata import version

from crawler.config import DEMO_MAX_DELAY, scrapy_settings, user_agent
from crawler.services import CrawlServices
from crawler.spiders.source import SourceSpider
from hitwatch.sources import ListEndpoint, Politeness, SourceDefinition, load_sources


def _source(**politeness: object) -> SourceDefinition:
    return SourceDefinition(
        id="demo_src",
        name="示例",
        kind="media",
        homepage="https://example.cn/",
        domains=["example.cn"],
        politeness=Politeness(**politeness),
        lists=[ListEndpoint(url="https://example.cn/list.html")],
    )


def test_user_agent_names_version_and_contact(settings) -> None:
    contact = settings.model_copy(update={"crawler_contact": "ops@hitwatch.example"})
    assert user_agent(contact) == f"hitwatch/{version('hitwatch')} (+contact: ops@hitwatch.example)"


def test_live_settings_follow_the_definition(settings) -> None:
    options = scrapy_settings(settings, _source(concurrency=2, delay_seconds=3.0), run_key="k")
    assert options["ROBOTSTXT_OBEY"] is True
    assert options["AUTOTHROTTLE_ENABLED"] is True
    assert options["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2
    assert options["DOWNLOAD_DELAY"] == 3.0
    assert options["DOWNLOAD_MAXSIZE"] == settings.max_page_bytes
    assert options["USER_AGENT"].startswith("hitwatch/")
    assert options["SCHEDULER_QUEUE_KEY"] == "k:%(spider)s:requests"
    assert options["ITEM_PIPELINES"] == {"crawler.pipelines.HandoverPipeline": 300}


def test_demo_keeps_throttle_but_not_the_long_delay(settings) -> None:
    options = scrapy_settings(settings, _source(delay_seconds=3.0), run_key="k", demo=True)
    assert options["AUTOTHROTTLE_ENABLED"] is True
    assert options["DOWNLOAD_DELAY"] == DEMO_MAX_DELAY


def test_benchmark_settings_turn_throttling_and_delivery_off(settings) -> None:
    options = scrapy_settings(settings, _source(), run_key="k", throttle=False, deliver=False)
    assert options["AUTOTHROTTLE_ENABLED"] is False
    assert options["DOWNLOAD_DELAY"] == 0
    assert options["ITEM_PIPELINES"] == {}


def test_robots_opt_out_is_per_source(settings) -> None:
    services = CrawlServices(settings, None, None, None, None, "k")  # type: ignore[arg-type]
    polite = SourceSpider(_source(obey_robots=True), services)
    rude = SourceSpider(_source(obey_robots=False), services)
    assert "dont_obey_robotstxt" not in polite._meta("https://example.cn/a")
    assert rude._meta("https://example.cn/a")["dont_obey_robotstxt"] is True


def test_bundled_definitions_are_polite() -> None:
    for source in load_sources():
        assert source.politeness.concurrency <= 2, source.id
        assert source.politeness.delay_seconds >= 1.0, source.id
        assert source.politeness.obey_robots, source.id
        assert source.lists, source.id
        # A 公众号 is read by the WeChat rule (classifier.extraction.wechat), not its own.
        assert (source.detail.body and source.detail.title) or source.wechat, source.id


def test_the_fetch_guard_sees_every_request_and_exempts_only_the_demo_mirror(settings) -> None:
    live = scrapy_settings(settings, _source(), run_key="k", demo=False)
    middlewares = live["DOWNLOADER_MIDDLEWARES"]
    robots = 100  # Scrapy's RobotsTxtMiddleware
    assert middlewares["crawler.middlewares.FetchGuardMiddleware"] < robots
    assert live["HITWATCH_FETCH_EXEMPT_ORIGIN"] == ""
    assert live["HITWATCH_FETCH_ALLOW_PRIVATE"] is False
    demo = scrapy_settings(settings, _source(), run_key="k", demo=True)
    assert demo["HITWATCH_FETCH_EXEMPT_ORIGIN"] == f"http://127.0.0.1:{settings.mirror_port}"
    allowed = settings.model_copy(update={"fetch_allowed_hosts": "Intranet.Hospital, 10.0.0.8"})
    options = scrapy_settings(allowed, _source(), run_key="k")
    assert options["HITWATCH_FETCH_ALLOWED_HOSTS"] == ["10.0.0.8", "intranet.hospital"]
