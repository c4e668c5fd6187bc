"""The mirror imitates the mechanics the crawler must cope with."""

from __future__ import annotations

from crawler.mirror.app import MirrorConfig
from crawler.mirror.challenge import expected_cookie
from crawler.mirror.mapping import mirror_url


def test_mirror_url_keeps_host_path_and_query() -> None:
    assert mirror_url("http://127.0.0.1:1/", "http://www.nhc.gov.cn/wjw/zcfg/list.shtml?a=1") == (
        "http://127.0.0.1:1/www.nhc.gov.cn/wjw/zcfg/list.shtml?a=1"
    )


def test_nhc_needs_the_cookie_and_serves_gbk(mirror) -> None:
    assert mirror.get("/www.nhc.gov.cn/wjw/zcfg/list.shtml").status_code == 412
    name, value = expected_cookie(MirrorConfig().challenge_secret, "www.nhc.gov.cn")
    mirror.set_cookie(name, value, domain="localhost")
    page = mirror.get("/www.nhc.gov.cn/wjw/zcfg/list.shtml")
    assert page.status_code == 200
    assert "互联网诊疗监管细则" in page.data.decode("gbk")
    assert b"charset=gbk" in page.data


def test_a_page_declares_gb2312_but_sends_utf8(mirror) -> None:
    page = mirror.get("/bj.wenming.cn/chy/wmbb/202407/t20240712_8573051.shtml")
    assert b"charset=gb2312" in page.data
    assert "朝阳报" in page.data.decode("utf-8")
    assert page.content_type == "text/html"


def test_list_pages_answer_conditional_requests(mirror) -> None:
    first = mirror.get("/www.gov.cn/zhengce/zuixin/")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    again = mirror.get("/www.gov.cn/zhengce/zuixin/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_api_mechanics_are_enforced(mirror) -> None:
    assert mirror.get("/www.nhsa.gov.cn/module/web/jpage/dataproxy.jsp").status_code == 405
    unit = (
        "/www.miit.gov.cn/api-gateway/jpaas-publish-server/front/page/build/unit?pageId=zcjd-page"
    )
    assert mirror.get(unit).status_code == 403
    assert (
        mirror.get(
            unit, headers={"Referer": "https://www.miit.gov.cn/zwgk/zcjd/index.html"}
        ).status_code
        == 200
    )
    assert mirror.get("/www.gov.cn/zhengce/content/202407/content_0.htm").status_code == 404


def test_every_mirror_article_is_served(passed_mirror) -> None:
    from crawler.mirror.content import load_articles

    articles = load_articles()
    assert len(articles) >= 40
    for article in articles:
        page = passed_mirror.get(f"/{article.host}{article.path}")
        assert page.status_code == 200, article.url
        text = page.data.decode("gbk" if article.source == "nhc" else "utf-8")
        if article.wechat == "removed":  # WeChat shows its notice instead of the article
            assert "该内容已被发布者删除" in text and article.paragraphs[0] not in text
            continue
        assert article.paragraphs[0] in text


def test_hits_count_served_pages_only(mirror) -> None:
    mirror.get("/www.nhc.gov.cn/wjw/zcfg/list.shtml")  # challenged: not served
    mirror.get("/www.gov.cn/zhengce/zuixin/")
    mirror.get("/www.gov.cn/zhengce/zuixin/")
    assert mirror.get("/_hits").get_json() == {"/www.gov.cn/zhengce/zuixin/": 2}


def test_articles_share_a_body_only_when_they_are_one_document() -> None:
    from collections import defaultdict

    from crawler.mirror.content import load_articles

    titles_by_body: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for article in load_articles():
        titles_by_body[article.paragraphs].append(article.title)
    for titles in titles_by_body.values():
        shortest = min(titles, key=len)
        # The same document on two sites: one title contains the other (a 文号 added ...).
        assert all(shortest in title for title in titles), titles


def test_attached_files_are_linked_and_generated(passed_mirror) -> None:
    from classifier.extraction import document_text
    from crawler.mirror.content import load_articles
    from crawler.mirror.documents import DOCUMENT_TYPES

    with_files = [a for a in load_articles() if a.files]
    assert {f.kind for a in with_files for f in a.files} == set(DOCUMENT_TYPES)
    for article in with_files:
        page = passed_mirror.get(f"/{article.host}{article.path}")
        html = page.data.decode("gbk" if article.source == "nhc" else "utf-8")
        for file in article.files:
            assert f'href="{file.path}"' in html
            answer = passed_mirror.get(f"/{article.host}{file.path}")
            assert answer.status_code == 200, file.path
            assert answer.content_type == DOCUMENT_TYPES[file.kind]
            text = "".join(document_text(answer.data, file.path).split())
            assert file.title in text


def test_news_published_while_the_mirror_runs_is_listed_and_served(tmp_path) -> None:
    from datetime import datetime

    from crawler.mirror.app import MirrorConfig, create_app
    from crawler.mirror.content import publish_news
    from hitwatch.clock import SHANGHAI

    news = tmp_path / "mirror-news.yaml"
    client = create_app(MirrorConfig(news_file=news)).test_client()
    before = client.get("/www.bjnews.com.cn/health").get_data(as_text=True)
    article = publish_news(
        news, "电子病历评级再提速", ["第一段：电子病历。", "第二段。"], datetime.now(SHANGHAI)
    )
    listing = client.get("/www.bjnews.com.cn/health").get_data(as_text=True)
    assert "电子病历评级再提速" in listing and "电子病历评级再提速" not in before
    detail = client.get(f"/www.bjnews.com.cn{article.path}").get_data(as_text=True)
    assert "第一段：电子病历。" in detail and "第二段。" in detail
    second = publish_news(news, "第二条", ["正文"], datetime.now(SHANGHAI))
    assert second.url != article.url
    assert client.get(f"/www.bjnews.com.cn{second.path}").status_code == 200
