"""The search page: highlighting, filters, story collapsing, errors."""

from collections.abc import Callable

from flask.testing import FlaskClient

from tests.unit.webapp.articles import BIGDATA, FORUM, HOSTILE, LLM, POLICY, SAMPLE, Doc, filler


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_empty_search_shows_the_form_and_help(client: FlaskClient) -> None:
    response = client.get("/search")
    assert response.status_code == 200
    page = text(response)
    assert "查询语法" in page and '<details class="help" open>' in page
    assert "输入关键词" in page


def test_chinese_substring_query_is_highlighted(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "大模型"}))
    assert "<mark>大模型</mark>" in page
    assert f'href="/items/{LLM.doc_id}"' in page
    assert f'href="/items/{BIGDATA.doc_id}"' not in page
    assert 'value="大模型"' in page  # the query stays in the box


def test_terms_are_all_required(client: FlaskClient, seed: Callable[[list[Doc]], None]) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "大模型 腾讯"}))
    assert f'href="/items/{LLM.doc_id}"' in page
    assert f'href="/items/{FORUM.doc_id}"' not in page  # has 大模型, lacks 腾讯
    assert "<mark>大模型</mark>" in page and "<mark>腾讯</mark>" in page


def test_copies_of_one_story_are_shown_once(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "朝阳区 论坛"}))
    assert page.count('class="item result"') == 1
    assert "2 篇报道" in page
    assert "本页另见" in page


def test_source_filter_and_date_range(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    by_source = text(client.get("/search", query_string={"q": "数字医疗", "source": "bjnews"}))
    assert f'href="/items/{LLM.doc_id}"' in by_source
    assert f'href="/items/{FORUM.doc_id}"' not in by_source
    assert '<option value="bjnews" selected>' in by_source

    # POLICY is 2024-07-12 09:00 Shanghai; a range ending 07-11 excludes it, one day later not.
    query = {"q": "电子病历", "from": "2024-07-01", "to": "2024-07-11"}
    assert f'href="/items/{POLICY.doc_id}"' not in text(client.get("/search", query_string=query))
    query["to"] = "2024-07-12"
    assert f'href="/items/{POLICY.doc_id}"' in text(client.get("/search", query_string=query))


def test_filters_alone_search_without_terms(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"source": "chinanews"}))
    assert f'href="/items/{BIGDATA.doc_id}"' in page


def test_no_results_says_what_to_try(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(SAMPLE)
    page = text(client.get("/search", query_string={"q": "量子计算"}))
    assert "没有找到匹配的结果" in page and "减少关键词" in page


def test_bad_date_is_explained(client: FlaskClient) -> None:
    response = client.get("/search", query_string={"q": "医保", "from": "7月1日"})
    assert response.status_code == 400
    assert "日期格式应为 YYYY-MM-DD" in text(response)
    reversed_range = client.get("/search", query_string={"from": "2024-07-31", "to": "2024-07-01"})
    assert "开始日期晚于结束日期" in text(reversed_range)


def test_results_paginate_and_keep_the_query(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed(filler(30))
    first = text(client.get("/search", query_string={"q": "全民健康", "sort": "date"}))
    assert "找到 30 条结果" in first
    assert "第 1 页，共 2 页" in first
    assert "page=2" in first and "sort=date" in first
    second = text(client.get("/search", query_string={"q": "全民健康", "sort": "date", "page": 2}))
    assert "第 2 页，共 2 页" in second and "第1条" in second


def test_markup_in_results_is_escaped(
    client: FlaskClient, seed: Callable[[list[Doc]], None]
) -> None:
    seed([HOSTILE])
    page = text(client.get("/search", query_string={"q": "医保"}))
    assert "<mark>医保</mark>" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page
    assert "<b>某网站</b>" not in page
    script = text(client.get("/search", query_string={"q": "<script>"}))
    assert "<script>" not in script
