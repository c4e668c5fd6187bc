"""`SourceSpider`: reads the lists of one source definition and fetches new articles.

Everything site-specific is data (`hitwatch/sources/<id>.yaml`); this spider only knows
the list types. In demo mode every real URL is fetched from the mirror site, while links
are still resolved against the real URL so the handed-over item names the real page.

A WeChat 公众号 source (`wechat:` in its definition) reads a bridge's feed: an entry that
carries the full text is handed over as a WeChat-style page built from it (no fetch of
mp.weixin.qq.com), the others are fetched; a page saying its article was removed is
counted as removed, not handed over; the bridge's errors and a lapsed login are noted as
feed problems, which make the source broken at once (`crawler.health`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlencode, urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import FormRequest, Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.handover import FETCH_PAGE, FetchedFile, FetchedPage
from crawler.listing import ListedLink, buildstatic_call, parse_list
from crawler.middlewares import FetchRefused
from crawler.mirror.mapping import mirror_url
from crawler.services import CrawlServices
from crawler.state import Validators
from hitwatch.errors import PermanentError, TransientError
from hitwatch.messages import DOCUMENT_EXTENSIONS
from hitwatch.sources import ListEndpoint, SourceDefinition
from hitwatch.sources.wechat import feed_page, is_wechat_url, removal_notice

__all__ = ["MAX_DOCUMENTS", "SourceSpider", "document_links", "page_url"]

# Documents fetched with one article at most: a page linking dozens is a file index.
MAX_DOCUMENTS = 5


def page_url(endpoint: ListEndpoint, page: int) -> str:
    """The real URL of page `page` (1-based) of a list."""
    if page == 1:
        base = endpoint.url
    else:
        size = int(endpoint.params.get("perpage", 0) or 0)
        base = endpoint.next_page.format(page=page, start=(page - 1) * size + 1, end=page * size)
    if endpoint.params and endpoint.method == "GET":
        base += ("&" if "?" in base else "?") + urlencode(endpoint.params)
    return base


def document_links(response: Response, real_url: str, within: Sequence[str] = ()) -> list[str]:
    """Real URLs of the documents (PDF, Word, Excel) an article page links, in page order.

    `within`: the definition's body selectors; the first that matches limits the search to
    the article (site-wide files in a footer are not fetched with every article). Links
    resolve against the page's real URL (in demo mode the mirror serves the page, but its
    links name the real site).
    """
    if not isinstance(response, TextResponse):
        return []
    hrefs = response.css("a::attr(href)").getall()
    for selector in within:
        matched = response.css(selector)
        if matched:
            hrefs = matched[0].css("a::attr(href)").getall()
            break
    found: list[str] = []
    for href in hrefs:
        href = href.strip()
        if not href or href.startswith("#"):
            continue
        url = urljoin(real_url, href)
        parts = urlsplit(url)  # drops tabs and newlines, as browsers do: "java\tscript:"
        if parts.scheme.lower() not in ("http", "https"):
            continue  # javascript:, mailto:, data: in any case: nothing to fetch
        if unquote(parts.path).lower().endswith(DOCUMENT_EXTENSIONS) and url not in found:
            found.append(url)
    return found[:MAX_DOCUMENTS]


def _header(response: Response, name: str) -> str:
    return (response.headers.get(name) or b"").decode("latin-1")


class SourceSpider(scrapy.Spider):
    name = "source"

    def __init__(
        self,
        source: SourceDefinition,
        services: CrawlServices,
        articles: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(name=source.id, **kwargs)
        self.source = source
        self.services = services
        self.articles = list(articles)  # fetch just these article URLs, not the lists
        self.problems: list[str] = []
        # 公众号 sources: what breaks the source at once, and the newest entry of its feed.
        self.feed_problems: list[str] = []
        self.newest_entry: datetime | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        spider: SourceSpider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        return spider

    # -- requests ---------------------------------------------------------------------------

    def _fetch_url(self, real_url: str) -> str:
        base = self.services.mirror_base
        return mirror_url(base, real_url) if base else real_url

    def _meta(self, real_url: str, **extra: Any) -> dict[str, Any]:
        meta = {"real_url": real_url, **extra}
        if not self.source.politeness.obey_robots:
            meta["dont_obey_robotstxt"] = True
        return meta

    def list_request(self, index: int, page: int) -> Request:
        endpoint = self.source.lists[index]
        real = page_url(endpoint, page)
        meta = self._meta(
            real, kind="list", endpoint=index, page=page, handle_httpstatus_list=[304]
        )
        headers: dict[str, str] = {}
        known = None if self.services.recheck else self.services.validators.get(real)
        if known is not None:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        if endpoint.method == "POST":
            return FormRequest(
                self._fetch_url(real),
                formdata=endpoint.form,
                callback=self.parse_list_page,
                errback=self.on_error,
                meta=meta,
                headers=headers,
            )
        return Request(
            self._fetch_url(real),
            callback=self.parse_list_page,
            errback=self.on_error,
            meta=meta,
            headers=headers,
        )

    async def start(self) -> AsyncIterator[Request]:
        for url in self.articles:
            yield self.article_request(ListedLink(url), list_url="", validator_key="")
        if self.articles:
            return
        for index in range(len(self.source.lists)):
            yield self.list_request(index, 1)

    def article_request(self, link: ListedLink, list_url: str, validator_key: str) -> Request:
        hints = {"title": link.title, "date": link.date, "list_url": list_url}
        meta = self._meta(link.url, kind="article", hints=hints, validator_key=validator_key)
        return Request(
            self._fetch_url(link.url), callback=self.parse_article, errback=self.on_error, meta=meta
        )

    # -- responses --------------------------------------------------------------------------

    def _count(self, key: str, value: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"hitwatch/{key}", value)

    def parse_list_page(self, response: Response) -> Iterator[Request | FetchedPage]:
        meta = response.meta
        index, number, real = meta["endpoint"], meta["page"], meta["real_url"]
        endpoint = self.source.lists[index]
        self._count("list_pages")
        if response.status == 304:
            known = self.services.validators.get(real)
            self._count("links_found", known.links if known else 0)
            self._count("lists_unchanged")
            return
        if not isinstance(response, TextResponse):
            kind = _header(response, "Content-Type")
            self._problem(f"{endpoint.label or real}: list answer is not text ({kind!r})")
            return
        if endpoint.type == "js_json" and meta["kind"] == "list":
            call = buildstatic_call(response.text, real)
            if call is None:
                self._problem(
                    f"{endpoint.label or real}: no script[parseType=buildstatic] on the page"
                )
                return
            data_real = f"{call.url}?{urlencode(call.params)}"
            yield Request(
                self._fetch_url(data_real),
                callback=self.parse_list_page,
                errback=self.on_error,
                headers={"Referer": response.url},
                meta=self._meta(
                    data_real, kind="list_data", endpoint=index, page=number, list_url=real
                ),
            )
            return
        list_url = meta.get("list_url", real)
        try:
            page = parse_list(endpoint, response.text, list_url)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            self._problem(f"{endpoint.label or real}: cannot read the list ({exc})")
            if self.source.wechat is not None:
                self._feed_problem(f"the bridge's answer is not a feed ({exc})"[:300])
            return
        for problem in page.problems():
            self._problem(f"{endpoint.label or real}: {problem}")
        if self.source.wechat is not None:
            self._feed_health(page.newest, page.expired)
        self._count("links_found", len(page.links))
        urls = [link.url for link in page.links]
        handed_over = self.services.seen.known(urls)
        etag, modified = _header(response, "ETag"), _header(response, "Last-Modified")
        # Validators (a 304 next time) only for a page whose every link was handed over:
        # kept while its new articles are still to fetch, a crawler killed now would
        # find the page "unchanged" next run and never fetch them. The next run reads
        # the page again, finds nothing new and keeps them then.
        if (etag or modified) and handed_over >= set(urls):
            self.services.validators.put(real, Validators(etag, modified, len(page.links)))
        seen: set[str] = set() if self.services.recheck else handed_over
        fresh = [link for link in page.links if link.url not in seen]
        for link in fresh:
            if self.source.wechat is not None and link.content and is_wechat_url(link.url):
                yield self.page_from_feed(link, list_url)
            else:
                yield self.article_request(link, list_url, real)
        # Stop paging once a page holds only links handed over in earlier runs.
        if endpoint.next_page and fresh and number < endpoint.max_pages:
            yield self.list_request(index, number + 1)

    def _feed_health(self, newest: datetime | None, expired: str) -> None:
        if newest is not None and (self.newest_entry is None or newest > self.newest_entry):
            self.newest_entry = newest
        if expired:
            self._feed_problem(f"the bridge says its login lapsed ({expired}): log in again there")

    def _feed_problem(self, text: str) -> None:
        if text not in self.feed_problems:
            self.feed_problems.append(text)

    def page_from_feed(self, link: ListedLink, list_url: str) -> FetchedPage:
        """The article whose full text the feed carries, as a WeChat-style page."""
        self._count("articles_from_feed")
        assert self.source.wechat is not None
        published = None
        if link.date:
            try:
                published = datetime.fromisoformat(link.date)
            except ValueError:
                published = None
        body = feed_page(
            link.url, link.title, link.author or self.source.wechat.account, published, link.content
        )
        hints = {"title": link.title, "date": link.date, "list_url": list_url}
        return FetchedPage(
            url=link.url,
            final_url=link.url,
            real_url=link.url,
            source_id=self.source.id,
            status=200,
            content_type="text/html; charset=utf-8",
            body=body,
            hints={**hints, "source_id": self.source.id, "from_feed": list_url},
        )

    async def _fetch_document(self, real_url: str) -> FetchedFile:
        """One linked document, fetched outside the shared queue (it belongs to the page).

        Raises TransientError when it cannot be had.
        """
        request = Request(self._fetch_url(real_url), meta=self._meta(real_url, kind="document"))
        try:
            assert self.crawler.engine is not None
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # any download error: the page goes on without the file
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        if response.status != 200 or not response.body:
            raise TransientError(f"HTTP {response.status}")
        self._count("documents_fetched")
        return FetchedFile(real_url, _header(response, "Content-Type"), response.body)

    def _documents_failed(self, response: Response, failed: dict[str, str]) -> None:
        """The page goes on without the files (url -> reason); a failure record lets a
        replay fetch the page and its files again (it then differs by the files, so it is
        handed over again as an update)."""
        self._count("document_errors", len(failed))
        real_url = response.meta["real_url"]
        reasons = "; ".join(f"{url}: {reason}" for url, reason in failed.items())
        self.logger.warning(
            "%s: documents of %s not fetched: %s", self.source.id, real_url, reasons
        )
        payload = {
            "url": real_url,
            "fetch_url": response.request.url if response.request else response.url,
            "source_id": self.source.id,
            "kind": "article",
            "hints": response.meta.get("hints", {}),
            "documents": list(failed),
        }
        error = TransientError(
            f"{len(failed)} linked document(s) not fetched ({reasons}); the page was handed"
            " over without them, a replay fetches the page and its documents again"
        )
        self.services.failures.record(FETCH_PAGE, payload, error)

    async def parse_article(self, response: Response) -> AsyncIterator[FetchedPage]:
        self._count("articles_fetched")
        request_url = response.request.url if response.request else response.url
        if isinstance(response, TextResponse) and is_wechat_url(response.meta["real_url"]):
            notice = removal_notice(response.text)
            if notice:
                # Removed or blocked by WeChat: nothing to extract, and not a failure.
                self._count("removed")
                self.logger.info("%s: %s removed (%s)", self.source.id, request_url, notice)
                self.services.seen.remember(response.meta["real_url"], f"removed:{notice}")
                return
        files = []
        failed: dict[str, str] = {}
        real_url = response.meta["real_url"]
        for link in document_links(response, real_url, self.source.detail.body):
            try:
                files.append(await self._fetch_document(link))
            except TransientError as exc:
                failed[link] = str(exc)
        if failed:
            self._documents_failed(response, failed)
        yield FetchedPage(
            url=request_url,
            final_url=response.url,
            real_url=response.meta["real_url"],
            source_id=self.source.id,
            status=response.status,
            content_type=_header(response, "Content-Type"),
            body=response.body,
            hints={**response.meta.get("hints", {}), "source_id": self.source.id},
            mirrored=bool(self.services.mirror_base),
            attachments=tuple(files),
            missing_documents=tuple(failed),
        )

    def _problem(self, text: str) -> None:
        self.logger.warning("%s: %s", self.source.id, text)
        self.problems.append(text)

    def on_error(self, failure: Failure) -> None:
        """A page that could not be fetched is kept as a failure, never dropped."""
        request: Request = failure.request  # type: ignore[attr-defined]
        exc = failure.value
        kind = request.meta.get("kind", "")
        if isinstance(exc, HttpError):
            status = exc.response.status
            if status == 404 and kind == "list" and request.meta.get("page", 1) > 1:
                return  # paged past the last page: the end of the list, not an error
            reason = f"HTTP {status}"
            retryable = status >= 500 or status == 429
            error_type = TransientError if retryable else PermanentError
            exc = error_type(f"HTTP {status} from {request.url}")
        elif isinstance(exc, FetchRefused):
            reason = str(exc)
            self._problem(reason)
        else:
            reason = f"{type(exc).__name__}: {exc}"
        self._count("errors")
        if kind == "article" and request.meta.get("validator_key"):
            # Its list may answer 304 next time; forget the validators so the list is read
            # again and the article retried, besides the failure kept for replay.
            self.services.validators.forget(request.meta["validator_key"])
        if kind != "article" and not isinstance(exc, FetchRefused):
            self._problem(f"list {request.meta.get('real_url', request.url)} failed: {reason}")
            if self.source.wechat is not None:
                self._feed_problem(f"the bridge answered {reason}")
        payload = {
            "url": request.meta.get("real_url", request.url),
            "fetch_url": request.url,
            "source_id": self.source.id,
            "kind": kind,
            "hints": request.meta.get("hints", {}),
        }
        self.services.failures.record(
            FETCH_PAGE, payload, exc if isinstance(exc, Exception) else RuntimeError(reason)
        )

    # -- sharing a run with other processes --------------------------------------------------

    def on_idle(self) -> None:
        """Stay open while another process on the same run may still queue requests."""
        # Scrapy calls this only when the shared queue is empty and nothing is in flight here.
        registry = self.services.registry(self.name)
        registry.idle()
        if registry.others_busy():
            raise DontCloseSpider
