"""Facets on the search page: counts of the matches, as links that narrow the query."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from html import unescape
from urllib.parse import unquote_plus

from flask.testing import FlaskClient

from hitwatch.topics import topic_names
from tests.factories import Doc
from webapp.results import SearchForm, facet_groups, query_filter

DOCS = [
    Doc(
        "emr-nhc",
        "关于电子病历评级的通知",
        "推进电子病历系统应用水平分级评价。",
        source_id="nhc",
        source_name="国家卫生健康委员会",
        doc_type="政策文件",
        region="全国",
        topics=[{"code": "D", "name": "电子病历与医院信息化评级", "score": 0.9}],
        published_at=datetime(2024, 6, 30, 17, 0, tzinfo=UTC),  # 1 July in Beijing
    ),
    Doc(
        "emr-news",
        "北京医院电子病历升级",
        "多家医院电子病历达到五级。",
        region="北京",
        topics=[{"code": "D", "name": "电子病历与医院信息化评级", "score": 0.8}],
        published_at=datetime(2024, 8, 2, tzinfo=UTC),
    ),
    Doc("ai-news", "大模型进医院", "人工智能辅助诊断。", region="北京"),
]


def facet_hrefs(page: str) -> dict[str, str]:
    """Facet link text -> the `q` its link searches for."""
    nav = page.split('<nav class="facets"', 1)[1].split("</nav>", 1)[0]
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    result = {}
    for href, label in links:
        (q,) = re.findall(r"[?&]q=([^&]+)", unescape(href))
        result[label] = unquote_plus(q)
    return result


def test_facets_count_the_matches_and_narrow_the_query(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(DOCS)
    page = client.get("/search", query_string={"q": "电子病历", "sort": "date"}).get_data(
        as_text=True
    )
    hrefs = facet_hrefs(page)
    assert hrefs["国家卫生健康委员会"] == "电子病历 source:国家卫生健康委员会"
    assert hrefs["政策文件"] == "电子病历 type:政策文件"
    # topics are shown by their taxonomy name, and filter by code
    assert hrefs[topic_names()["D"]] == "电子病历 topic:D"
    assert "D" not in hrefs
    assert hrefs["北京"] == "电子病历 region:北京"
    assert hrefs["2024-07"] == "电子病历 month:2024-07"  # the month in China, not UTC
    assert "大模型" not in hrefs  # only matching documents are counted
    assert "</a> (2)" in page  # topic D: both matches
    # Results count stories and facets count articles: the page names both units.
    assert "条新闻" in page and "括号中的数字是文章篇数" in page

    narrowed = client.get("/search", query_string={"q": hrefs["北京"], "sort": "date"})
    text = narrowed.get_data(as_text=True)
    assert 'href="/items/emr-news"' in text and 'href="/items/emr-nhc"' not in text
    assert '<span class="badge facet-active"' in text  # region:北京 is now applied
    assert "sort=date" in text.split('<nav class="facets"', 1)[1]  # links keep the sort


def test_no_facets_without_matches(client: FlaskClient, seed: Callable[[list[Doc]], None]) -> None:
    seed(DOCS)
    page = client.get("/search", query_string={"q": "区块链"}).get_data(as_text=True)
    assert 'class="facets"' not in page


def test_facet_values_are_quoted_when_the_language_needs_it() -> None:
    assert query_filter("source", "国家卫健委") == "source:国家卫健委"
    assert query_filter("source", "Xinhua News") == 'source:"Xinhua News"'
    assert query_filter("region", "-x") == 'region:"-x"'
    assert query_filter("type", "a|b") == 'type:"a|b"'


def test_facet_groups_mark_what_the_query_already_filters() -> None:
    form = SearchForm(q="医保 region:北京")
    (group,) = facet_groups(form, {"region": [("北京", 3), ("上海", 1)], "month": []})
    assert group.field == "region"
    beijing, shanghai = group.links
    assert (beijing.active, beijing.q) == (True, "医保 region:北京")
    assert (shanghai.active, shanghai.q, shanghai.count) == (
        False,
        "医保 region:北京 region:上海",
        1,
    )
    (empty_query,) = facet_groups(SearchForm(), {"doc_type": [("政策文件", 2)]})
    assert empty_query.links[0].q == "type:政策文件"


def test_search_api_gives_facets_when_asked(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(DOCS)
    plain = client.get("/api/v1/search", query_string={"q": "电子病历"}).get_json()
    assert "facets" not in plain
    body = client.get("/api/v1/search", query_string={"q": "电子病历", "facets": "1"}).get_json()
    assert body["facets"]["region"] == [
        {"value": "全国", "count": 1, "label": "全国"},
        {"value": "北京", "count": 1, "label": "北京"},
    ]
    assert body["facets"]["month"] == [
        {"value": "2024-08", "count": 1, "label": "2024-08"},
        {"value": "2024-07", "count": 1, "label": "2024-07"},
    ]
    assert body["facet_filters"]["topics"] == "topic"


def test_topic_filter_takes_a_code_a_name_or_part_of_a_name(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(DOCS)
    for q in ("topic:D", "topic:d", f"topic:{topic_names()['D']}", "topic:医院信息化评级"):
        page = client.get("/search", query_string={"q": q}).get_data(as_text=True)
        assert 'href="/items/emr-news"' in page and 'href="/items/ai-news"' not in page, q
        assert '<span class="badge facet-active"' in page, q


def test_unknown_topic_is_refused_with_the_choices(client: FlaskClient) -> None:
    response = client.get("/api/v1/search", query_string={"q": "topic:区块链金融"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "没有“区块链金融”这个主题" in error and f"D {topic_names()['D']}" in error


def test_api_facets_label_topics_with_their_names(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(DOCS)
    body = client.get("/api/v1/search", query_string={"q": "电子病历", "facets": "1"}).get_json()
    assert body["facets"]["topics"] == [{"value": "D", "count": 2, "label": topic_names()["D"]}]
    assert {"value": "北京", "count": 1, "label": "北京"} in body["facets"]["region"]
