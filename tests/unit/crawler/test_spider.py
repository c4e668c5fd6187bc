"""SourceSpider on mirror responses, with fake crawl state (no Redis, no network)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

from crawler.handover import FetchedPage
from crawler.services import CrawlServices
from crawler.spiders.source import MAX_DOCUMENTS, SourceSpider, document_links, page_url
from crawler.state import Validators
from hitwatch.sources import load_sources

MIRROR = "http://127.0.0.1:8765"


@dataclass
class FakeSeen:
    urls: set[str] = field(default_factory=set)
    remembered: dict[str, str] = field(default_factory=dict)

    def known(self, urls: list[str]) -> set[str]:
        return self.urls & set(urls)

    def remember(self, url: str, content_hash: str) -> None:
        self.remembered[url] = content_hash


@dataclass
class FakeValidators:
    stored: dict[str, Validators] = field(default_factory=dict)
    forgotten: list[str] = field(default_factory=list)

    def get(self, url: str) -> Validators | None:
        return self.stored.get(url)

    def put(self, url: str, validators: Validators) -> None:
        self.stored[url] = validators

    def forget(self, url: str) -> None:
        self.forgotten.append(url)


@dataclass
class FakeFailures:
    recorded: list[tuple[str, dict[str, Any], BaseException]] = field(default_factory=list)

    def record(
        self, task: str, payload: dict[str, Any], exc: BaseException, attempts: int = 1
    ) -> None:
        self.recorded.append((task, payload, exc))


def _spider(settings, source_id: str, *, seen: set[str] = frozenset(), recheck: bool = False):  # type: ignore[assignment]
    source = {s.id: s for s in load_sources()}[source_id]
    services = CrawlServices(
        settings=settings,
        redis=None,  # type: ignore[arg-type]
        seen=FakeSeen(set(seen)),  # type: ignore[arg-type]
        validators=FakeValidators(),  # type: ignore[arg-type]
        failures=FakeFailures(),  # type: ignore[arg-type]
        run_key="test",
        mirror_base=MIRROR,
        recheck=recheck,
    )
    crawler = get_crawler(SourceSpider)
    spider = crawler._create_spider(source=source, services=services)
    crawler.spider = spider
    return spider, services


def _list_response(passed_mirror, spider: SourceSpider, index: int, page: int = 1) -> TextResponse:
    request = spider.list_request(index, page)
    path = request.url.removeprefix(MIRROR)
    answer = passed_mirror.get(path)
    return HtmlResponse(
        url=request.url,
        body=answer.data,
        headers={"Content-Type": answer.content_type, **dict(answer.headers)},
        request=request,
    )


def test_list_page_schedules_new_articles_on_the_mirror_and_the_next_page(
    settings, passed_mirror
) -> None:
    spider, services = _spider(settings, "nhc")
    out = list(spider.parse_list_page(_list_response(passed_mirror, spider, 0)))
    articles = [r for r in out if r.meta["kind"] == "article"]
    pages = [r for r in out if r.meta["kind"] == "list"]
    assert [r.meta["real_url"] for r in articles] == [
        "http://www.nhc.gov.cn/wjw/zcfg/202407/3f2a9c1d8e7b4a6c9d0e1f2a3b4c5d6e.shtml",
        "http://www.nhc.gov.cn/wjw/zcfg/202407/8a1b2c3d4e5f60718293a4b5c6d7e8f9.shtml",
    ]
    assert all(r.url.startswith(f"{MIRROR}/www.nhc.gov.cn/wjw/zcfg/") for r in articles)
    assert articles[0].meta["hints"]["title"] == "电子病历系统应用水平分级评价管理办法（2024年版）"
    assert [r.meta["real_url"] for r in pages] == ["http://www.nhc.gov.cn/wjw/zcfg/list_2.shtml"]
    # No 304 next run before its new articles are handed over (a crawler may die first).
    assert services.validators.stored == {}


def test_paging_stops_when_a_page_holds_only_seen_links(settings, passed_mirror) -> None:
    seen = {
        "http://www.nhc.gov.cn/wjw/zcfg/202407/3f2a9c1d8e7b4a6c9d0e1f2a3b4c5d6e.shtml",
        "http://www.nhc.gov.cn/wjw/zcfg/202407/8a1b2c3d4e5f60718293a4b5c6d7e8f9.shtml",
    }
    spider, services = _spider(settings, "nhc", seen=seen)
    assert list(spider.parse_list_page(_list_response(passed_mirror, spider, 0))) == []
    # Every link handed over: the page may answer 304 next time.
    assert services.validators.stored["http://www.nhc.gov.cn/wjw/zcfg/list.shtml"].links == 2


def test_recheck_fetches_seen_articles_again_without_conditional_headers(
    settings, passed_mirror
) -> None:
    spider, services = _spider(settings, "nhc", seen={"x"}, recheck=True)
    services.validators.stored["http://www.nhc.gov.cn/wjw/zcfg/list.shtml"] = Validators(
        '"abc"', "", 2
    )
    assert "If-None-Match" not in spider.list_request(0, 1).headers
    spider.services.recheck = False
    assert spider.list_request(0, 1).headers["If-None-Match"] == b'"abc"'


def test_unchanged_list_counts_the_links_it_had(settings) -> None:
    spider, services = _spider(settings, "gov_cn")
    services.validators.stored["https://www.gov.cn/zhengce/zuixin/"] = Validators('"e"', "", 4)
    request = spider.list_request(0, 1)
    response = HtmlResponse(url=request.url, status=304, body=b"", request=request)
    assert list(spider.parse_list_page(response)) == []
    assert spider.crawler.stats.get_value("hitwatch/links_found") == 4


def test_js_built_list_is_read_through_its_json_call(settings, passed_mirror) -> None:
    spider, _ = _spider(settings, "miit")
    [call] = list(spider.parse_list_page(_list_response(passed_mirror, spider, 0)))
    assert call.meta["kind"] == "list_data"
    assert call.headers["Referer"] == f"{MIRROR}/www.miit.gov.cn/zwgk/zcjd/index.html".encode()
    answer = passed_mirror.get(
        call.url.removeprefix(MIRROR), headers={"Referer": call.headers["Referer"].decode()}
    )
    response = TextResponse(
        url=call.url, body=answer.data, headers={"Content-Type": "application/json"}, request=call
    )
    articles = list(spider.parse_list_page(response))
    assert len(articles) == 2
    assert all(
        r.meta["hints"]["list_url"] == "https://www.miit.gov.cn/zwgk/zcjd/index.html"
        for r in articles
    )


def test_post_list_is_a_form_request(settings) -> None:
    spider, _ = _spider(settings, "nhsa")
    request = spider.list_request(1, 1)
    assert request.method == "POST"
    assert b"columnid=105" in request.body
    assert request.url.startswith(
        f"{MIRROR}/www.nhsa.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=1"
    )


def test_json_api_parameters_are_in_the_url() -> None:
    api = {s.id: s for s in load_sources()}["cn_healthcare"].lists[0]
    assert page_url(api, 1).startswith(
        "https://www.cn-healthcare.com/api/article/articlelist?data=%7B%22start%22"
    )


def test_article_page_becomes_a_fetched_page(settings) -> None:
    spider, _ = _spider(settings, "bjnews")
    from crawler.listing import ListedLink

    request = spider.article_request(
        ListedLink("https://www.bjnews.com.cn/detail/1.html", "标题", "2024-07-03"),
        "https://www.bjnews.com.cn/health",
        "k",
    )
    response = HtmlResponse(
        url=request.url,
        body="<html>正文</html>".encode(),
        headers={"Content-Type": "text/html"},
        request=request,
    )
    [page] = asyncio.run(_collect(spider.parse_article(response)))
    assert isinstance(page, FetchedPage)
    assert page.attachments == ()  # the page links no document
    assert page.real_url == "https://www.bjnews.com.cn/detail/1.html"
    assert page.url == f"{MIRROR}/www.bjnews.com.cn/detail/1.html"
    assert page.hints["source_id"] == "bjnews"
    assert page.mirrored


def test_a_failed_article_is_recorded_and_its_list_read_again(settings) -> None:
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    from crawler.listing import ListedLink

    spider, services = _spider(settings, "bjnews")
    request = spider.article_request(
        ListedLink("https://www.bjnews.com.cn/detail/1.html"),
        "https://www.bjnews.com.cn/health",
        "https://www.bjnews.com.cn/health",
    )
    response = HtmlResponse(url=request.url, status=500, body=b"", request=request)
    failure = Failure(HttpError(response))
    failure.request = request  # type: ignore[attr-defined]
    spider.on_error(failure)
    [(task, payload, _exc)] = services.failures.recorded
    assert task == "crawler.fetch_page"
    assert payload["url"] == "https://www.bjnews.com.cn/detail/1.html"
    assert payload["source_id"] == "bjnews"
    assert services.validators.forgotten == ["https://www.bjnews.com.cn/health"]
    assert spider.crawler.stats.get_value("hitwatch/errors") == 1


def test_404_past_the_last_page_is_the_end_of_the_list(settings) -> None:
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    spider, services = _spider(settings, "nhc")
    request = spider.list_request(0, 3)
    failure = Failure(
        HttpError(HtmlResponse(url=request.url, status=404, body=b"", request=request))
    )
    failure.request = request  # type: ignore[attr-defined]
    spider.on_error(failure)
    assert services.failures.recorded == []
    assert spider.problems == []


@pytest.mark.parametrize("source_id", [s.id for s in load_sources()])
def test_start_requests_cover_every_list(settings, source_id: str) -> None:
    import asyncio

    spider, _ = _spider(settings, source_id)

    async def collect() -> list[Request]:
        return [r async for r in spider.start()]

    requests = asyncio.run(collect())
    assert len(requests) == len(spider.source.lists)
    assert all(r.url.startswith(MIRROR) for r in requests)


async def _collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


def test_document_links_resolve_against_the_real_url_and_are_capped() -> None:
    links = "".join(f'<a href="files/a{n}.pdf">附件{n}</a>' for n in range(MAX_DOCUMENTS + 3))
    body = (
        '<a href="/zhengce/x.DOCX">一</a><a href="https://other.cn/b.xls?v=1">二</a>'
        '<a href="/zhengce/x.DOCX">重复</a><a href="page.html">页</a>'
        '<a href="javascript:void(0)">js</a>' + links
    )
    response = HtmlResponse(
        url="http://127.0.0.1:1/www.gov.cn/zhengce/content/1.htm",
        body=f"<html><body>{body}</body></html>".encode(),
        encoding="utf-8",
    )
    found = document_links(response, "https://www.gov.cn/zhengce/content/1.htm")
    assert found[:3] == [
        "https://www.gov.cn/zhengce/x.DOCX",
        "https://other.cn/b.xls?v=1",
        "https://www.gov.cn/zhengce/content/files/a0.pdf",
    ]
    assert len(found) == MAX_DOCUMENTS


def test_document_links_are_http_only_however_a_script_url_is_spelt() -> None:
    body = (
        '<a href="JavaScript:top.x=1//a.pdf">1</a><a href=" java&#9;script:top.y=1//b.pdf">2</a>'
        '<a href="data:application/pdf;base64,AA//c.pdf">3</a><a href="mailto:a@b.cn?x.pdf">4</a>'
        '<a href="ftp://files.gov.cn/d.pdf">5</a><a href="//files.gov.cn/e.pdf">6</a>'
    )
    response = HtmlResponse(
        url="https://www.gov.cn/zhengce/1.htm",
        body=f"<html><body>{body}</body></html>".encode(),
        encoding="utf-8",
    )
    found = document_links(response, "https://www.gov.cn/zhengce/1.htm")
    assert found == ["https://files.gov.cn/e.pdf"]


def test_document_links_stay_inside_the_article_when_its_selector_matches() -> None:
    page = (
        '<div id="article"><a href="/files/notice.pdf">通知</a></div>'
        '<div class="footer"><a href="/report/annual.xls">网站年度报表</a></div>'
    )
    response = HtmlResponse(
        url="https://www.example.gov.cn/a/1.html",
        body=f"<html><body>{page}</body></html>".encode(),
        encoding="utf-8",
    )
    real = "https://www.example.gov.cn/a/1.html"
    assert document_links(response, real, ["div.missing", "#article"]) == [
        "https://www.example.gov.cn/files/notice.pdf"
    ]
    assert len(document_links(response, real, ["div.missing"])) == 2  # no match: whole page


def test_a_wechat_feed_hands_over_full_texts_and_fetches_the_rest(settings, passed_mirror) -> None:
    from crawler.mirror.content import load_articles

    spider, _ = _spider(settings, "mp_yixin_demo")
    out = list(spider.parse_list_page(_list_response(passed_mirror, spider, 0)))
    demo = [a for a in load_articles() if a.source == "mp_yixin_demo"]
    pages = [item for item in out if isinstance(item, FetchedPage)]
    requests = [item for item in out if isinstance(item, Request)]
    assert [page.real_url for page in pages] == [a.url for a in demo if a.wechat == "full"]
    assert {r.meta["real_url"] for r in requests} == {a.url for a in demo if a.wechat != "full"}
    (page,) = pages
    assert page.url == page.real_url  # nothing was fetched: the feed carried the text
    assert not page.mirrored
    assert page.hints["from_feed"] == spider.source.lists[0].url
    assert "医信观察" in page.body.decode()
    assert spider.newest_entry is not None
    assert spider.feed_problems == []


def test_a_removed_wechat_article_is_counted_and_remembered_not_handed_over(
    settings, passed_mirror
) -> None:
    from crawler.listing import ListedLink
    from crawler.mirror.content import load_articles

    removed = next(a for a in load_articles() if a.wechat == "removed")
    spider, services = _spider(settings, "mp_yixin_demo")
    request = spider.article_request(ListedLink(removed.url), "", "")
    answer = passed_mirror.get(request.url.removeprefix(MIRROR))
    response = HtmlResponse(url=request.url, body=answer.data, request=request)
    assert asyncio.run(_collect(spider.parse_article(response))) == []
    assert spider.crawler.stats.get_value("hitwatch/removed") == 1
    assert services.seen.remembered == {removed.url: "removed:该内容已被发布者删除"}
    assert services.failures.recorded == []  # a removed article is no failure


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (502, b"Bad Gateway", "the bridge answered HTTP 502"),
        (200, b"<html><body>login</body></html>", "not a feed"),
        (
            200,
            "<rss version='2.0'><channel><title>医信观察</title>"
            "<description>授权已过期，请重新扫码</description></channel></rss>".encode(),
            "login lapsed (授权已过期)",
        ),
    ],
)
def test_a_bridge_error_or_lapsed_login_is_a_feed_problem(
    settings, status: int, body: bytes, problem: str
) -> None:
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    spider, _ = _spider(settings, "mp_yixin_demo")
    request = spider.list_request(0, 1)
    response = HtmlResponse(url=request.url, status=status, body=body, request=request)
    if status != 200:
        failure = Failure(HttpError(response))
        failure.request = request  # type: ignore[attr-defined]
        spider.on_error(failure)
    else:
        assert list(spider.parse_list_page(response)) == []
    assert len(spider.feed_problems) == 1
    assert problem in spider.feed_problems[0]
