"""List parsing per list type, on pages the mirror renders (every bundled definition)."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, TextResponse

from crawler.listing import ListedLink, buildstatic_call, parse_list
from crawler.mirror.content import load_articles
from hitwatch.sources import ListEndpoint, load_sources

# (source id, list index) -> the mirror articles' `list` key that page 1 must show
EXPECTED = {
    ("gov_cn", 0): "zuixin",
    ("gov_cn", 1): "jiedu",
    ("gov_cn", 2): "jiedu",
    ("gov_cn", 3): "zhengceku",
    ("nhc", 0): "zcfg",
    ("nhc", 1): "gfxwjj",
    ("nhc", 2): "zcjd",
    ("nhc", 3): "guihuaxxs",
    ("nhsa", 0): "col104",
    ("nhsa", 1): "col105",
    ("nhsa", 2): "col109",
    ("miit", 0): "zcjd",
    ("miit", 1): "wjgs",
    ("nmpa", 0): "ggtg",
    ("chinanews", 0): "rss",
    ("chinanews", 1): "scroll",
    ("bjnews", 0): "health",
    ("wenming", 0): "wmbb",
    ("netease", 0): "dy",
    ("thepaper", 0): "sitemap",
    ("cn_healthcare", 0): "api",
    ("mp_yixin_demo", 0): "feed",
}
NHC_PAGE = 2


def test_every_list_of_every_definition_is_covered() -> None:
    lists = {(s.id, i) for s in load_sources() for i in range(len(s.lists))}
    assert lists == set(EXPECTED)


@pytest.mark.parametrize(("source_id", "index"), sorted(EXPECTED))
def test_list_page_yields_the_mirror_articles(fetch_list, source_id: str, index: int) -> None:
    source = {s.id: s for s in load_sources()}[source_id]
    endpoint = source.lists[index]
    body, content_type = fetch_list(endpoint, 1)
    # Decode as Scrapy would (header, then <meta> charset): NHC pages are GBK.
    response = TextResponse(url=endpoint.url, body=body, headers={"Content-Type": content_type})
    page = parse_list(endpoint, response.text, endpoint.url)

    wanted = [
        a
        for a in load_articles()
        if a.source == source_id and a.list == EXPECTED[(source_id, index)]
    ]
    if source_id == "nhc":
        wanted = wanted[:NHC_PAGE]
    assert {link.url for link in page.links} == {a.url for a in wanted}
    titles = {a.url: a.title for a in wanted}
    for link in page.links:
        assert link.title == titles[link.url]
        if endpoint.date:
            assert link.date[:5] in {a.date[:5] for a in wanted} or link.date[:5] in {
                a.date[5:10] for a in wanted
            }
    assert page.problems() == []


def test_nhc_second_page_holds_the_rest(fetch_list) -> None:
    nhc = {s.id: s for s in load_sources()}["nhc"]
    body, content_type = fetch_list(nhc.lists[0], 2)
    response = HtmlResponse(
        url="http://www.nhc.gov.cn/wjw/zcfg/list_2.shtml",
        body=body,
        headers={"Content-Type": content_type},
    )
    page = parse_list(nhc.lists[0], response.text, response.url)
    wanted = [a.url for a in load_articles() if a.source == "nhc" and a.list == "zcfg"][NHC_PAGE:]
    assert [link.url for link in page.links] == wanted


def test_generic_html_list_keeps_only_links_matching_the_pattern() -> None:
    html = """<html><body><a href="/about.html">关于我们</a>
    <a href="/detail/171991195531264.html">标题一</a><a href="/detail/171991195531264.html">重复</a>
    <a href="javascript:void(0)">更多</a></body></html>"""
    endpoint = ListEndpoint(
        url="https://www.bjnews.com.cn/health", link_pattern=r"/detail/\d+\.html"
    )
    page = parse_list(endpoint, html, endpoint.url)
    assert page.links == [
        ListedLink("https://www.bjnews.com.cn/detail/171991195531264.html", "标题一", "")
    ]


def test_atom_feed_is_read_like_rss() -> None:
    atom = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
    <entry><title>医保DRG付费新规</title><link rel="alternate" href="https://example.cn/a/1.html"/>
    <updated>2024-07-01T08:00:00+08:00</updated></entry></feed>"""
    page = parse_list(
        ListEndpoint(url="https://example.cn/feed.xml", type="feed"),
        atom,
        "https://example.cn/feed.xml",
    )
    assert page.links == [
        ListedLink("https://example.cn/a/1.html", "医保DRG付费新规", "2024-07-01T08:00:00+08:00")
    ]


def test_changed_markup_is_reported_as_missing_fields() -> None:
    """A site that dropped the title attribute and the date span must look broken."""
    endpoint = ListEndpoint(
        url="http://www.nhc.gov.cn/wjw/zcfg/list.shtml",
        items="ul.zxxx_list li",
        title="a::attr(title)",
        date="span.ml::text",
    )
    html = '<ul class="zxxx_list"><li><a href="/a/1.shtml"></a><span class="date">2024-07-01</span></li></ul>'
    page = parse_list(endpoint, html, endpoint.url)
    assert page.problems() == ["items without date, title"]


def test_items_without_matching_links_are_reported() -> None:
    endpoint = ListEndpoint(
        url="https://www.gov.cn/zhengce/zuixin/",
        items="li",
        link="h4 a",
        link_pattern=r"content_\d+\.htm",
    )
    page = parse_list(
        endpoint, '<ul><li><h4><a href="/other/1.htm">x</a></h4></li></ul>', endpoint.url
    )
    assert page.links == []
    assert page.problems() == ["1 list items but no link matched"]


def test_json_records_at_a_path_that_is_not_a_list_is_an_error() -> None:
    endpoint = ListEndpoint(url="https://x.cn/api", type="json", records="data")
    with pytest.raises(ValueError, match="not a list"):
        parse_list(endpoint, '{"data": {"rows": []}}', endpoint.url)


def test_buildstatic_call_reads_the_script_attributes(passed_mirror) -> None:
    html = passed_mirror.get("/www.miit.gov.cn/zwgk/zcjd/index.html").data.decode()
    call = buildstatic_call(html, "https://www.miit.gov.cn/zwgk/zcjd/index.html")
    assert call is not None
    assert (
        call.url == "https://www.miit.gov.cn/api-gateway/jpaas-publish-server/front/page/build/unit"
    )
    assert call.params["pageId"] == "zcjd-page"
    assert call.params["paramJson"] == '{"pageNo":1,"pageSize":"24"}'
    assert buildstatic_call("<html><script src='a.js'></script></html>", "https://x.cn/") is None
