"""Feeds of the three WeChat bridges, one dialect each, as their documented output looks
(fixtures written for these tests in the bridges' shapes), and the bridges' words."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifier.extraction import extract_page
from crawler.feeds import FeedError, parse_feed
from crawler.listing import parse_list
from hitwatch.sources import ListEndpoint
from hitwatch.sources.wechat import feed_page

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wechat"
FIRST_TITLE = "三级医院电子病历评级新要求：数据质量成为关键"
FIRST_TIME = datetime(2024, 7, 18, 2, 0, tzinfo=UTC)


def test_wewe_rss_atom_with_full_text() -> None:
    feed = parse_feed((FIXTURES / "wewe_rss.atom").read_bytes())
    assert feed.dialect == "atom10"
    assert feed.title == "医信观察"
    first, second = feed.entries
    assert first.url == "https://mp.weixin.qq.com/s/8xYt0DemoArticle01"
    assert first.title == FIRST_TITLE
    assert first.published_at == FIRST_TIME
    assert first.author == "医信观察"  # the feed's author, inherited by its entries
    assert "质量管理机制" in first.content
    assert "data-src" in first.content  # the bridge's HTML is kept, images included
    assert second.content == ""  # no full text: the crawler fetches the page
    assert feed.newest == FIRST_TIME
    assert feed.expired == ""


def test_rsshub_rss_puts_the_article_in_description() -> None:
    feed = parse_feed((FIXTURES / "rsshub.rss").read_bytes())
    assert feed.dialect == "rss20"
    first, second = feed.entries
    assert first.url.startswith("https://mp.weixin.qq.com/s?__biz=MzI0MDAwMDAwMQ==&mid=2247480001")
    assert first.author == "医信观察"
    assert first.published_at == FIRST_TIME
    assert "评审专家表示" in first.content  # a long description is the article
    assert second.content == ""  # a one-line description is a teaser


def test_we_mp_rss_json_feed_of_all_accounts() -> None:
    feed = parse_feed((FIXTURES / "we_mp_rss.json").read_bytes())
    assert feed.dialect == "json"
    assert [entry.author for entry in feed.entries] == ["医信观察", "某市卫健委"]
    first, second = feed.entries
    assert first.published_at == FIRST_TIME
    assert first.date == "2024-07-18T10:00:00+08:00"  # list hints speak Beijing time
    assert "电子病历" in first.content
    assert second.content == ""


def test_an_account_takes_only_its_entries_from_an_all_accounts_feed() -> None:
    endpoint = ListEndpoint(
        url="http://bridge.example:8001/feed/all.json", type="feed", account="医信观察"
    )
    text = (FIXTURES / "we_mp_rss.json").read_text("utf-8")
    page = parse_list(endpoint, text, endpoint.url)
    assert [link.url for link in page.links] == ["https://mp.weixin.qq.com/s/8xYt0DemoArticle01"]
    assert page.links[0].author == "医信观察"
    assert page.newest == FIRST_TIME


@pytest.mark.parametrize(
    "text",
    [
        '<rss version="2.0"><channel><title>医信观察</title><description>微信读书账号授权已过期，请重新扫码</description></channel></rss>',
        '{"version": "https://jsonfeed.org/version/1", "title": "we-mp-rss", "items": [{"id": "x", "title": "Token expired, please log in"}]}',
    ],
)
def test_a_feed_saying_its_login_lapsed_is_noticed(text: str) -> None:
    assert parse_feed(text).expired


@pytest.mark.parametrize(
    "text", ["<html><body>502 Bad Gateway</body></html>", '{"error": "x"}', ""]
)
def test_an_answer_that_is_no_feed_is_an_error(text: str) -> None:
    with pytest.raises(FeedError):
        parse_feed(text)


def test_full_text_from_a_feed_is_extracted_by_the_wechat_rule() -> None:
    entry = parse_feed((FIXTURES / "wewe_rss.atom").read_bytes()).entries[0]
    page = feed_page(entry.url, entry.title, entry.author, entry.published_at, entry.content)
    article = extract_page(page, entry.url)
    assert article.title == FIRST_TITLE
    assert article.source_name == "医信观察"
    assert article.published_at == FIRST_TIME
    assert article.method == "site"
    assert article.paragraphs[0].startswith("近日，多地卫生健康部门")
    assert article.images == ["https://mmbiz.qpic.cn/mmbiz_png/demo0001/640?wx_fmt=png"]


def test_titles_and_accounts_from_a_feed_cannot_inject_markup() -> None:
    page = feed_page(
        "https://mp.weixin.qq.com/s/x",
        "</h1><script>alert(1)</script>标题",
        "<b>号</b>",
        None,
        "<p>正文内容足够长，可以被抽取出来作为文章正文。</p>",
    )
    article = extract_page(page, "https://mp.weixin.qq.com/s/x")
    assert article.title == "</h1><script>alert(1)</script>标题"
    assert article.source_name == "<b>号</b>"


def test_text_already_decoded_is_read_whatever_its_declaration_says() -> None:
    text = (
        '<?xml version="1.0" encoding="gb2312"?><rss version="2.0"><channel><title>医信观察</title>'
        "<item><title>电子病历评级</title><link>https://mp.weixin.qq.com/s/a</link></item>"
        "</channel></rss>"
    )
    assert [entry.title for entry in parse_feed(text).entries] == ["电子病历评级"]
    assert [entry.title for entry in parse_feed(text.encode("gb2312")).entries] == ["电子病历评级"]


def test_a_json_feed_with_a_byte_order_mark_is_read() -> None:
    data = "\ufeff".encode() + (FIXTURES / "we_mp_rss.json").read_bytes()
    assert len(parse_feed(data).entries) == 2
