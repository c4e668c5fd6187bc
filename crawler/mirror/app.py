"""A Flask imitation of the watched sites, so demo mode and tests run offline.

Each site is served under `/<host>/<path>` with its real list and detail markup and its
mechanics: gov.cn's HTML lists and JSON feed, NHC's HTTP 412 cookie challenge and GBK
pages with paging, NHSA's POST `dataproxy.jsp` XML, MIIT's JavaScript-built list, RSS,
a sitemap, a JSON API and a page that declares gb2312 while its bytes are UTF-8. It also
plays a WeChat bridge (wewe-rss's Atom feed of a made-up 公众号, some entries with the
full text) and mp.weixin.qq.com's article pages, one of them removed by its publisher.
`GET /_hits` tells how often each path was served (tests use it to prove no page was
fetched twice).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, abort, render_template, request

from crawler.mirror.challenge import challenge_page, expected_cookie
from crawler.mirror.content import MirrorArticle, load_articles, load_news
from crawler.mirror.documents import DOCUMENT_TYPES, document_bytes

__all__ = ["Catalogue", "MirrorConfig", "Site", "create_app"]

NHC_PAGE_SIZE = 2  # small so that two-page lists exercise paging


@dataclass(frozen=True)
class MirrorConfig:
    challenge_secret: int = 1721020800
    articles: tuple[MirrorArticle, ...] = ()
    latency_seconds: float = 0.0  # answer as slowly as a distant real site (tests of sharing)
    news_file: Path | None = None  # the demo's own news, published while it runs
    catalogue: Catalogue | None = None  # articles published in waves (the soak)


class Catalogue:
    """Articles published while the mirror runs, in waves: every article published so far
    can be fetched, the lists show the latest wave (as a real site's first pages show its
    newest articles). Thread-safe: the soak publishes while the server answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version = 0
        self.published: list[MirrorArticle] = []
        self.listed: tuple[MirrorArticle, ...] = ()

    def publish(self, wave: Iterable[MirrorArticle]) -> None:
        with self._lock:
            self.listed = tuple(sorted(wave, key=lambda a: a.date, reverse=True))
            self.published.extend(self.listed)
            self.version += 1

    def snapshot(self) -> tuple[int, tuple[MirrorArticle, ...], tuple[MirrorArticle, ...]]:
        with self._lock:
            return self.version, tuple(self.published), self.listed


HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
JSON = "application/json"
ATOM = "application/atom+xml; charset=utf-8"


@dataclass(frozen=True)
class ListSpec:
    """How the mirror renders one list page: a template, or fixed bytes (JSON feeds)."""

    template: str
    content_type: str = HTML
    charset: str = "utf-8"
    context: dict[str, Any] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str
    is_list: bool = False


def _pick(articles: Iterable[MirrorArticle], source: str, listing: str) -> list[MirrorArticle]:
    return [a for a in articles if a.source == source and a.list == listing]


def _path_of(url: str) -> str:
    return urlsplit(url).path


class Site:
    """Renders every page of the mirror from the article list; pure of HTTP."""

    def __init__(
        self,
        articles: tuple[MirrorArticle, ...],
        listed: tuple[MirrorArticle, ...] | None = None,
    ) -> None:
        """`articles` can be fetched; `listed` (default: all of them) appear in the lists."""
        self.articles = articles if listed is None else listed
        self.by_url = {(a.host, a.path): a for a in articles}
        self.files = {(a.host, f.path): (a, f) for a in articles for f in a.files}
        self.lists: dict[tuple[str, str], ListSpec] = dict(self._list_pages())

    def html(self, template: str, charset: str = "utf-8", **context: Any) -> bytes:
        return render_template(template, charset=charset, **context).encode(charset)

    def render_list(self, spec: ListSpec) -> Page:
        if spec.body:
            return Page(spec.body, spec.content_type, True)
        return Page(self.html(spec.template, spec.charset, **spec.context), spec.content_type, True)

    def _list_pages(self) -> Iterator[tuple[tuple[str, str], ListSpec]]:
        a = self.articles
        gov = "www.gov.cn"
        for path, key, title in (
            ("/zhengce/zuixin/", "zuixin", "最新政策"),
            ("/zhengce/jiedu/", "jiedu", "政策解读"),
        ):
            context: dict[str, Any] = {"items": _pick(a, "gov_cn", key), "column": title}
            yield (gov, path), ListSpec("gov_cn_list.html", context=context)
        feed = [
            {"TITLE": x.title, "URL": x.url, "DOCRELPUBTIME": x.day, "SUB_TITLE": ""}
            for x in _pick(a, "gov_cn", "jiedu")
        ]
        body = json.dumps(feed, ensure_ascii=False).encode()
        yield (gov, "/zhengce/jiedu/ZCJD_QZ.json"), ListSpec("", JSON, body=body)
        library = {"items": _pick(a, "gov_cn", "zhengceku")}
        yield (gov, "/zhengce/zhengceku/bmwj/"), ListSpec("gov_cn_library.html", context=library)
        for base, name, key in (
            ("/wjw/zcfg/", "list", "zcfg"),
            ("/wjw/gfxwjj/", "list", "gfxwjj"),
            ("/wjw/zcjd/", "list", "zcjd"),
            ("/guihuaxxs/pqt/", "new_list", "guihuaxxs"),
        ):
            items = _pick(a, "nhc", key)
            pages = max(1, -(-len(items) // NHC_PAGE_SIZE))
            for number in range(1, pages + 1):
                path = f"{base}{name}.shtml" if number == 1 else f"{base}{name}_{number}.shtml"
                chunk = items[(number - 1) * NHC_PAGE_SIZE : number * NHC_PAGE_SIZE]
                context = {"items": chunk, "page": number, "pages": pages}
                yield (
                    ("www.nhc.gov.cn", path),
                    ListSpec("nhc_list.html", "text/html", "gbk", context),
                )
        for column in ("zcjd", "wjgs"):
            path = f"/zwgk/{column}/index.html"
            yield ("www.miit.gov.cn", path), ListSpec("miit_list.html", context={"column": column})
        for host, path, template, source, key, content_type in (
            ("www.nmpa.gov.cn", "/xxgk/ggtg/index.html", "nmpa_list.html", "nmpa", "ggtg", HTML),
            (
                "www.chinanews.com.cn",
                "/rss/society.xml",
                "chinanews_rss.xml",
                "chinanews",
                "rss",
                XML,
            ),
            (
                "www.chinanews.com.cn",
                "/scroll-news/news1.html",
                "chinanews_list.html",
                "chinanews",
                "scroll",
                HTML,
            ),
            ("www.bjnews.com.cn", "/health", "bjnews_list.html", "bjnews", "health", HTML),
            ("bj.wenming.cn", "/chy/wmbb/", "wenming_list.html", "wenming", "wmbb", HTML),
            (
                "www.163.com",
                "/dy/media/T1603594732083.html",
                "netease_list.html",
                "netease",
                "dy",
                HTML,
            ),
            ("www.thepaper.cn", "/sitemap.xml", "thepaper_sitemap.xml", "thepaper", "sitemap", XML),
            ("bench.example", "/list.html", "bench_list.html", "bench", "all", HTML),
            (
                "wechat-bridge.demo",
                "/feeds/MP_WXS_3240000001.atom",
                "wechat_feed.atom",
                "mp_yixin_demo",
                "feed",
                ATOM,
            ),
        ):
            yield (
                (host, path),
                ListSpec(template, content_type, context={"items": _pick(a, source, key)}),
            )

    def miit_unit(self, page_id: str) -> Page:
        column = {"zcjd-page": "zcjd", "wjgs-page": "wjgs"}.get(page_id)
        if column is None:
            abort(404)
        html = render_template("miit_unit.html", items=_pick(self.articles, "miit", column))
        payload = {"code": 200, "msg": "操作成功", "success": True, "data": {"html": html}}
        return Page(json.dumps(payload, ensure_ascii=False).encode(), "application/json", True)

    def nhsa_records(self, column: str) -> Page:
        items = _pick(self.articles, "nhsa", f"col{column}")
        xml = render_template("nhsa_records.xml", items=items, column=column, total=len(items))
        return Page(xml.encode(), "text/xml; charset=utf-8", True)

    def cn_healthcare_api(self) -> Page:
        rows = [
            {
                "id": x.number,
                "title": x.title,
                "content": x.paragraphs[0][:60],
                "createdate": x.date,
                "url": _path_of(x.url),
                "author": x.author,
            }
            for x in _pick(self.articles, "cn_healthcare", "api")
        ]
        body = json.dumps({"status": 1, "message": "ok", "data": rows}, ensure_ascii=False)
        return Page(body.encode(), "application/json; charset=utf-8", True)

    def document(self, host: str, path: str) -> Page | None:
        """An attached file of an article, generated from the article's text."""
        found = self.files.get((host, path))
        if found is None:
            return None
        article, file = found
        body = document_bytes(file.kind, file.title, article.paragraphs)
        return Page(body, DOCUMENT_TYPES[file.kind])

    def detail(self, host: str, path: str) -> Page | None:
        article = self.by_url.get((host, path))
        if article is None:
            return self.document(host, path)
        if article.broken:
            # A page that is not one: bytes no extractor can read, served as HTML.
            return Page(hashlib.sha512(article.url.encode()).digest() * 64, "text/html")
        if article.source == "nhc":
            return Page(self.html("nhc_detail.html", "gbk", a=article), "text/html")
        if article.wechat == "removed":
            return Page(self.html("wechat_removed.html", a=article), "text/html; charset=utf-8")
        if article.wechat:
            return Page(self.html("wechat_detail.html", a=article), "text/html; charset=utf-8")
        if article.source == "bench":
            return Page(self.html("bench_detail.html", a=article), "text/html; charset=utf-8")
        if article.lying_charset:
            # Like real pages: the markup claims gb2312, the bytes are UTF-8.
            body = render_template(
                f"{article.source}_detail.html", a=article, charset=article.lying_charset
            )
            return Page(body.encode("utf-8"), "text/html")
        return Page(
            self.html(f"{article.source}_detail.html", a=article), "text/html; charset=utf-8"
        )


CHALLENGED_HOSTS = {"www.nhc.gov.cn", "www.nmpa.gov.cn"}


def create_app(config: MirrorConfig | None = None) -> Flask:
    """The mirror site; `config.articles` replaces the bundled pages (tests)."""
    config = config or MirrorConfig()
    app = Flask(__name__)
    hits: Counter[str] = Counter()
    lock = threading.Lock()
    app.extensions["mirror_hits"] = hits

    def site() -> Site:
        if config.catalogue is not None:
            return catalogue_site()
        news = config.news_file
        version = news.stat().st_mtime_ns if news is not None and news.exists() else 0
        if (
            app.extensions.get("mirror_news_version") != version
            or "mirror_site" not in app.extensions
        ):
            bundled = config.articles or load_articles()
            published = load_news(news) if news is not None else ()
            articles = tuple(sorted((*bundled, *published), key=lambda a: a.date, reverse=True))
            app.extensions["mirror_site"] = Site(articles)
            app.extensions["mirror_news_version"] = version
        built: Site = app.extensions["mirror_site"]
        return built

    def catalogue_site() -> Site:
        assert config.catalogue is not None
        if app.extensions.get("mirror_catalogue_version") != config.catalogue.version:
            version, published, listed = config.catalogue.snapshot()
            app.extensions["mirror_site"] = Site(published, listed)
            app.extensions["mirror_catalogue_version"] = version
        built: Site = app.extensions["mirror_site"]
        return built

    def served(page: Page) -> Response:
        if config.latency_seconds:
            time.sleep(config.latency_seconds)
        key = request.full_path.rstrip("?")
        if request.method == "POST":  # one URL, several lists: the form tells them apart
            key += " " + urlencode(sorted(request.form.items()))
        with lock:
            hits[key] += 1
        response = Response(page.body, content_type=page.content_type)
        if page.is_list:
            response.set_etag(hashlib.sha1(page.body).hexdigest()[:16])  # noqa: S324 - a validator
            response.headers["Last-Modified"] = format_datetime(
                datetime(2024, 7, 31, tzinfo=UTC), usegmt=True
            )
            response.headers["Cache-Control"] = "no-cache"
            if request.if_none_match.contains(response.get_etag()[0] or ""):
                return Response(status=304, headers={"ETag": response.headers["ETag"]})
        return response

    @app.get("/robots.txt")
    def robots() -> Response:
        return Response("User-agent: *\nDisallow: /private/\n", content_type="text/plain")

    @app.get("/_hits")
    def hit_counts() -> Response:
        with lock:
            return Response(json.dumps(dict(hits)), content_type="application/json")

    @app.route("/<host>/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<host>/<path:path>", methods=["GET", "POST"])
    def page(host: str, path: str) -> Response:
        path = "/" + path
        if host in CHALLENGED_HOSTS:
            name, value = expected_cookie(config.challenge_secret, host)
            if request.cookies.get(name) != value:
                return Response(
                    challenge_page(config.challenge_secret, host),
                    status=412,
                    content_type="text/html",
                )
        built = site()
        if host == "www.nhsa.gov.cn" and path == "/module/web/jpage/dataproxy.jsp":
            if request.method != "POST":
                abort(405)
            return served(built.nhsa_records(request.form.get("columnid", "")))
        if request.method != "GET":
            abort(405)
        if (
            host == "www.miit.gov.cn"
            and path == "/api-gateway/jpaas-publish-server/front/page/build/unit"
        ):
            if "miit.gov.cn" not in (request.referrer or ""):
                abort(403)  # the real endpoint refuses callers without a referer
            return served(built.miit_unit(request.args.get("pageId", "")))
        if host == "www.cn-healthcare.com" and path == "/api/article/articlelist":
            json.loads(request.args.get("data", "{}"))
            return served(built.cn_healthcare_api())
        listing = built.lists.get((host, path))
        if listing is not None:
            return served(built.render_list(listing))
        if app.extensions.get("mirror_documents_down") and (host, path) in built.files:
            abort(503)  # tests: the site's file server is down while its pages are up
        detail = built.detail(host, path)
        if detail is None:
            abort(404)
        return served(detail)

    return app
